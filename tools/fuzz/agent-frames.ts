// Fuzzes the agent's frame input path in Node: random byte streams and
// mutations of valid requests (re-framed with a good CRC so they reach the
// CBOR reader and the handlers, sometimes not), interleaved with valid LOAD
// and RUN sequences of real fragments so deep states are reached. After
// every input: no trap escaped, every byte the agent wrote decodes as a valid
// reply, and the arena's use and high-water mark are within the budget; and
// every so often, no byte of linear memory past the arena was ever written.
import { encodeFrame, FrameDecoder } from '../../host/link/frame.ts';
import { fragmentDigest, packFragment } from '../../host/abi/fragment-blob.ts';
import { chacha20, RequestSigner, sealKey, TO_GATEWAY } from '../../host/link/hmac.ts';
import { decodeReply, encodeRequest, type Reply, type Request } from '../../host/link/messages.ts';
import { packCall, packOp } from '../../host/abi/kernel-abi.ts';
import type { ConvParams, FullyConnectedParams } from '../../host/model/op-params.ts';
import { runOpBox, wholeOutputBox } from '../../host/model/oracle.ts';
import { wholeTile } from '../../host/model/oracle/tile.ts';
import { AgentHost, agentOverhead } from '../../host/sim/agent-host.ts';

export interface FuzzOptions {
  /** Inputs to feed. */
  count: number;
  seed: number;
  budget?: number;
  window?: number;
  /** Provision a key: authenticated requests are then signed (or mutated signed ones refused). */
  keyed?: boolean;
  /** With a key: LOAD and RUN data are sealed (ChaCha20), RESULTs come back sealed. */
  sealed?: boolean;
}

export interface FuzzReport {
  inputs: number;
  bytesFed: number;
  replies: Record<string, number>;
  errorCodes: Record<number, number>;
  results: number;
  maxHighWater: number;
  budget: number;
  ms: number;
}

/** Deterministic PRNG (xorshift32), so a failure is reproduced by its seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
  return {
    int: (n: number) => next() % n,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
}
type Rng = ReturnType<typeof rng>;

/** A request before its seq is assigned. */
type Unsent = Request extends infer R ? (R extends Request ? Omit<R, 'seq'> : never) : never;

const seeded = (r: Rng, n: number) => Int8Array.from(r.bytes(n), (b) => (b << 24) >> 24);

interface SeedFragment {
  blob: Uint8Array;
  arena: number;
  input: number;
  /** The oracle's output bytes for an input. */
  expected(input: Uint8Array): Uint8Array;
}

const asBytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const asInt8 = (a: Uint8Array) => new Int8Array(a.buffer, a.byteOffset, a.byteLength);

/** A 3x3 SAME conv 6x6x4 -> 6x6x4 and an FC 32 -> 8 as fragments, from hand-made op parameters. */
function seedFragments(r: Rng): SeedFragment[] {
  const conv: ConvParams = {
    kind: 'CONV_2D', opIndex: 0, inputs: [0], output: 1, inputShape: [1, 6, 6, 4], outputShape: [1, 6, 6, 4], filterShape: [4, 3, 3, 4],
    strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1, depthMultiplier: 1, inputZeroPoint: -3, outputZeroPoint: 5,
    multipliers: new Int32Array(4).fill(1 << 30), shifts: new Int32Array(4).fill(-6), actMin: -128, actMax: 127,
    filter: seeded(r, 144), bias: new Int32Array(4).fill(100),
  };
  const fc: FullyConnectedParams = {
    kind: 'FULLY_CONNECTED', opIndex: 1, inputs: [0], output: 1, inputShape: [1, 32], outputShape: [1, 8], batches: 1, depth: 32, units: 8,
    inputZeroPoint: 1, filterZeroPoint: 0, outputZeroPoint: -2, perChannel: true, multipliers: new Int32Array(8).fill(1 << 30),
    shifts: new Int32Array(8).fill(-5), actMin: -128, actMax: 127, filter: seeded(r, 256), bias: null,
  };
  const whole = { start: [0, 0, 0, 0], end: [1, 6, 6, 4] };
  const convBlob = packFragment({
    ops: [{ record: packOp(conv), call: packCall({ out: 144, outBytes: 144, box: whole, in0: { offset: 0, origin: [0, 0, 0, 0], extent: [1, 6, 6, 4] } }) }],
    input: { offset: 0, bytes: 144 }, output: { offset: 144, bytes: 144 },
  });
  const fcBlob = packFragment({
    ops: [{ record: packOp(fc), call: packCall({ out: 32, outBytes: 8, box: { start: [0, 0, 0, 0], end: [1, 8, 1, 1] }, in0: { offset: 0, origin: [0, 0, 0, 0], extent: [1, 32, 1, 1] }, depth: [0, 32] }) }],
    input: { offset: 0, bytes: 32 }, output: { offset: 32, bytes: 8 },
  });
  return [
    { blob: convBlob, arena: 288, input: 144, expected: (x) => asBytes(runOpBox(conv, [wholeTile(asInt8(x), [1, 6, 6, 4])], wholeOutputBox(conv))) },
    { blob: fcBlob, arena: 40, input: 32, expected: (x) => asBytes(runOpBox(fc, [wholeTile(asInt8(x), [1, 32])], wholeOutputBox(fc))) },
  ];
}

