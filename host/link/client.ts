// The gateway's side of one device: the HELLO handshake, request/response
// matching, timeouts, and the chunked transfers of docs/protocol.md section 3
// (windowed acknowledgement, go-back-N retransmission on an adaptive timer,
// a time budget per transfer).
// Everything above it (host/run/) speaks to devices only through this class.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { encodeFrame, FrameDecoder, frameWireSize } from './frame.ts';
import { chacha20, errorBinding, replyTagValid, RequestSigner, resultBinding, routeKey, sealKey, TO_GATEWAY, TO_HOST } from './hmac.ts';
import {
  AUTHENTICATED,
  decodeReply,
  encodeRequest,
  ErrorCode,
  errorCodeName,
  PROTOCOL_VERSION,
  ProtocolError,
  TAG_BYTES,
  type ErrorCodeName,
  type ProfileOp,
  type Reply,
  type ReplyOf,
  type Request,
} from './messages.ts';
import { DEFAULT_LINK_BYTES_PER_SEC, RetransmitTimer, transferBudgetMs } from './retransmit.ts';
import { chunks, type Transport } from './transport.ts';

/** What a device says about itself in its HELLO reply. */
export type DeviceInfo = Omit<ReplyOf<'HELLO'>, 'type' | 'seq'>;

/** Why an operation on a device failed: a device ERROR code, or a gateway-side cause. */
export type DeviceErrorCode = ErrorCodeName | 'TIMEOUT' | 'DISCONNECTED' | 'CANCELED' | 'VERSION' | 'NO_KEY' | 'FORGED';

/** An operation on a device failed; the message names the device and the operation. */
export class DeviceError extends Error {
  constructor(
    readonly device: string,
    readonly code: DeviceErrorCode,
    message: string,
  ) {
    super(`${device}: ${message}`);
    this.name = 'DeviceError';
  }
}

export interface ClientOptions {
  /** Name used in errors and events. Default: the transport's address. */
  name?: string;
  /** Give up the HELLO handshake after this long. Default 10000 ms. */
  connectTimeoutMs?: number;
  /** Interval between HELLOs while connecting. Default 200 ms. */
  helloIntervalMs?: number;
  /** Wait for a reply to a small request (HELLO, PING, CANCEL...) this long before resending. Default 1000 ms. */
  requestTimeoutMs?: number;
  /** Initial wait for a chunk's ACK before resending; then it follows the measured round trip (RFC 6298). Default 2000 ms. */
  ackTimeoutMs?: number;
  /** The link's rate, bytes/s, for transfer budgets. Default 11520 (115200 baud). */
  linkBytesPerSec?: number;
  /** A LOAD or RUN transfer is given up after 8 times its time on the line, and never before this. Default 20000 ms. */
  minTransferMs?: number;
  /** Resends of one small request, and restarts of a RUN or of a transfer the device lost, before giving up. Default 8. */
  retries?: number;
  /** Wait for a RESULT after the input is complete. Default 10000 ms (override per run). */
  resultTimeoutMs?: number;
  /** Device key: LOAD, RUN, CANCEL, UNLOAD and RESET are then signed. */
  key?: Uint8Array;
  /** With a key: LOAD and RUN data and RESULT data cross the link encrypted (ChaCha20, docs/protocol.md section 4). */
  encrypt?: boolean;
  /** Largest reply payload accepted. Default 2 MiB. */
  maxReplyBytes?: number;
  /** Refuse a device whose kernel ABI hash differs. */
  expectAbi?: number;
}

export interface TransferProgress {
  sent: number;
  total: number;
}

export interface LoadOptions {
  /** Activation bytes the fragment needs in the device's arena (the planner's number). */
  arena: number;
  /** SHA-256 of the blob, 32 bytes. */
  digest: Uint8Array;
  onProgress?: (p: TransferProgress) => void;
}

export interface RunOptions {
  /** Deadline for the whole RUN from this call (queueing, transfer, compute); on expiry the RUN is cancelled. */
  timeoutMs?: number;
  /** SHA-256 of the fragment's blob, which a keyed device's RESULT tag covers. Default: the digest this client loaded it with. */
  digest?: Uint8Array;
  /** Aborting cancels the RUN on the device (e.g. a replica that lost the race). */
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
  /** For the device's host: output ranges to forward to other devices (host/link/forwards.ts), on the opening chunk. */
  forwards?: Uint8Array;
  /**
   * The input is a run several senders fill (docs/protocol.md section 3):
   * its nonzero id, the byte ranges other devices forward (this client sends
   * the rest), and how long to wait for the RESULT before sending those ranges
   * itself from `input` (a forward lost with its device).
   */
  mesh?: { run: number; forwarded: readonly { offset: number; bytes: number }[]; waitMs: number };
}

export interface RunResult {
  /** The fragment's output box, as the device computed it. */
  output: Uint8Array;
  /** The device's arena high-water mark since it started, bytes. */
  highWater: number;
  /** Microseconds the device spent in kernels. */
  computeUs: number;
  /** Wall-clock milliseconds from the first chunk sent to the RESULT received. */
  elapsedMs: number;
}

