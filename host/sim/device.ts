// One simulated device: an agent behind a link whose speed, latency and
// failures follow the testbed. Received bytes reach the agent as they would
// come off a line of the stated rate; sent frames leave at that rate; a
// RESULT is held back for the time the fragment's MACs take at the device's
// MAC/s (the agent itself computes at Node's speed). Frames are dropped or
// corrupted, and the device hangs or crashes, as the faults say. The agent
// may also be a QEMU board's firmware behind its UART (board-port.ts): the
// line is then paced the same way and the board computes at its own clock.
//
// Simplification: while a RESULT is held back the agent already reads the
// next frames; a CANCEL of that fragment discards the held RESULT.
import { FrameDecoder } from '../link/frame.ts';
import { decodeReply, decodeRequest, type Reply, type Request } from '../link/messages.ts';
import { chunks, type Transport } from '../link/transport.ts';
import { seededRandom } from '../random.ts';
import { FrameFaults, type FrameFaultCounts } from './faults.ts';
import { deliver, PacedLine, realTimeWake, sleepUntil, type WakeAt } from './line.ts';
import { FrameSplitter } from './splitter.ts';
import { macRate, type DeviceSpec } from './testbed.ts';
import { fragmentWork, type OpWork } from './work.ts';
import { encodeFrame as frameOf } from '../link/frame.ts';
import { encodeRequest } from '../link/messages.ts';
import { chacha20, sealKey, signRouted, TO_HOST } from '../link/hmac.ts';
import { unpackForwards, type Forward } from '../link/forwards.ts';
import type { MeshOutbox, RunChunk } from './mesh.ts';

/** What the simulator needs of an agent: bytes in, one step of work at a time. */
export interface AgentPort {
  /** Hands received bytes to the agent; it may answer through its write callback at once. */
  feed(bytes: Uint8Array): void;
  /** Does one step of pending work (one op of a RUN); true while work remains. */
  poll(): boolean;
}

export interface SimDeviceOptions {
  spec: DeviceSpec;
  /** The testbed's seed; each device derives its own stream from it and its id. */
  seed: number;
  /** Creates the agent; `write` receives every byte the agent sends. */
  createAgent(write: (bytes: Uint8Array) => void): AgentPort;
  /** A crash fault fired: the device has stopped; a process host should exit. */
  onCrash?(reason: string): void;
  /** How the device waits for a time: real-time wake-ups by default; the virtual clock passes its exact timers. */
  wake?: WakeAt;
  /**
   * The device forwards (DISNET's mesh, docs/protocol.md section 3): RUN
   * outputs go to other devices through `outbox` (tagged under the
   * consumers' route keys, which come sealed under this device's `key`),
   * and forwarded chunks (forwarded()) are fed to the agent as they came.
   */
  mesh?: { outbox: MeshOutbox; port: number; key?: { key: Uint8Array; session: number } };
}

export interface SimDeviceStats {
  /** Frames handed to the agent, and frames sent to the gateway. */
  framesIn: number;
  framesOut: number;
  /** RESULTs sent. */
  runs: number;
}

/** Frames larger than this without a delimiter are passed to the agent in pieces. */
const MAX_UNDELIMITED = 256 * 1024;
/** Largest reply the simulator decodes to find RESULTs: the gateway's default limit (2 MiB). */
const MAX_REPLY = 2 * 1024 * 1024;
/** Seqs of the forwarded chunks the host feeds its agent: the agent's ACKs to them are the host's, never the gateway's. */
const MESH_SEQ = 0x80000000;
/** Runs whose forwarded chunks wait for the gateway to open them; older ones are dropped (their consumer ran elsewhere). */
const MAX_WAITING_RUNS = 32;

