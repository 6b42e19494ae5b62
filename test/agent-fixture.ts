// A minimal in-memory gateway for the agent tests: frames requests with the
// host/link codec, feeds them to an AgentHost, and decodes what it answers.
// No retransmission or timers: the agent answers synchronously.
import { test as base } from 'vitest';
import { encodeFrame, FrameDecoder } from '../host/link/frame.ts';
import { RequestSigner } from '../host/link/hmac.ts';
import { decodeReply, encodeRequest, type Reply, type ReplyOf, type Request } from '../host/link/messages.ts';
import { fragmentDigest } from '../host/abi/fragment-blob.ts';
import { AgentHost, agentOverhead, type AgentHostOptions } from '../host/sim/agent-host.ts';

export const BUDGET = 32 * 1024;
export const WINDOW = 1024;

type RequestBody<T extends Request['type']> = Omit<Extract<Request, { type: T }>, 'type' | 'seq'>;

export class TestGateway {
  readonly agent: AgentHost;
  /** Raw bytes the agent wrote, in order. */
  readonly wire: Uint8Array[] = [];
  /** Payload of every reply, in order (for checking tags). */
  readonly payloads: Uint8Array[] = [];
  private readonly decoder = new FrameDecoder({ maxPayload: 1 << 21 });
  private pending: Reply[] = [];
  private seq = 0;

  constructor(
    /** `arena`: the memory given is the agent's overhead plus this (default BUDGET). */
    options: Partial<Omit<AgentHostOptions, 'write'>> & { arena?: number } = {},
    private readonly signer?: RequestSigner,
  ) {
    const { arena = BUDGET, ...rest } = options;
    const window = rest.window ?? WINDOW;
    this.agent = new AgentHost({
      memory: agentOverhead(window) + arena,
      window,
      ...rest,
      write: (bytes) => {
        this.wire.push(bytes);
        for (const p of this.decoder.push(bytes)) {
          this.payloads.push(p);
          this.pending.push(decodeReply(p));
        }
      },
    });
  }

  /** Encodes (and signs, for a keyed gateway) one request without sending it. */
  payload<T extends Request['type']>(type: T, body: RequestBody<T>): Uint8Array {
    const msg = { type, seq: ++this.seq, ...body } as Request;
    return this.signer ? this.signer.encode(msg) : encodeRequest(msg);
  }

  /** Feeds raw bytes, lets the agent finish its work, and returns every reply. */
  feed(bytes: Uint8Array): Reply[] {
    this.agent.feed(bytes);
    this.agent.drain();
    const out = this.pending;
    this.pending = [];
    return out;
  }

  send<T extends Request['type']>(type: T, body: RequestBody<T>): Reply[] {
    return this.feed(encodeFrame(this.payload(type, body)));
  }

  /** Sends one request and returns its only reply. */
  ask<T extends Request['type']>(type: T, body: RequestBody<T>): Reply {
    const replies = this.send(type, body);
    if (replies.length !== 1) throw new Error(`${type}: expected one reply, got ${replies.length}: ${JSON.stringify(replies)}`);
    return replies[0];
  }

  hello(): ReplyOf<'HELLO'> {
    return this.ask('HELLO', {}) as ReplyOf<'HELLO'>;
  }

  /** LOADs a blob in chunks of `chunk` data bytes; returns the reply to the last chunk sent. */
  load(frag: number, blob: Uint8Array, arena: number, chunk = 600, digest = fragmentDigest(blob)): Reply {
    let last!: Reply;
    for (let offset = 0; offset < blob.length || offset === 0; offset += chunk) {
      const data = blob.subarray(offset, offset + chunk);
      const first = offset === 0 ? { total: blob.length, digest, arena } : {};
      last = this.ask('LOAD', { frag, offset, data, ...first });
      if (last.type !== 'ACK') break;
    }
    return last;
  }

  /** RUNs a fragment on `input` in chunks; returns every reply (ACKs, then RESULT or ERROR). */
  run(frag: number, input: Uint8Array, chunk = 600): Reply[] {
    const replies: Reply[] = [];
    for (let offset = 0; offset < input.length; offset += chunk) {
      const data = input.subarray(offset, offset + chunk);
      replies.push(...this.send('RUN', { frag, offset, data, ...(offset === 0 && { total: input.length }) }));
    }
    return replies;
  }
}

export const test = base.extend<{ gateway: TestGateway }>({
  // eslint-disable-next-line no-empty-pattern
  gateway: async ({}, use) => {
    await use(new TestGateway());
  },
});

export function expectReply<T extends Reply['type']>(r: Reply, type: T): ReplyOf<T> {
  if (r.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(r)}`);
  return r as ReplyOf<T>;
}