/** Wire accounting, for benchmarks and diagnostics. */
export interface LinkStats {
  bytesOut: number;
  bytesIn: number;
  framesOut: number;
  framesIn: number;
  /** Frames sent again: chunks after a timeout or a go-back, requests after a timeout, RUN inputs restarted. */
  retransmits: number;
  /** Wire bytes of those frames (part of bytesOut). */
  bytesRetransmitted: number;
  /** Acknowledgement timers that expired. */
  timeouts: number;
  /** Received frames dropped for COBS, CRC or size. */
  badFrames: number;
  /** Received frames with a good CRC that were not valid replies. */
  badReplies: number;
  /** Keyed devices: HELLO, RESULT or ERROR replies whose tag did not verify for the request they answer (forged, replayed, swapped); never used. */
  forgedReplies: number;
  /** Runs whose forwarded ranges did not complete the input in time, so this gateway sent them itself (docs/protocol.md section 3). */
  forwardsLate: number;
}

export interface DeviceClientEvents {
  /** The link broke; every pending operation has been rejected. */
  disconnect: [DeviceError];
  /** A device ERROR that answered no pending request (e.g. seq 0: a frame it could not read). */
  unsolicited: [ReplyOf<'ERROR'>];
}

type Accept = (r: Reply) => boolean;

/** Replies routed to one operation, awaited with a deadline. */
class Mailbox {
  /** Sequence numbers of the requests this operation sent. */
  readonly seqs = new Set<number>();
  /** Keyed devices: (session, counter) of every signed copy sent, by seq: a reply's tag covers its request's. */
  readonly signed = new Map<number, [number, number][]>();
  /** RUN: (session, counter) of every chunk sent at offset 0 (any chunk of a run); one of them opened the input a RESULT answers. */
  readonly opened: [number, number][] = [];
  /** HELLO: the nonce sent, which the reply's tag covers. */
  nonce?: Uint8Array;
  /** RUN: the fragment's digest, which the RESULT's tag covers. */
  digest?: Uint8Array;
  /** RUN: an ACK said the input is complete. */
  inputDone = false;
  /** Rejects when the operation fails from outside (abort, deadline, link loss). */
  readonly failed: Promise<never>;
  private items: Reply[] = [];
  private wake?: () => void;
  private failure?: Error;
  private rejectFailed!: (e: Error) => void;

  constructor(readonly accept: Accept) {
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined); // observed by whoever races it
  }

  push(r: Reply): void {
    this.items.push(r);
    this.wake?.();
  }

  fail(e: Error): void {
    this.failure ??= e;
    this.rejectFailed(this.failure);
    this.wake?.();
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** The next reply, or undefined at `deadline` (a performance.now() time). */
  async next(deadline: number): Promise<Reply | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      const r = this.items.shift();
      if (r) return r;
      const wait = deadline - performance.now();
      if (wait <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        this.wake = done;
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
      this.wake = undefined;
    }
  }
}

interface Chunk {
  seq: number;
  offset: number;
  end: number;
  wire: number;
  sentAt: number;
}

type TransferKind = 'LOAD' | 'RUN';

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  helloIntervalMs: 200,
  requestTimeoutMs: 1000,
  ackTimeoutMs: 2000,
  linkBytesPerSec: DEFAULT_LINK_BYTES_PER_SEC,
  minTransferMs: 20_000,
  retries: 8,
  resultTimeoutMs: 10_000,
  maxReplyBytes: 2 * 1024 * 1024,
};

/** Upper bound of a uint field on the wire, for sizing chunk headers. */
const MAX_U32 = 0xffffffff;

/**
 * One device over one transport. Create with `DeviceClient.connect`.
 *
 * Requests that change the device (LOAD, RUN, UNLOAD, RESET, PROFILE) run one
 * at a time, in call order, as the agent handles one transfer of each kind
 * and one computation at a time. HELLO, PING and CANCEL go out at once.
 */
export class DeviceClient extends EventEmitter<DeviceClientEvents> {
  readonly name: string;
  readonly stats: LinkStats = {
    bytesOut: 0, bytesIn: 0, framesOut: 0, framesIn: 0, retransmits: 0, bytesRetransmitted: 0, timeouts: 0, badFrames: 0, badReplies: 0, forgedReplies: 0, forwardsLate: 0,
  };
  private readonly opts: typeof DEFAULTS & ClientOptions;
  private readonly decoder: FrameDecoder;
  /** Round-trip estimate of this link, kept across transfers. */
  private readonly timer: RetransmitTimer;
  private readonly mailboxes = new Set<Mailbox>();
  private signer?: RequestSigner;
  /** Digest of each fragment this client loaded: a keyed device's RESULT is checked against it. */
  private readonly digests = new Map<number, Uint8Array>();
  private seq = 0;
  private sending: Promise<void> = Promise.resolve();
  private exclusive: Promise<unknown> = Promise.resolve();
  private failure?: DeviceError;
  private reader?: Promise<void>;
  private _info?: DeviceInfo;