export class SimDevice {
  private readonly spec: DeviceSpec;
  private readonly agent: AgentPort;
  private readonly started = performance.now();
  private readonly wake: WakeAt;
  private readonly rxLine: PacedLine;
  private readonly txLine: PacedLine;
  private readonly faultsIn: FrameFaults;
  private readonly faultsOut: FrameFaults;
  private readonly rxSplit = new FrameSplitter(MAX_UNDELIMITED);
  private readonly txSplit = new FrameSplitter(MAX_REPLY);
  private readonly seenIn = new FrameDecoder({ maxPayload: 1 << 17 });
  private readonly seenOut = new FrameDecoder({ maxPayload: MAX_REPLY });
  private readonly loads = new Map<number, { buf: Uint8Array; next: number }>();
  private readonly work = new Map<number, OpWork[]>();
  /** RESULTs held back for their compute time: what cancels each. */
  private readonly held = new Map<number, () => void>();
  private readonly timers: NodeJS.Timeout[] = [];
  private link?: Transport;
  private rxChain: Promise<void> = Promise.resolve();
  private txChain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Forwards of each fragment's next RESULT, from its RUN. */
  private readonly forwards = new Map<number, Forward[]>();
  /** The gateway's last RUN input on this device (`frag/run`), and forwarded chunks of runs it has not opened yet. */
  private gatewayRun?: string;
  private readonly waiting = new Map<string, { frame: Uint8Array; arrived: number }[]>();
  private meshSeq = 0;
  /** When the last frame handed to the agent was complete on the line: a RESULT's compute starts there. */
  private fedAt = 0;
  readonly stats: SimDeviceStats = { framesIn: 0, framesOut: 0, runs: 0 };

  constructor(private readonly opts: SimDeviceOptions) {
    this.spec = opts.spec;
    this.wake = opts.wake ?? realTimeWake;
    this.rxLine = new PacedLine(this.spec.link.rate, this.spec.link.latencyMs);
    this.txLine = new PacedLine(this.spec.link.rate, this.spec.link.latencyMs);
    const f = this.spec.faults;
    const random = seededRandom(opts.seed ^ hashId(this.spec.id));
    this.faultsIn = new FrameFaults(f?.dropP ?? 0, f?.corruptP ?? 0, random);
    this.faultsOut = new FrameFaults(f?.dropP ?? 0, f?.corruptP ?? 0, random);
    this.agent = opts.createAgent((bytes) => this.agentWrote(bytes));
    if (f?.crashAtMs !== undefined) this.timers.push(setTimeout(() => this.crash(`crash fault at ${f.crashAtMs} ms`), f.crashAtMs));
  }

  /** Serves `link` until it closes or breaks. The agent keeps its state across links (a TCP reconnect). */
  async serve(link: Transport): Promise<void> {
    this.link = link;
    try {
      for await (const chunk of chunks(link)) {
        if (this.stopped) break;
        for (const seg of this.rxSplit.push(chunk)) this.receive(seg);
      }
    } catch {
      // The gateway went away; a new link may follow.
    }
    if (this.link === link) this.link = undefined;
  }

  /** Stops all timers; the link is left to its owner. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const cancel of this.held.values()) cancel();
  }

  private get hung(): boolean {
    const at = this.spec.faults?.hangAtMs;
    return at !== undefined && performance.now() - this.started >= at;
  }

  /**
   * Hands a frame (or an undelimited piece) to the agent as it comes off the
   * line, piece by piece; the request is observed, and its compute counted
   * from, when its last byte has arrived. A dropped frame still took its line time.
   */
  private receive(seg: Uint8Array): void {
    const pieces = this.rxLine.pieces(seg.length, performance.now());
    const frame = seg[seg.length - 1] === 0 ? this.faultsIn.apply(seg) : seg;
    this.rxChain = this.rxChain.then(async () => {
      for (const [i, piece] of pieces.entries()) {
        await sleepUntil(this.wake, piece.arrives);
        if (this.stopped || this.hung || !frame) return;
        if (i === pieces.length - 1) {
          this.stats.framesIn++;
          for (const p of this.seenIn.push(frame)) this.observeRequest(p);
          if (this.stopped) return; // a crash fault fired on this frame
          // The input was complete when its last piece arrived on the line,
          // however late this process woke to see it.
          this.fedAt = piece.arrives;
        }
        this.agent.feed(frame.subarray(piece.start, piece.end));
        while (this.agent.poll()) {
          // one op per step; the simulated time is charged when the RESULT leaves
        }
      }
      // The gateway's chunk opened its run: what peers forwarded for it before goes in now.
      const held = this.gatewayRun === undefined ? undefined : this.waiting.get(this.gatewayRun);
      if (held) {
        this.waiting.delete(this.gatewayRun!);
        for (const h of held) this.feedForwarded(h.frame, h.arrived);
      }
    });
  }