/** The requests of a whole LOAD then RUN of one fragment, in chunks of `chunk` bytes. */
function loadSteps(frag: number, f: SeedFragment, chunk: number): Unsent[] {
  const out: Unsent[] = [];
  for (let o = 0; o < f.blob.length; o += chunk) {
    const first = o === 0 ? { total: f.blob.length, digest: fragmentDigest(f.blob), arena: f.arena } : {};
    out.push({ type: 'LOAD', frag, offset: o, data: f.blob.subarray(o, o + chunk), ...first });
  }
  return out;
}

function runSteps(frag: number, input: Uint8Array, chunk: number): Unsent[] {
  const out: Unsent[] = [];
  for (let o = 0; o < input.length; o += chunk) out.push({ type: 'RUN', frag, offset: o, data: input.subarray(o, o + chunk), ...(o === 0 && { total: input.length }) });
  return out;
}

function session(frag: number, f: SeedFragment, chunk: number, r: Rng): Unsent[] {
  return [...loadSteps(frag, f, chunk), ...runSteps(frag, r.bytes(f.input), chunk)];
}

/** Boundary values for numeric fields: sizes and offsets near the budget, the window, and 2^32. */
function interesting(r: Rng, budget: number, window: number): number {
  const v = [0, 1, 7, 8, 31, 32, 255, 256, window - 1, window, budget - 1, budget, budget + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 8, 2 ** 32 - 7, 2 ** 32 - 4, 2 ** 32 - 1];
  return v[r.int(v.length)];
}

/** A well-formed request with some fields set to boundary values (they pass the CBOR reader and reach the handlers). */
function mutateFields(m: Unsent, r: Rng, budget: number, window: number): Unsent {
  const out: Record<string, unknown> = { ...m };
  for (const k of ['frag', 'offset', 'total', 'arena', 'macs']) {
    if (k in out && r.int(3) === 0) out[k] = interesting(r, budget, window);
  }
  if (r.int(4) === 0) out.data = r.bytes(r.int(window / 2));
  return out as Unsent;
}

function mutate(p: Uint8Array, r: Rng): Uint8Array {
  const b = Array.from(p);
  const edits = 1 + r.int(4);
  for (let e = 0; e < edits; e++) {
    const at = r.int(b.length + 1);
    switch (r.int(6)) {
      case 0: b[at % b.length] ^= 1 << r.int(8); break;
      case 1: b[at % b.length] = r.int(256); break;
      case 2: b.splice(at, 0, ...r.bytes(1 + r.int(8))); break;
      case 3: b.splice(at, 1 + r.int(8)); break;
      case 4: b.length = Math.max(1, at); break;
      // Interesting CBOR heads: big lengths, indefinite lengths, tags, floats.
      default: b.splice(at, 0, [0x1b, 0x5b, 0x7f, 0x9f, 0xbf, 0xc6, 0xfb, 0xff, 0xba, 0x5a][r.int(10)], 0xff, 0xff, 0xff, 0xff);
    }
  }
  return Uint8Array.from(b.length ? b : [1]);
}