  private constructor(
    private readonly transport: Transport,
    opts: ClientOptions,
  ) {
    super();
    this.opts = { ...DEFAULTS, ...opts };
    this.name = opts.name ?? transport.address;
    this.decoder = new FrameDecoder({ maxPayload: this.opts.maxReplyBytes });
    this.timer = new RetransmitTimer(this.opts.ackTimeoutMs);
  }

  /**
   * Opens the conversation: sends HELLO every `helloIntervalMs` until the
   * device answers (bytes written to a PTY before the device opened it are
   * lost, and a booting board answers nothing), then checks the protocol
   * version and, if asked, the kernel ABI.
   */
  static async connect(transport: Transport, opts: ClientOptions = {}): Promise<DeviceClient> {
    const c = new DeviceClient(transport, opts);
    c.reader = c.readLoop();
    try {
      await c.handshake();
      return c;
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  /** The device's HELLO from the handshake or the last hello(). */
  get info(): DeviceInfo {
    return this._info!;
  }

  get isOpen(): boolean {
    return !this.failure;
  }

  /** The transport's address (e.g. tcp://127.0.0.1:4000). */
  get address(): string {
    return this.transport.address;
  }

  /** A keyed device: the key its forwarded chunks of `run` are tagged with in its current session (docs/protocol.md section 3); undefined when unkeyed. */
  routeKey(run: number): Uint8Array | undefined {
    return this.opts.key && this.signer ? routeKey(this.opts.key, this.signer.session, run) : undefined;
  }

  /** A keyed device: `data` (a consumer's route key for `run`) sealed for this device's host, under its key and session. */
  sealForHost(run: number, data: Uint8Array): Uint8Array | undefined {
    return this.opts.key && this.signer ? chacha20(sealKey(this.opts.key), TO_HOST, this.signer.session, run, data) : undefined;
  }

  /** Asks the device for its capabilities and state again. */
  async hello(): Promise<DeviceInfo> {
    const r = (await this.request({ type: 'HELLO', seq: 0 }, 'HELLO', 'HELLO')) as ReplyOf<'HELLO'>;
    return this.accepted(r);
  }

  /** Round trip to the device; returns its clock (µs, low 32 bits) and the round-trip time. */
  async ping(): Promise<{ clock: number; rttMs: number }> {
    const t0 = performance.now();
    const r = (await this.request({ type: 'PING', seq: 0 }, 'PING', 'PING')) as ReplyOf<'PING'>;
    return { clock: r.clock, rttMs: performance.now() - t0 };
  }

  /** Runs the on-device micro-benchmark: MAC/s per op type, measured with the device's clock. */
  profile(macs?: number, timeoutMs = 30_000): Promise<Record<ProfileOp, number>> {
    return this.serial(async () => {
      const r = (await this.request({ type: 'PROFILE', seq: 0, macs }, 'PROFILE', 'PROFILE', timeoutMs)) as ReplyOf<'PROFILE'>;
      return r.rates;
    });
  }

  /**
   * Sends a fragment blob in chunks and waits until the device has verified
   * and committed it. Rejects with the device's ERROR (e.g. NO_MEMORY, whose
   * text gives the bytes asked and free) or when its time budget is spent.
   */
  load(frag: number, blob: Uint8Array, opts: LoadOptions): Promise<void> {
    return this.serial(async () => {
      const what = `LOAD fragment ${frag}`;
      const box = this.transferMailbox();
      try {
        await this.transfer(box, 'LOAD', frag, blob, { total: blob.length, digest: opts.digest, arena: opts.arena }, what, opts.onProgress);
        this.digests.set(frag, Uint8Array.from(opts.digest));
      } finally {
        this.mailboxes.delete(box);
      }
    });
  }

  /**
   * Sends an input tile for a committed fragment and waits for its RESULT.
   * A lost RESULT or an interrupted transfer restarts the RUN from its first
   * byte (the device's answer for the same input is the same), within the
   * retry bound. The deadline and the abort signal act at once, also while
   * the RUN waits behind earlier operations; a RUN already on the link is
   * then cancelled on the device (CANCEL sent, not awaited).
   */
  run(frag: number, input: Uint8Array, opts: RunOptions = {}): Promise<RunResult> {
    const what = `RUN fragment ${frag}`;
    const t0 = performance.now();
    // A run's RESULT may answer a chunk another device forwarded: it is matched by fragment and run.
    const box = this.transferMailbox(opts.mesh && { frag, run: opts.mesh.run });
    box.digest = opts.digest ?? this.digests.get(frag);
    if (this.opts.key && !box.digest)
      return Promise.reject(
        new DeviceError(this.name, 'NO_KEY', `${what}: a keyed device's RESULT is checked against the fragment's digest; load it through this connection or pass its digest`),
      );
    const abort = () => box.fail(new DeviceError(this.name, 'CANCELED', `${what}: cancelled`));
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => box.fail(new DeviceError(this.name, 'TIMEOUT', `${what}: no RESULT within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    opts.signal?.addEventListener('abort', abort, { once: true });
    if (opts.signal?.aborted) abort();
    let started = false;
    const work = this.serial(async () => {
      box.throwIfFailed();
      started = true;
      if (opts.mesh) {
        const r = await this.runMesh(box, frag, input, opts.mesh, opts.forwards, what);
        return { output: r.data, highWater: r.highWater, computeUs: r.computeUs, elapsedMs: performance.now() - t0 };
      }
      const first = { total: input.length, ...(opts.forwards && { forwards: opts.forwards }) };
      for (let attempt = 0; ; attempt++) {
        const early = await this.transfer(box, 'RUN', frag, input, first, what, opts.onProgress, attempt > 0).catch((e: unknown) => {
          // A resend finding the device still computing the first attempt: its RESULT is still to come.
          if (attempt > 0 && e instanceof DeviceError && e.code === 'BUSY') return undefined;
          throw e;
        });
        const r = early ?? (await this.awaitResult(box, what));
        if (r) return { output: r.data, highWater: r.highWater, computeUs: r.computeUs, elapsedMs: performance.now() - t0 };
        if (attempt >= this.opts.retries) throw new DeviceError(this.name, 'TIMEOUT', `${what}: no RESULT after ${attempt + 1} attempts`);
      }
    });
    return Promise.race([work, box.failed])
      .catch((e: unknown) => {
        const stopped = e instanceof DeviceError && (e.code === 'CANCELED' || e.code === 'TIMEOUT');
        if (stopped && started && this.isOpen) void this.cancel(frag).catch(() => undefined);
        throw e;
      })
      .finally(() => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', abort);
        this.mailboxes.delete(box);
      });
  }

  /**
   * A run's input (docs/protocol.md section 3): sends what no other device
   * forwards, each range go-back-N from its start, then waits `waitMs` for
   * the RESULT; without one it sends the forwarded ranges too (the device
   * keeps what it has and takes the rest) and waits as for any RUN.
   */
  private async runMesh(
    box: Mailbox,
    frag: number,
    input: Uint8Array,
    mesh: NonNullable<RunOptions['mesh']>,
    forwards: Uint8Array | undefined,
    what: string,
  ): Promise<ReplyOf<'RESULT'>> {
    const every = { total: input.length, run: mesh.run };
    const forwarded = [...mesh.forwarded].sort((a, b) => a.offset - b.offset);
    const own: [number, number][] = [];
    let at = 0;
    for (const r of forwarded) {
      if (r.offset > at) own.push([at, r.offset]);
      at = Math.max(at, r.offset + r.bytes);
    }
    if (at < input.length || own.length === 0) own.push([at, input.length]);
    const send = async (ranges: [number, number][], firstExtra?: object) => {
      if (box.inputDone) return undefined;
      const data = Buffer.concat(ranges.map(([s, e]) => input.subarray(s, e)));
      const layout = ranges.map(([s, e]) => ({ base: s, length: e - s }));
      return this.transfer(box, 'RUN', frag, data, { ...every, ...firstExtra }, what, undefined, false, { ranges: layout, every });
    };
    const early = await send(own, forwards && { forwards });
    if (early) return early;
    const r = await this.awaitResult(box, what, mesh.waitMs);
    if (r) return r;
    this.stats.forwardsLate++;
    // The forwards arrived after all while these went out: the device computes, its RESULT is to come.
    const late = await send(forwarded.map((x) => [x.offset, x.offset + x.bytes])).catch((e: unknown) => {
      if (e instanceof DeviceError && e.code === 'BUSY') return undefined;
      throw e;
    });
    const result = late ?? (await this.awaitResult(box, what));
    if (!result) throw new DeviceError(this.name, 'TIMEOUT', `${what}: no RESULT after its whole input was sent`);
    return result;
  }

  /** Stops a RUN of `frag` in progress on the device (acknowledged even if none runs). */
  async cancel(frag: number): Promise<void> {
    await this.request({ type: 'CANCEL', seq: 0, frag }, 'ACK', `CANCEL fragment ${frag}`);
  }

  /** Frees a committed fragment on the device. */
  unload(frag: number): Promise<void> {
    return this.serial(async () => {
      await this.request({ type: 'UNLOAD', seq: 0, frag }, 'ACK', `UNLOAD fragment ${frag}`);
      this.digests.delete(frag);
    });
  }

  /** Frees every fragment and transfer on the device. */
  reset(): Promise<void> {
    return this.serial(async () => {
      await this.request({ type: 'RESET', seq: 0 }, 'ACK', 'RESET');
      this.digests.clear();
    });
  }

  /** Closes the link; pending operations reject. */
  async close(): Promise<void> {
    this.fail(new DeviceError(this.name, 'CANCELED', 'connection closed'), false);
    await this.transport.close();
    await this.reader;
  }

  // --- internals -----------------------------------------------------------

  private async handshake(): Promise<DeviceInfo> {
    const seq = this.nextSeq();
    const box = this.mailbox((r) => r.seq === seq && r.type === 'HELLO');
    const giveUp = performance.now() + this.opts.connectTimeoutMs;
    this.connecting = box;
    const hello = this.helloRequest(seq, box);
    try {
      while (performance.now() < giveUp) {
        await this.send(hello);
        const r = await box.next(Math.min(giveUp, performance.now() + this.opts.helloIntervalMs));
        if (r) return this.accepted(r as ReplyOf<'HELLO'>);
      }
      throw new DeviceError(this.name, 'TIMEOUT', `no HELLO reply within ${this.opts.connectTimeoutMs} ms (is a device on this link?)`);
    } finally {
      this.connecting = undefined;
      this.mailboxes.delete(box);
    }
  }

  /** The handshake's mailbox: a frame of another protocol version fails it with a clear message. */
  private connecting?: Mailbox;

  private accepted(r: ReplyOf<'HELLO'>): DeviceInfo {
    const { type: _t, seq: _s, ...info } = r;
    if (info.version !== PROTOCOL_VERSION)
      throw new DeviceError(this.name, 'VERSION', `device speaks protocol version ${info.version}; this gateway speaks version ${PROTOCOL_VERSION}`);
    if (this.opts.expectAbi !== undefined && info.abi !== this.opts.expectAbi)
      throw new DeviceError(
        this.name,
        'VERSION',
        `device kernel ABI hash 0x${info.abi.toString(16)} differs from this gateway's 0x${this.opts.expectAbi.toString(16)}: the two were built from different spec/abi.json; rebuild the agent (npm run build:wasm) and reflash the device`,
      );
    this.follow(info);
    this._info = info;
    return info;
  }

  /**
   * Keeps the signer in the device's session: a device that restarted has a
   * new one, in which our earlier counters mean nothing. A gateway with a key
   * refuses a device that says it has none, which anyone on the link could
   * claim to make it send unsigned requests.
   */
  private follow(info: DeviceInfo): void {
    const key = this.opts.key;
    if (!key) return;
    if (info.keyed !== 1)
      throw new DeviceError(this.name, 'NO_KEY', 'the gateway has a key for this device, but the device says it is not keyed; provision it (microsplit provision) or connect without a key');
    if (this.signer?.session !== info.session) this.signer = new RequestSigner(key, info.session, info.counter, this.opts.encrypt);
  }

  /** A HELLO; with a key, it carries a fresh nonce that the reply's tag must cover. */
  private helloRequest(seq: number, box: Mailbox): Request {
    if (!this.opts.key) return { type: 'HELLO', seq };
    box.nonce = new Uint8Array(randomBytes(16));
    return { type: 'HELLO', seq, nonce: box.nonce };
  }

  /** Sends a small request and waits for its reply, resending on timeout. */
  private async request(msg: Request, expect: Reply['type'], what: string, timeoutMs = this.opts.requestTimeoutMs): Promise<Reply> {
    const seq = this.nextSeq();
    const box = this.mailbox((r) => r.seq === seq && (r.type === expect || r.type === 'ERROR'));
    if (msg.type === 'HELLO') msg = this.helloRequest(seq, box);
    try {
      for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
        const wire = await this.send({ ...msg, seq } as Request, box);
        if (attempt > 0) this.countResend(wire);
        const r = await box.next(performance.now() + timeoutMs);
        if (!r) continue;
        if (r.type === 'ERROR') {
          // A resent UNLOAD whose first ACK was lost finds nothing to free.
          if (attempt > 0 && msg.type === 'UNLOAD' && errorCodeName(r.code) === 'NO_FRAGMENT') return { type: 'ACK', seq };
          throw this.deviceError(r, what);
        }
        return r;
      }
      throw new DeviceError(this.name, 'TIMEOUT', `${what}: no reply after ${this.opts.retries + 1} attempts of ${timeoutMs} ms`);
    } finally {
      this.mailboxes.delete(box);
    }
  }

  /** A mailbox taking the replies (ACK, ERROR, RESULT) to the chunks an operation sent; for a run, also its RESULT to any chunk. */
  private transferMailbox(run?: { frag: number; run: number }): Mailbox {
    const box: Mailbox = this.mailbox(
      (r) =>
        (box.seqs.has(r.seq) && (r.type === 'ACK' || r.type === 'ERROR' || r.type === 'RESULT')) ||
        (run !== undefined && r.type === 'RESULT' && r.frag === run.frag && r.run === run.run),
    );
    return box;
  }

  /**
   * Go-back-N transfer of `data` (docs/protocol.md section 3). Resolves when
   * the device acknowledged the whole transfer as done; for a RUN it may
   * instead return the RESULT if that overtook the last ACK.
   */
  private async transfer(
    box: Mailbox,
    kind: TransferKind,
    frag: number,
    data: Uint8Array,
    first: { total: number; digest?: Uint8Array; arena?: number },
    what: string,
    onProgress?: (p: TransferProgress) => void,
    resend = false,
    /**
     * Ranges of a run's input (docs/protocol.md section 3): `data` is the
     * bytes of `ranges` one after another, sent as one window-paced stream
     * of chunks that never span two ranges, each chunk carrying `every` and
     * its range's start as `from`.
     */
    run?: { ranges: readonly { base: number; length: number }[]; every: object },
  ): Promise<ReplyOf<'RESULT'> | undefined> {
    this.requireKey(kind, what);
    const window = this.info.window;
    const { dataBytes, header } = this.chunkSize(kind, frag, { ...(run && { ...run.every, from: MAX_U32 }), ...first }, window);
    const total = data.length;
    const ranges = run?.ranges ?? [{ base: 0, length: total }];
    /** Where each range starts in `data`. */
    const starts = ranges.map((_, i) => ranges.slice(0, i).reduce((a, r) => a + r.length, 0));
    const rangeAt = (at: number) => Math.max(0, starts.findLastIndex((s, i) => s <= at && (at < s + ranges[i].length || i === ranges.length - 1)));
    /** The range each chunk of this transfer belongs to, by seq. */
    const rangeOf = new Map<number, number>();
    const wireBytes = Math.max(1, Math.ceil(total / dataBytes)) * frameWireSize(header + dataBytes);
    const budgetMs = transferBudgetMs(wireBytes, this.opts.linkBytesPerSec, this.opts.minTransferMs);
    const giveUpAt = performance.now() + budgetMs;
    /** When each chunk of this transfer went out, by seq: every ACK names its chunk, so each is a round-trip sample. */
    const sentAt = new Map<number, number>();
    let acked = 0; // the device's `next`
    let sendAt = 0;
    let highestSent = resend ? total : 0;
    let inFlight: Chunk[] = [];
    let restarts = 0;
    // After a timeout one chunk goes out at a time until the device
    // acknowledges new data: the line may still carry the earlier copies,
    // and a whole window more would only lengthen the queue (and the round
    // trip) that made the timer fire.
    let oneAtATime = false;
    /** When the acknowledgement timer was (re)started: at a send with nothing outstanding, and at each ACK of new data. */
    let timerFrom = performance.now();
    const goBack = (to: number) => {
      sendAt = to;
      inFlight = [];
    };
    for (;;) {
      // Fill the window: unacknowledged chunks stay within W wire bytes.
      while (sendAt < total || (sendAt === 0 && inFlight.length === 0)) {
        const ri = rangeAt(sendAt);
        const end = Math.min(starts[ri] + ranges[ri].length, sendAt + dataBytes);
        const bound = frameWireSize(header + end - sendAt);
        if (inFlight.length > 0 && (oneAtATime || inFlight.reduce((n, c) => n + c.wire, 0) + bound > window)) break;
        const seq = this.nextSeq();
        box.seqs.add(seq);
        rangeOf.set(seq, ri);
        const payload = this.encode(
          {
            type: kind,
            seq,
            frag,
            offset: ranges[ri].base + sendAt - starts[ri],
            data: data.subarray(sendAt, end),
            ...(run && { ...run.every, from: ranges[ri].base }),
            ...(sendAt === 0 ? first : {}),
          } as Request,
          box,
        );
        const now = performance.now();
        if (inFlight.length === 0) timerFrom = now;
        inFlight.push({ seq, offset: sendAt, end, wire: frameWireSize(payload.length), sentAt: now });
        sentAt.set(seq, now);
        const wire = await this.sendPayload(payload);
        if (sendAt < highestSent) this.countResend(wire);
        highestSent = Math.max(highestSent, end);
        sendAt = end;
        if (end === total) break;
      }
      const r = await box.next(Math.min(giveUpAt, timerFrom + this.timer.timeoutMs));
      const now = performance.now();
      if (!r) {
        if (now >= giveUpAt)
          throw new DeviceError(
            this.name,
            'TIMEOUT',
            `${what}: not acknowledged within its budget of ${(budgetMs / 1000).toFixed(1)} s ` +
              `(${wireBytes} bytes at ${this.opts.linkBytesPerSec} bytes/s; device has ${acked} of ${total} bytes)`,
          );
        this.stats.timeouts++;
        this.timer.expired();
        oneAtATime = true;
        goBack(acked);
        continue;
      }
      if (r.type === 'RESULT') return r;
      const chunk = inFlight.find((c) => c.seq === r.seq);
      if (r.type === 'ERROR') {
        if (errorCodeName(r.code) !== 'BAD_TRANSFER' || chunk?.offset === 0) throw this.deviceError(r, what);
        // The device has no transfer open for a later chunk: the first chunk
        // was lost, or the final ACK was and the transfer already closed.
        // Offset 0 reopens it. Complaints about superseded chunks are ignored.
        if (!chunk) continue;
        if (++restarts > this.opts.retries) throw this.deviceError(r, what);
        acked = 0;
        goBack(0);
        continue;
      }
      if (r.type !== 'ACK') continue;
      const sent = sentAt.get(r.seq);
      // An answer to an earlier attempt of this RUN describes a transfer since replaced.
      if (sent === undefined) continue;
      this.timer.sample(now - sent);
      const next = this.streamNext(r.next, acked, rangeOf.get(r.seq), ranges, starts);
      if (next !== acked) {
        // The link keeps order, so each ACK is the device's latest state. Its
        // `next` only falls when the device started the transfer over: a late
        // copy of the first chunk reopens it. Sending on from our own count
        // would then be refused for good; resend from the device's.
        if (next < acked) goBack(next);
        else {
          timerFrom = now;
          oneAtATime = false;
        }
        acked = next;
        onProgress?.({ sent: acked, total });
      }
      if (r.done === 1) box.inputDone = true;
      if (r.done === 1 || (run && acked >= total)) return undefined;
      // Chunks the device has, including copies superseded by a go-back, no longer hold the window.
      inFlight = inFlight.filter((c) => c.end > acked);
      // The device refused this chunk (a gap before it): resend from its `next`.
      if (chunk && next < chunk.end) goBack(acked);
      else if (sendAt < acked) sendAt = acked;
    }
  }

  /**
   * An ACK's `next` as a position in the stream of `ranges` (all of it for a
   * single-sender transfer). A run's ACK counts from its chunk's range start,
   * and may run past that range into what other senders sent: clamped to the
   * range. It says nothing of earlier ranges, so it moves the stream only
   * once they are acknowledged; otherwise the position stays (and the
   * transfer resends from there).
   */
  private streamNext(next: number | undefined, acked: number, ri: number | undefined, ranges: readonly { base: number; length: number }[], starts: number[]): number {
    if (next === undefined || ri === undefined) return acked;
    const at = starts[ri] + Math.min(ranges[ri].length, Math.max(0, next - ranges[ri].base));
    return at > acked && acked < starts[ri] ? acked : at;
  }

  /** Waits for the RESULT of a RUN whose input is complete; undefined when it timed out (resend the RUN). */
  private async awaitResult(box: Mailbox, what: string, timeoutMs = this.opts.resultTimeoutMs): Promise<ReplyOf<'RESULT'> | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const r = await box.next(deadline);
      if (!r) return undefined;
      if (r.type === 'RESULT') return r;
      // A chunk resent after a late ACK reaches the device once the input is
      // complete; its BAD_TRANSFER complaint is stale, the RESULT still comes.
      if (r.type === 'ERROR' && errorCodeName(r.code) !== 'BAD_TRANSFER') throw this.deviceError(r, what);
    }
  }

