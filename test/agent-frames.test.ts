// Property: a random stream of frames (valid requests, corrupted frames,
// line noise), split at random byte boundaries, is decoded the same way by
// the agent's AssemblyScript decoder and by the gateway's TypeScript one; and
// every frame the agent writes is byte for byte what the TypeScript encoder
// writes for the same payload.
import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from '../host/link/frame.ts';
import { decodeReply, decodeRequest, encodeRequest, PROTOCOL_VERSION, type Reply, type Request } from '../host/link/messages.ts';
import { AgentHost, agentOverhead } from '../host/sim/agent-host.ts';

const WINDOW = 1024;

const seq = fc.integer({ min: 0, max: 0xffffffff });
const request: fc.Arbitrary<Request> = fc.oneof(
  fc.record({ type: fc.constant('PING' as const), seq }),
  fc.record({ type: fc.constant('HELLO' as const), seq }),
  // No fragment is loaded, so the agent answers NO_FRAGMENT naming the id: the data bytes (zeros included) still cross COBS.
  fc.record({ type: fc.constant('RUN' as const), seq, frag: seq, offset: fc.constant(0), data: fc.uint8Array({ maxLength: 400 }), total: fc.nat(1000) }),
);
const item = fc.oneof(
  { weight: 4, arbitrary: request.map((r) => encodeFrame(encodeRequest(r))) },
  // One byte of a frame changed to another non-zero value.
  {
    weight: 1,
    arbitrary: fc.tuple(request, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([r, at, x]) => {
      const f = encodeFrame(encodeRequest(r));
      const i = at % (f.length - 1);
      f[i] = f[i] ^ x || 1;
      return f;
    }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 50 }).map((n) => Uint8Array.of(...n.map((b) => b || 7), 0)) },
);

/** What the agent must answer to a payload the TypeScript side decoded. */
function expectedReply(payload: Uint8Array): Partial<Reply> {
  let req: Request;
  try {
    req = decodeRequest(payload);
  } catch {
    return { type: 'ERROR' };
  }
  if (req.type === 'RUN') return { type: 'ERROR', seq: req.seq, code: 8, text: `RUN of fragment ${req.frag}, which is not loaded` };
  return { type: req.type, seq: req.seq } as Partial<Reply>;
}

function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  return [0, ...at].map((p, i, all) => bytes.subarray(p, all[i + 1] ?? bytes.length));
}

describe('frame streams', () => {
  it('decode identically in the agent and in the gateway, split anywhere', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (items, points) => {
        const stream = Uint8Array.from(items.flatMap((f) => [...f]));
        const written: Uint8Array[] = [];
        const agent = new AgentHost({ memory: agentOverhead(WINDOW) + 4096, window: WINDOW, write: (b) => written.push(b) });
        const gateway = new FrameDecoder({ maxPayload: WINDOW });
        const payloads: Uint8Array[] = [];
        for (const piece of cut(stream, points)) {
          payloads.push(...gateway.push(piece));
          agent.feed(piece);
        }
        const wire = Uint8Array.from(written.flatMap((b) => [...b]));
        const replyPayloads = new FrameDecoder({ maxPayload: 1 << 16 }).push(wire);
        expect(replyPayloads.map((p) => decodeReply(p))).toEqual(payloads.map((p) => expect.objectContaining(expectedReply(p))));
        // Same payloads, same wire bytes: the agent's COBS/CRC encoder is the gateway's.
        expect(wire).toEqual(Uint8Array.from(replyPayloads.flatMap((p) => [...encodeFrame(p)])));
      }),
      { numRuns: 150 },
    );
  });

  // Values the protocol allows (no floats, no tags), nested.
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
      fc.string({ maxLength: 20 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.array(fc.tuple(fc.string({ maxLength: 5 }), tie('value')), { maxLength: 3 }).map((e) => new Map(e)),
    ),
  }));
  const cbor = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true, mapsAsObjects: false });

  it('skip unknown keys, whatever they hold, on both sides', () => {
    fc.assert(
      fc.property(seq, fc.array(fc.tuple(fc.oneof(fc.integer({ min: 24, max: 100000 }), fc.string({ maxLength: 6 })), value), { maxLength: 5 }), (s, extra) => {
        const map = new Map<unknown, unknown>([[0, 2], [1, s], ...extra]);
        const payload = Uint8Array.of(PROTOCOL_VERSION, ...cbor.encode(map));
        fc.pre(payload.length < WINDOW - 32); // stays one frame inside the window
        expect(decodeRequest(payload)).toEqual({ type: 'PING', seq: s });
        const written: Uint8Array[] = [];
        const agent = new AgentHost({ memory: agentOverhead(WINDOW) + 4096, window: WINDOW, write: (b) => written.push(b) });
        agent.feed(encodeFrame(payload));
        const replies = new FrameDecoder({ maxPayload: WINDOW }).push(Uint8Array.from(written.flatMap((b) => [...b])));
        expect(replies.map((p) => decodeReply(p))).toEqual([expect.objectContaining({ type: 'PING', seq: s })]);
      }),
      { numRuns: 100 },
    );
  });
});