export function fuzzAgentFrames(options: FuzzOptions): FuzzReport {
  const { count, seed, budget = 8192, window = 512, keyed = false, sealed = false } = options;
  const r = rng(seed);
  const key = keyed ? r.bytes(32) : undefined;
  const bootSession = 1 + r.int(0xfffffffe);
  const signer = key ? new RequestSigner(key, bootSession, 0, sealed) : undefined;
  const encode = (m: Request) => (signer ? signer.encode(m) : encodeRequest(m));
  const replies = new FrameDecoder({ maxPayload: 1 << 20 });
  const report: FuzzReport = { inputs: 0, bytesFed: 0, replies: {}, errorCodes: {}, results: 0, maxHighWater: 0, budget, ms: 0 };
  // HELLO says where the arena starts (`overhead`): memory past its end must stay zero.
  let arenaEnd = 0;
  let lastFragments: number[] = [];
  let captured: Reply[] = [];
  const onReply = (rep: Reply) => {
    captured.push(rep);
    // A keyed device tags every HELLO, RESULT and ERROR; an unkeyed one none.
    const tagged = rep.type === 'HELLO' || rep.type === 'RESULT' || rep.type === 'ERROR';
    if ((tagged && keyed) !== ('tag' in rep && rep.tag !== undefined)) throw new Error(`${rep.type} ${keyed && tagged ? 'without' : 'with'} a tag from a${keyed ? ' keyed' : 'n unkeyed'} device`);
    report.replies[rep.type] = (report.replies[rep.type] ?? 0) + 1;
    if (rep.type === 'HELLO') {
      arenaEnd = rep.overhead + rep.budget;
      lastFragments = rep.fragments;
    }
    if (rep.type === 'ERROR') report.errorCodes[rep.code] = (report.errorCodes[rep.code] ?? 0) + 1;
    if (rep.type === 'RESULT') report.results++;
  };
  const agent = new AgentHost({
    memory: agentOverhead(window) + budget, window, key, session: bootSession,
    write: (bytes) => {
      for (const p of replies.push(bytes)) onReply(decodeReply(p)); // throws on anything that is not a valid reply
    },
  });
  const checkBeyondArena = (i: number) => {
    const beyond = agent.readMemory(arenaEnd, agent.memoryBytes - arenaEnd);
    const at = beyond.findIndex((b) => b !== 0);
    if (at >= 0) throw new Error(`input ${i} (seed ${seed}): byte ${arenaEnd + at} past the arena end ${arenaEnd} was written`);
  };
  const fragments = seedFragments(r);
  let seq = 0;
  agent.feed(encodeFrame(encodeRequest({ type: 'HELLO', seq: ++seq })));
  if (arenaEnd === 0) throw new Error('the agent did not answer the first HELLO');

  // The probe: a fragment under an id the fuzzed traffic cannot commit,
  // reloaded (so it is the most recently placed blob, the one next to free
  // space) and run every so often, its bytes checked against the oracle.
  // Fuzzed frames may unload it but must never change what it computes.
  const PROBE = 1000;
  const probeInput = r.bytes(fragments[0].input);
  const probeExpected = fragments[0].expected(probeInput);
  /** Sends steps (after a delimiter that ends any noise), returns the reply to the last one. */
  const steps = (list: Unsent[]): Reply | undefined => {
    let last: Reply | undefined;
    for (const m of list) {
      captured = [];
      const s = ++seq;
      agent.feed(Uint8Array.of(0, ...encodeFrame(encode({ ...m, seq: s } as Request))));
      agent.drain();
      last = captured.filter((c) => c.seq === s).at(-1);
    }
    return last;
  };
  const fail = (i: number, what: string) => new Error(`input ${i} (seed ${seed}${keyed ? ', keyed' : ''}): ${what}`);
  const checkProbe = (i: number) => {
    const res = steps(runSteps(PROBE, probeInput, window / 2));
    if (res?.type !== 'RESULT') throw fail(i, `the probe fragment did not run: ${JSON.stringify(res)}`);
    // Sealed under the counter of the chunk that completed the input: the last one sent.
    if (sealed !== (res.sealed === 1)) throw fail(i, `the probe's RESULT is ${sealed ? 'not ' : ''}sealed`);
    if (sealed) res.data = chacha20(sealKey(key!), TO_GATEWAY, bootSession, signer!.last, res.data);
    if (Buffer.compare(res.data, probeExpected) !== 0) throw fail(i, `the probe fragment computed other bytes than the oracle: ${Buffer.from(res.data).toString('hex').slice(0, 64)} vs ${Buffer.from(probeExpected).toString('hex').slice(0, 64)}`);
  };
  const reloadProbe = (i: number) => {
    steps([{ type: 'UNLOAD', frag: PROBE }]);
    const load = () => steps(loadSteps(PROBE, fragments[0], window / 2));
    let loaded = load();
    if (loaded?.type === 'ERROR') {
      steps([{ type: 'RESET' }]); // make room
      loaded = load();
    }
    if (loaded?.type !== 'ACK' || loaded.done !== 1) throw fail(i, `the probe fragment did not load: ${JSON.stringify(loaded)}`);
  };
  const probe = (i: number) => {
    // Still loaded (nothing may have removed it but UNLOAD or RESET): it must compute the oracle's bytes.
    if (steps([{ type: 'HELLO' }])?.type === 'HELLO' && lastFragments.includes(PROBE)) checkProbe(i);
    reloadProbe(i);
    checkProbe(i);
  };
  probe(0);
  let script: Unsent[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (script.length === 0) script = session(r.int(4), fragments[r.int(fragments.length)], 64 + r.int(window / 2), r);
    let bytes: Uint8Array;
    const pick = r.int(20);
    if (pick < 8) {
      bytes = encodeFrame(encode({ ...script.shift()!, seq: ++seq } as Request));
    } else if (pick < 14) {
      const base = pick === 8 ? { type: 'HELLO' as const } : pick === 9 ? { type: 'PROFILE' as const, macs: 1 + r.int(2000) } : script[0] ?? { type: 'PING' as const };
      const payload = mutate(encode({ ...base, seq: ++seq } as Request), r);
      bytes = encodeFrame(payload);
      if (r.int(8) === 0) bytes[r.int(bytes.length - 1)] ^= 1 + r.int(255); // and sometimes a bad CRC
    } else if (pick < 18) {
      // The next step of the script with boundary values: its LOAD/RUN openings are where sizes are checked.
      bytes = encodeFrame(encode({ ...mutateFields(script[0] ?? { type: 'PROFILE', macs: 1000 }, r, budget, window), seq: ++seq } as Request));
    } else if (pick === 18) {
      bytes = r.bytes(1 + r.int(window * 2));
    } else {
      bytes = encodeFrame(r.bytes(1 + r.int(window)));
    }
    try {
      // Feed in random pieces, polling in between as a host would.
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + r.int(bytes.length - at);
        agent.feed(bytes.subarray(at, at + n));
        at += n;
        if (r.int(2) === 0) agent.poll();
      }
      agent.drain();
    } catch (e) {
      const hex = Buffer.from(bytes.subarray(0, 256)).toString('hex');
      throw new Error(`input ${i} (seed ${seed}${keyed ? ', keyed' : ''}): ${(e as Error).message}; input starts ${hex}`);
    }
    report.inputs++;
    report.bytesFed += bytes.length;
    const hw = agent.highWater;
    if (agent.arenaUsed > budget || hw > budget) throw new Error(`input ${i} (seed ${seed}): arena use ${agent.arenaUsed}, high water ${hw} exceed the budget ${budget}`);
    report.maxHighWater = Math.max(report.maxHighWater, hw);
    if (i % 50 === 49) probe(i);
    if (i % 1000 === 999) checkBeyondArena(i);
  }
  probe(count);
  checkBeyondArena(count);
  // Still alive: a plain PING after everything.
  const before = report.replies.PING ?? 0;
  agent.feed(Uint8Array.of(0, ...encodeFrame(encodeRequest({ type: 'PING', seq: ++seq }))));
  if ((report.replies.PING ?? 0) !== before + 1) throw new Error(`seed ${seed}: the agent no longer answers PING after ${count} inputs`);
  report.ms = performance.now() - t0;
  return report;
}