  /**
   * Data bytes per chunk: the frame is about half the window, so two chunks
   * are in flight while one is acknowledged; the whole window when headers
   * would take half of a half-window frame. `header` bounds the payload bytes
   * that are not data.
   */
  private chunkSize(kind: TransferKind, frag: number, first: object, window: number): { dataBytes: number; header: number } {
    const probe = encodeRequest({
      type: kind,
      seq: MAX_U32,
      frag,
      offset: MAX_U32,
      data: new Uint8Array(0),
      ...first,
      ...(this.signer ? { sealed: 1, session: MAX_U32, counter: MAX_U32, tag: new Uint8Array(TAG_BYTES) } : {}),
    } as Request);
    // + 4: a byte-string header grows from 1 to at most 5 bytes with its length.
    const header = probe.length + 4;
    const half = maxPayloadFor(Math.floor(window / 2)) - header;
    const dataBytes = half >= header ? half : maxPayloadFor(window) - header;
    if (dataBytes < 1) throw new DeviceError(this.name, 'TOO_LARGE', `a receive window of ${window} bytes cannot hold a ${kind} chunk`);
    return { dataBytes, header };
  }

  private requireKey(kind: string, what: string): void {
    if (this.info.keyed === 1 && !this.signer)
      throw new DeviceError(this.name, 'NO_KEY', `${what}: the device is keyed and refuses unsigned ${kind}; connect with its key`);
  }