  /** A RUN chunk another device forwarded (`frame`, as it came) arrived on its paced line: fed once the gateway has opened its run. */
  forwarded(chunk: RunChunk, frame: Uint8Array, arrived = performance.now()): void {
    const key = `${chunk.frag}/${chunk.run}`;
    if (key === this.gatewayRun) {
      this.rxChain = this.rxChain.then(() => this.feedForwarded(frame, arrived));
      return;
    }
    this.waiting.set(key, [...(this.waiting.get(key) ?? []), { frame, arrived }]);
    if (this.waiting.size > MAX_WAITING_RUNS) this.waiting.delete(this.waiting.keys().next().value!);
  }

  /** Feeds a forwarded chunk to the agent, which checks it (its tag, on a keyed device). */
  private feedForwarded(frame: Uint8Array, arrived: number): void {
    if (this.stopped || this.hung || !this.opts.mesh) return;
    // An input completed by a forwarded chunk starts computing when that chunk arrived.
    this.fedAt = Math.max(this.fedAt, arrived);
    this.agent.feed(frame);
    while (this.agent.poll()) {
      // as in receive()
    }
  }

  /** Frames dropped and corrupted so far: towards the agent, and towards the gateway. */
  get faultCounts(): { in: FrameFaultCounts; out: FrameFaultCounts } {
    return { in: this.faultsIn.counts, out: this.faultsOut.counts };
  }

  /** Tracks fragment blobs as the agent receives them, to know each RUN's MACs. */
  private observeRequest(payload: Uint8Array): void {
    let m: Request;
    try {
      m = decodeRequest(payload);
    } catch {
      return;
    }
    switch (m.type) {
      case 'LOAD': {
        if (m.offset === 0 && m.total !== undefined) this.loads.set(m.frag, { buf: new Uint8Array(m.total), next: 0 });
        const l = this.loads.get(m.frag);
        if (!l || m.offset !== l.next || m.offset + m.data.length > l.buf.length) return;
        l.buf.set(m.data, m.offset);
        l.next += m.data.length;
        if (l.next < l.buf.length) return;
        this.loads.delete(m.frag);
        try {
          this.work.set(m.frag, fragmentWork(l.buf));
        } catch {
          this.work.delete(m.frag); // the agent refuses it too
        }
        return;
      }
      case 'RUN': {
        // crashAfterRuns 0: the device dies at its first RUN, i.e. once deployed.
        if (this.spec.faults?.crashAfterRuns === 0) this.crash('crash fault at the first RUN');
        // A chunk opening an input (offset 0 of a single sender's, or a run not seen yet) replaces the fragment's forwards.
        const run = m.run ? `${m.frag}/${m.run}` : undefined;
        const opens = run === undefined ? m.offset === 0 : run !== this.gatewayRun;
        this.gatewayRun = run;
        if (!opens) return;
        this.forwards.delete(m.frag);
        if (m.forwards && this.opts.mesh) {
          try {
            this.forwards.set(m.frag, unpackForwards(m.forwards));
          } catch {
            // not whole records: nothing is forwarded, the gateway sends the ranges itself
          }
        }
        return;
      }
      case 'CANCEL':
        this.held.get(m.frag)?.();
        this.held.delete(m.frag);
        return;
      case 'UNLOAD':
        this.work.delete(m.frag);
        return;
      case 'RESET':
        this.work.clear();
        return;
    }
  }

  private agentWrote(bytes: Uint8Array): void {
    if (this.stopped || this.hung) return;
    for (const frame of this.txSplit.push(bytes)) {
      let reply: Reply | undefined;
      for (const p of this.seenOut.push(frame)) {
        try {
          reply = decodeReply(p);
        } catch {
          reply = undefined;
        }
      }
      if (reply?.type === 'RESULT') this.holdResult(reply, frame);
      else if (reply !== undefined && reply.seq >= MESH_SEQ) continue; // an ACK or ERROR to a chunk the host fed
      else this.transmit(frame);
    }
  }