  /** The payload of `msg`, signed for a keyed device; `box` notes what the reply's tag must cover. */
  private encode(msg: Request, box?: Mailbox): Uint8Array {
    if (!this.signer) return encodeRequest(msg);
    const payload = this.signer.encode(msg);
    if (box && AUTHENTICATED.has(msg.type)) {
      const sent: [number, number] = [this.signer.session, this.signer.last];
      box.signed.set(msg.seq, [...(box.signed.get(msg.seq) ?? []), sent]);
      // Any chunk of a run may be the one that opened it.
      if (msg.type === 'RUN' && (msg.offset === 0 || msg.run !== undefined)) box.opened.push(sent);
    }
    return payload;
  }

  /** Sends one request; resolves with its wire bytes. */
  private async send(msg: Request, box?: Mailbox): Promise<number> {
    if (AUTHENTICATED.has(msg.type)) this.requireKey(msg.type, msg.type);
    return this.sendPayload(this.encode(msg, box));
  }

  /** Frames and writes one payload; writes are queued so only one is in flight. Resolves with the frame's wire bytes. */
  private sendPayload(payload: Uint8Array): Promise<number> {
    const frame = encodeFrame(payload);
    const p = this.sending.then(async () => {
      if (this.failure) throw this.failure;
      await this.transport.write(frame);
      this.stats.bytesOut += frame.length;
      this.stats.framesOut++;
      return frame.length;
    });
    this.sending = p.then(
      () => undefined,
      () => undefined,
    );
    return p.catch((e: unknown) => {
      throw this.failure ?? new DeviceError(this.name, 'DISCONNECTED', `write failed: ${(e as Error).message}`);
    });
  }

  private countResend(wireBytes: number): void {
    this.stats.retransmits++;
    this.stats.bytesRetransmitted += wireBytes;
  }

  private async readLoop(): Promise<void> {
    try {
      for await (const bytes of chunks(this.transport)) {
        this.stats.bytesIn += bytes.length;
        const before = this.decoder.stats.corrupt + this.decoder.stats.oversized;
        const frames = this.decoder.push(bytes);
        this.stats.badFrames += this.decoder.stats.corrupt + this.decoder.stats.oversized - before;
        for (const f of frames) this.dispatch(f);
      }
    } catch (e) {
      this.fail(new DeviceError(this.name, 'DISCONNECTED', `link lost: ${(e as Error).message}`), true);
    }
  }

  private dispatch(payload: Uint8Array): void {
    this.stats.framesIn++;
    let r: Reply;
    try {
      r = decodeReply(payload);
    } catch (e) {
      this.stats.badReplies++;
      if (e instanceof ProtocolError && e.code === ErrorCode.BAD_VERSION && this.connecting)
        this.connecting.fail(new DeviceError(this.name, 'VERSION', e.message));
      return;
    }
    const box = [...this.mailboxes].find((m) => m.accept(r));
    // A reply nothing waits for (a late copy of an answered HELLO) is dropped unchecked; only an ERROR is reported.
    if (!box && r.type !== 'ERROR') return;
    if (this.opts.key && mustBeTagged(r) && !replyTagValid(this.opts.key, payload, r.tag, this.bindings(box, r))) {
      // Never used: the operation waiting for it fails as if the device had.
      this.stats.forgedReplies++;
      box?.fail(
        new DeviceError(
          this.name,
          'FORGED',
          `${r.type} for request ${r.seq} refused: its tag does not verify for the request it answers ` +
            '(forged, replayed or swapped on the link, or the device restarted into a new session or holds another key)',
        ),
      );
      return;
    }
    if (r.type === 'RESULT' && r.sealed === 1) {
      // Verified above, so it answers one of this box's RUN chunks, each sent once under its own seq.
      const [session, counter] = box?.signed.get(r.seq)?.[0] ?? [];
      if (!this.opts.key || session === undefined || counter === undefined) {
        this.stats.badReplies++;
        return;
      }
      r.data = chacha20(sealKey(this.opts.key), TO_GATEWAY, session, counter, r.data);
    }
    if (box) box.push(r);
    else if (r.type === 'ERROR') this.emit('unsolicited', r);
  }