  /**
   * Sends a RESULT once the fragment's MACs would have been computed at this
   * device's speed, counted from when its input was complete (the agent's
   * own time in Node is part of it, not added to it). The line carries it
   * from that time on, not from when this process woke or the agent
   * finished: a simulated device's timing is the model's, and the host's
   * lateness is caught up where it can be. A board's RESULT leaves when the
   * board sends it.
   */
  private holdResult(reply: Extract<Reply, { type: 'RESULT' }>, frame: Uint8Array): void {
    const frag = reply.frag;
    const at = this.fedAt + this.computeMs(frag);
    const offered = this.spec.board ? performance.now() : at;
    const forwards = this.forwards.get(frag);
    this.forwards.delete(frag);
    const release = () => {
      this.held.delete(frag);
      this.forward(reply, forwards, offered);
      this.transmit(frame, true, offered);
    };
    this.held.get(frag)?.();
    if (at <= performance.now()) {
      release();
      return;
    }
    this.held.set(frag, this.wake(at, release));
  }

  /**
   * Sends the RUN's forwarded ranges of its output to their devices, leaving
   * when the RESULT does: RUN chunks of the consumer's run (`routed`), each
   * fitting its window, under seqs its host knows for its own, tagged under
   * the consumer's route key when it is keyed.
   */
  private forward(reply: Extract<Reply, { type: 'RESULT' }>, forwards: Forward[] | undefined, offered: number): void {
    const mesh = this.opts.mesh;
    if (!forwards || !mesh || reply.sealed === 1 || this.stopped || this.hung) return;
    for (const f of forwards) {
      if (f.outOffset + f.bytes > reply.data.length || f.chunk === 0) continue;
      const key = f.key.some((b) => b !== 0) ? this.routeKeyOf(f) : undefined;
      if (f.key.some((b) => b !== 0) && !key) continue;
      // To itself (its own output rows, the next fragment's input here): no link, no time.
      const self = f.port === mesh.port && f.host === '127.0.0.1';
      const frames: Uint8Array[] = [];
      for (let at = 0; at < f.bytes; at += f.chunk) {
        const seq = (MESH_SEQ | (this.meshSeq++ & 0x7fffffff)) >>> 0;
        const data = reply.data.subarray(f.outOffset + at, f.outOffset + Math.min(f.bytes, at + f.chunk));
        const msg = { type: 'RUN' as const, seq, frag: f.frag, offset: f.inOffset + at, data, total: f.total, from: f.inOffset, run: f.run };
        const frame = frameOf(key ? signRouted(key, msg) : encodeRequest({ ...msg, routed: 1 }));
        if (self) this.forwarded(msg, frame, offered);
        else frames.push(frame);
      }
      if (frames.length > 0) mesh.outbox.send(f.host, f.port, Buffer.concat(frames), offered);
    }
  }

  /** The consumer's route key a forward carries, sealed for this device's host; undefined when this host holds no key. */
  private routeKeyOf(f: Forward): Uint8Array | undefined {
    const k = this.opts.mesh?.key;
    return k && chacha20(sealKey(k.key), TO_HOST, k.session, f.run, f.key);
  }

  /** Simulated compute time of one RUN of `frag`, ms; none on a board, whose firmware computes at its own clock. */
  computeMs(frag: number): number {
    if (this.spec.board) return 0;
    const ops = this.work.get(frag) ?? [];
    let seconds = 0;
    for (const op of ops) seconds += op.macs / macRate(this.spec, op.kind);
    const slow = this.spec.faults?.slowdown;
    const factor = slow && performance.now() - this.started >= slow.atMs ? slow.factor : 1;
    return seconds * 1000 * factor;
  }

  /** Puts a frame on the line towards the gateway, offered to it at `offered` (ms). */
  private transmit(frame: Uint8Array, isResult = false, offered = performance.now()): void {
    const sent = this.faultsOut.apply(frame);
    const pieces = sent ? this.txLine.pieces(sent.length, offered) : [];
    this.txChain = this.txChain.then(async () => {
      if (sent && !this.stopped && !this.hung) {
        await deliver(pieces, sent, this.wake, async (piece) => this.link?.write(piece));
        this.stats.framesOut++;
      }
      if (isResult) this.countRun();
    });
  }

  private countRun(): void {
    this.stats.runs++;
    const k = this.spec.faults?.crashAfterRuns;
    if (k !== undefined && this.stats.runs >= k) this.crash(`crash fault after ${k} runs`);
  }

  private crash(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.opts.onCrash?.(reason);
  }
}

/** FNV-1a of a device id, to give each device its own random stream. */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