  /** What the tag of reply `r` may cover after the message, given what its request was sent with (docs/protocol.md section 4). */
  private bindings(box: Mailbox | undefined, r: Reply): Uint8Array[] {
    if (r.type === 'HELLO') return box?.nonce ? [box.nonce] : [];
    const copies = box?.signed.get(r.seq) ?? [[this.signer?.session ?? 0, 0]];
    if (r.type === 'ERROR') return copies.map(([session, counter]) => errorBinding(session, counter));
    const digest = box?.digest;
    if (!digest) return [];
    return copies.flatMap(([session, counter]) =>
      box.opened.filter(([s]) => s === session).map(([, opened]) => resultBinding(session, opened, counter, digest)),
    );
  }

  private mailbox(accept: Accept): Mailbox {
    const m = new Mailbox(accept);
    if (this.failure) m.fail(this.failure);
    this.mailboxes.add(m);
    return m;
  }

  private fail(e: DeviceError, emit: boolean): void {
    if (this.failure) return;
    this.failure = e;
    for (const m of this.mailboxes) m.fail(e);
    if (emit) this.emit('disconnect', e);
  }

  private deviceError(r: ReplyOf<'ERROR'>, what: string): DeviceError {
    const code = errorCodeName(r.code);
    return new DeviceError(this.name, code ?? 'BAD_MESSAGE', `${what}: ${code ?? `error ${r.code}`}: ${r.text}`);
  }

  private nextSeq(): number {
    this.seq = this.seq >= MAX_U32 ? 1 : this.seq + 1;
    return this.seq;
  }

  /** Runs `fn` after every earlier exclusive operation has finished. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(() => {
      if (this.failure) throw this.failure;
      return fn();
    });
    this.exclusive = run.catch(() => undefined);
    return run;
  }
}

/**
 * Replies a keyed device tags. A HELLO saying the device is unkeyed has no
 * tag; a gateway holding a key refuses that device anyway.
 */
function mustBeTagged(r: Reply): r is ReplyOf<'RESULT' | 'ERROR' | 'HELLO'> {
  return r.type === 'RESULT' || r.type === 'ERROR' || (r.type === 'HELLO' && r.keyed === 1);
}

/** Largest payload whose frame (COBS, CRC, delimiter) fits in `wire` bytes. */
function maxPayloadFor(wire: number): number {
  let p = Math.max(0, wire - 6 - Math.floor(wire / 254));
  while (p > 0 && frameWireSize(p) > wire) p--;
  while (frameWireSize(p + 1) <= wire) p++;
  return p;
}
