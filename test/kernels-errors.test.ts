// Bad calls to the kernels' dispatch are refused with their stable error code
// before any access: no trap, no write to the output, never a wrong answer.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createWasmEngine, loadKernels, KernelError, type KernelExports } from '../host/run/wasm-engine.ts';
import { C, CALL_WORDS, KERNEL_ERRORS, KERNEL_ABI_HASH, type KernelOpParams, KERNEL_ABI_VERSION, KERNEL_ERROR, W, box4, packCall, packOp, requiredTile, tile4 } from '../host/abi/kernel-abi.ts';
import { prepareOp, type ConvParams } from '../host/model/op-params.ts';
import { runOpBox, wholeOutputBox } from '../host/model/oracle.ts';
import { wholeTile } from '../host/model/oracle/tile.ts';
import { type Graph } from '../host/model/ir.ts';
import { validateGraph } from '../host/model/validate.ts';
import { extractBox, type Box } from '../host/run/boxes.ts';
import { addCase, convCase, fcCase, poolCase, requantizeCase, softmaxCase, tilesFor, type OpCase } from './kernels-cases.ts';

/** A 1x5x5x3 -> 4 channel 3x3 SAME conv with a fixed pseudo-random input. */
function convFixture(): { params: ConvParams; input: Int8Array } {
  const filter = Int8Array.from({ length: 4 * 3 * 3 * 3 }, (_, i) => ((i * 37) % 255) - 127);
  const input = Int8Array.from({ length: 75 }, (_, i) => ((i * 53) % 256) - 128);
  const q = (s: number, zp: number) => ({ scale: [s], zeroPoint: [zp] });
  const graph: Graph = validateGraph({
    tensors: [
      { name: 'x', shape: [1, 5, 5, 3], dtype: 'int8', quant: q(0.5, -3) },
      { name: 'w', shape: [4, 3, 3, 3], dtype: 'int8', quant: { scale: [0.01, 0.02, 0.03, 0.04], zeroPoint: [0, 0, 0, 0], axis: 0 }, data: filter },
      { name: 'y', shape: [1, 5, 5, 4], dtype: 'int8', quant: q(0.25, 7) },
    ],
    ops: [{ kind: 'CONV_2D', inputs: [0, 1, -1], outputs: [2], padding: 'SAME', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'NONE' }],
    inputs: [0],
    outputs: [2],
  });
  return { params: prepareOp(graph, 0) as ConvParams, input };
}

const SENTINEL = 0x5a;
let k: KernelExports;
let fixture: ReturnType<typeof convFixture>;
beforeAll(async () => {
  k = await loadKernels();
  fixture = convFixture();
});

/** Rows [1, 3) x all columns x channels [1, 3) of the output. */
const BOX: Box = { start: [0, 1, 0, 1], end: [1, 3, 5, 3] };

/** Places record (channels 0..3 loaded), tile and call in memory; returns offsets and a helper to edit words. */
function setup(slice: [number, number] = [0, 4]) {
  const { params, input } = fixture;
  const base = k.kernelScratchBase();
  const blob = packOp(params, { channels: slice });
  const rec = base;
  const call = (rec + blob.length + 15) & ~15;
  const t = requiredTile(params, 0, BOX);
  const tileData = extractBox(input, params.inputShape, { start: t.origin, end: t.origin.map((o, i) => o + t.shape[i]) });
  const tile = call + 256;
  const out = tile + 256;
  const outBytes = 2 * 5 * 2;
  const mem = () => new Uint8Array(k.memory.buffer);
  mem().set(blob, rec);
  new Int8Array(k.memory.buffer).set(tileData, tile);
  mem().fill(SENTINEL, out, out + 64);
  const { origin, extent } = tile4(params, 0, t.origin, t.shape);
  mem().set(packCall({ out, outBytes, box: box4(params, BOX), in0: { offset: tile, origin, extent } }), call);
  const words = () => new Int32Array(k.memory.buffer);
  return {
    rec,
    call,
    out,
    setCall: (w: number, v: number) => (words()[call / 4 + w] = v),
    setRec: (w: number, v: number) => (words()[rec / 4 + w] = v),
    output: () => Array.from(new Int8Array(k.memory.buffer, out, outBytes)),
    untouched: () => mem().subarray(out, out + 64).every((b) => b === SENTINEL),
  };
}

describe('kernel ABI identity', () => {
  it('the module reports the version and ABI hash the host packs for', () => {
    expect(k.KERNEL_ABI_VERSION.value).toBe(KERNEL_ABI_VERSION);
    expect(k.kernelAbiHash() >>> 0).toBe(KERNEL_ABI_HASH);
  });
});

describe('a valid call', () => {
  it('computes the box the oracle computes', () => {
    const s = setup();
    expect(k.prepareRecord(s.rec)).toBe(0);
    expect(k.runFragment(s.rec, s.call)).toBe(0);
    const whole = { data: fixture.input, origin: [0, 0, 0, 0], shape: [1, 5, 5, 3] };
    expect(s.output()).toEqual(Array.from(runOpBox(fixture.params, [whole], BOX)));
  });
});

const memEnd = () => k.memory.buffer.byteLength;
type Setup = ReturnType<typeof setup>;

describe('bad calls are refused before any access', () => {
  it.each<[string, keyof typeof KERNEL_ERROR, (s: Setup) => void]>([
    ['box past the output rows', 'BOX_OUTSIDE_OUTPUT', (s) => s.setCall(C.BOX_END + 1, 6)],
    ['empty box', 'BOX_OUTSIDE_OUTPUT', (s) => s.setCall(C.BOX_END + 2, 0)],
    ['negative box start', 'BOX_OUTSIDE_OUTPUT', (s) => s.setCall(C.BOX_START + 3, -1)],
    ['tile without the halo row above', 'TILE_TOO_SMALL', (s) => (s.setCall(C.IN0_ORIGIN + 1, 1), s.setCall(C.IN0_EXTENT + 1, 3))],
    ['tile without the last input channel', 'TILE_TOO_SMALL', (s) => s.setCall(C.IN0_EXTENT + 3, 2)],
    ['tile reaching past the input', 'TILE_OUTSIDE_INPUT', (s) => s.setCall(C.IN0_EXTENT + 1, 6)],
    ['input tile past the end of memory', 'OUT_OF_MEMORY_BOUNDS', (s) => s.setCall(C.IN0, memEnd() - 8)],
    // 0xFFFFFFFF once passed as -1 (asc fused the load and the widening into a sign extension).
    ['input tile at offset 0xFFFFFFFF', 'OUT_OF_MEMORY_BOUNDS', (s) => s.setCall(C.IN0, -1)],
    ['output past the end of memory', 'OUT_OF_MEMORY_BOUNDS', (s) => s.setCall(C.OUT, memEnd() - 4)],
    ['output at a negative (huge unsigned) offset', 'OUT_OF_MEMORY_BOUNDS', (s) => s.setCall(C.OUT, -16)],
    ['output capacity smaller than the box', 'OUTPUT_TOO_SMALL', (s) => s.setCall(C.OUT_BYTES, 19)],
    ['output overlapping the input tile', 'BAD_CALL', (s) => s.setCall(C.OUT, s.call + 256 + 8)],
    ['output overlapping the record', 'BAD_CALL', (s) => s.setCall(C.OUT, s.rec + 16)],
    ['unknown mode', 'BAD_CALL', (s) => s.setCall(C.MODE, 7)],
    ['FC reduce on a conv record', 'BAD_CALL', (s) => s.setCall(C.MODE, 1)],
  ])('%s -> %s', (_name, code, corrupt) => {
    const s = setup();
    expect(k.prepareRecord(s.rec)).toBe(0);
    corrupt(s);
    expect(k.runFragment(s.rec, s.call)).toBe(KERNEL_ERROR[code]);
    expect(s.untouched()).toBe(true);
  });

  it('a box needing channels the record does not hold -> CHANNELS_NOT_LOADED', () => {
    const s = setup([2, 4]);
    expect(k.prepareRecord(s.rec)).toBe(0);
    expect(k.runFragment(s.rec, s.call)).toBe(KERNEL_ERROR.CHANNELS_NOT_LOADED);
    expect(s.untouched()).toBe(true);
  });

  it('a record never prepared -> NOT_PREPARED', () => {
    const s = setup();
    expect(k.runFragment(s.rec, s.call)).toBe(KERNEL_ERROR.NOT_PREPARED);
    expect(s.untouched()).toBe(true);
  });

  it('a call block or record past the end of memory -> OUT_OF_MEMORY_BOUNDS', () => {
    const s = setup();
    expect(k.prepareRecord(s.rec)).toBe(0);
    expect(k.runFragment(s.rec, memEnd() - 64)).toBe(KERNEL_ERROR.OUT_OF_MEMORY_BOUNDS);
    expect(k.runFragment(memEnd() - 128, s.call)).toBe(KERNEL_ERROR.OUT_OF_MEMORY_BOUNDS);
    expect(k.prepareRecord(memEnd() - 128)).toBe(KERNEL_ERROR.OUT_OF_MEMORY_BOUNDS);
  });
});

describe('bad records are refused at prepare and stay unusable', () => {
  it.each<[string, keyof typeof KERNEL_ERROR, (s: Setup) => void]>([
    ['wrong magic', 'BAD_RECORD', (s) => s.setRec(W.MAGIC, 0x12345678)],
    ['unknown opcode', 'BAD_RECORD', (s) => s.setRec(W.OPCODE, 99)],
    ['stride 0', 'BAD_RECORD', (s) => s.setRec(W.STRIDE_H, 0)],
    ['clamp min above max', 'BAD_RECORD', (s) => (s.setRec(W.ACT_MIN, 5), s.setRec(W.ACT_MAX, 4))],
    ['zero point outside int8', 'BAD_RECORD', (s) => s.setRec(W.IN_ZP, 128)],
    ['negative multiplier', 'BAD_RECORD', (s) => new Int32Array(k.memory.buffer)[(s.rec + new Int32Array(k.memory.buffer)[s.rec / 4 + W.MULT]) / 4] = -1],
    ['weights offset outside the record', 'OUT_OF_MEMORY_BOUNDS', (s) => s.setRec(W.WEIGHTS, 1 << 20)],
    ['record size past the end of memory', 'OUT_OF_MEMORY_BOUNDS', (s) => s.setRec(W.SIZE, memEnd())],
  ])('%s -> %s', (_name, code, corrupt) => {
    const s = setup();
    corrupt(s);
    expect(k.prepareRecord(s.rec)).toBe(KERNEL_ERROR[code]);
    const again = k.runFragment(s.rec, s.call);
    expect(again).not.toBe(0);
    expect(s.untouched()).toBe(true);
  });

  it('a record edited after prepare no longer runs out of its memory', () => {
    const s = setup();
    expect(k.prepareRecord(s.rec)).toBe(0);
    s.setRec(W.SIZE, memEnd());
    expect(k.runFragment(s.rec, s.call)).toBe(KERNEL_ERROR.OUT_OF_MEMORY_BOUNDS);
  });
});

describe('random records', () => {
  it('never trap at prepare or run, and a refused record stays unusable', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.oneof(fc.integer(), fc.integer({ min: -2, max: 300 }))), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const s = setup();
          for (const [w, v] of edits) s.setRec(w, v);
          const prepared = k.prepareRecord(s.rec);
          const code = k.runFragment(s.rec, s.call);
          expect(code).toBeGreaterThanOrEqual(0);
          expect(code).toBeLessThan(KERNEL_ERRORS.length);
          if (prepared !== 0) expect(code).not.toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Places a whole-op fragment of any case in memory: record, tiles, output, call block. */
function placeWhole(c: OpCase): { rec: number; recBytes: number; call: number } {
  const p = c.params as KernelOpParams;
  const box = wholeOutputBox(p);
  const tiles = tilesFor(c, box);
  const mem = new Uint8Array(k.memory.buffer);
  let at = k.kernelScratchBase();
  const put = (bytes: Uint8Array) => {
    const off = at;
    mem.set(bytes, off);
    at = (off + bytes.length + 15) & ~15;
    return off;
  };
  const blob = packOp(p);
  const rec = put(blob);
  const refs = tiles.map((t, i) => ({ offset: put(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)), ...tile4(p, i, t.origin, t.shape) }));
  const outBytes = box.end.reduce((a, b, i) => a * (b - box.start[i]), 1) * 4;
  const out = put(new Uint8Array(outBytes));
  const depth: [number, number] | undefined = p.kind === 'FULLY_CONNECTED' ? [0, p.depth] : undefined;
  const call = put(packCall({ out, outBytes, box: box4(p, box), in0: refs[0], in1: refs[1], depth }));
  return { rec, recBytes: blob.length, call };
}

const anyOp = fc.oneof(
  convCase('CONV_2D'),
  convCase('DEPTHWISE_CONV_2D'),
  fcCase,
  poolCase('AVERAGE_POOL_2D'),
  addCase,
  softmaxCase,
  requantizeCase,
);

describe('random call blocks of every op', () => {
  it('never trap and return a known code; the record is never written', () => {
    fc.assert(
      fc.property(
        anyOp,
        fc.array(fc.tuple(fc.integer({ min: 0, max: CALL_WORDS - 1 }), fc.oneof(fc.integer(), fc.integer({ min: -2, max: 40 }))), { minLength: 1, maxLength: 4 }),
        (c, edits) => {
          const { rec, recBytes, call } = placeWhole(c);
          expect(k.prepareRecord(rec)).toBe(0);
          const before = new Uint8Array(k.memory.buffer).slice(rec, rec + recBytes);
          expect(k.runFragment(rec, call)).toBe(0);
          const words = new Int32Array(k.memory.buffer);
          for (const [w, v] of edits) words[call / 4 + w] = v;
          const code = k.runFragment(rec, call);
          expect(code).toBeGreaterThanOrEqual(0);
          expect(code).toBeLessThan(KERNEL_ERRORS.length);
          expect(new Uint8Array(k.memory.buffer).slice(rec, rec + recBytes)).toEqual(before);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('random call blocks', () => {
  it('never trap and return a known code; the record is never written', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: CALL_WORDS - 1 }), fc.oneof(fc.integer(), fc.integer({ min: -2, max: 40 }))), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const s = setup();
          expect(k.prepareRecord(s.rec)).toBe(0);
          const before = new Uint8Array(k.memory.buffer).slice(s.rec, s.call);
          for (const [w, v] of edits) s.setCall(w, v);
          const code = k.runFragment(s.rec, s.call);
          expect(code).toBeGreaterThanOrEqual(0);
          expect(code).toBeLessThan(KERNEL_ERRORS.length);
          expect(new Uint8Array(k.memory.buffer).slice(s.rec, s.call)).toEqual(before);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** The kernels' refusal code of running op 0 of `graph` whole, or 0. */
async function refusal(graph: Graph, input: Int8Array): Promise<number> {
  const engine = await createWasmEngine();
  const p = prepareOp(validateGraph(graph), 0);
  try {
    engine.runFragment(p, [wholeTile(input, graph.tensors[0].shape)], wholeOutputBox(p));
    return 0;
  } catch (e) {
    if (e instanceof KernelError) return e.code;
    throw e;
  }
}

describe('results TFLM leaves undefined are refused, as the oracle refuses them', () => {
  const q = (s: number, zp: number) => ({ scale: [s], zeroPoint: [zp] });

  it('an average pool whose declared output has windows outside the input -> BAD_RECORD', async () => {
    const graph: Graph = {
      tensors: [
        { name: 'x', shape: [1, 2, 2, 1], dtype: 'int8', quant: q(0.5, 0) },
        { name: 'y', shape: [1, 4, 4, 1], dtype: 'int8', quant: q(0.5, 0) },
      ],
      ops: [{ kind: 'AVERAGE_POOL_2D', inputs: [0], outputs: [1], padding: 'VALID', strideH: 1, strideW: 1, filterH: 1, filterW: 1, activation: 'NONE' }],
      inputs: [0],
      outputs: [1],
    };
    const input = Int8Array.from([1, 2, 3, 4]);
    expect(await refusal(graph, input)).toBe(KERNEL_ERROR.BAD_RECORD);
    const p = prepareOp(graph, 0);
    expect(() => runOpBox(p, [wholeTile(input, [1, 2, 2, 1])], wholeOutputBox(p))).toThrow(/empty window/);
  });

  it('an int8 softmax row of 600 equal values (final shift past 31) -> OUT_OF_RANGE', async () => {
    const graph: Graph = {
      tensors: [
        { name: 'x', shape: [1, 600], dtype: 'int8', quant: q(0.1, 0) },
        { name: 'y', shape: [1, 600], dtype: 'int8', quant: q(1 / 256, -128) },
      ],
      ops: [{ kind: 'SOFTMAX', inputs: [0], outputs: [1], beta: 1 }],
      inputs: [0],
      outputs: [1],
    };
    const input = new Int8Array(600).fill(7);
    expect(await refusal(graph, input)).toBe(KERNEL_ERROR.OUT_OF_RANGE);
    const p = prepareOp(graph, 0);
    expect(() => runOpBox(p, [wholeTile(input, [1, 600])], wholeOutputBox(p))).toThrow(/shift/);
    // A row of 600 where one value dominates is fine: its sum stays small.
    const peaked = Int8Array.from({ length: 600 }, (_, i) => (i === 0 ? 127 : -128));
    expect(await refusal(graph, peaked)).toBe(0);
  });
});

describe('host-side packing refuses what the kernels cannot run, in one line', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['a channel slice past the output channels', () => packOp(fixture.params, { channels: [2, 5] }), /^CONV_2D \(op 0\): channel slice \[2, 5\) is not a non-empty range inside \[0, 4\)$/],
    ['an empty channel slice', () => packOp(fixture.params, { channels: [1, 1] }), /channel slice \[1, 1\)/],
    ['RESHAPE, which runs host-side', () => packOp({ ...fixture.params, kind: 'RESHAPE' } as never), /^RESHAPE \(op 0\) is not a kernel op: it runs host-side$/],
    ['an FC box given in 4-D', () => box4({ kind: 'FULLY_CONNECTED', opIndex: 3 } as KernelOpParams, { start: [0, 0, 0, 0], end: [1, 1, 1, 1] }), /^FULLY_CONNECTED \(op 3\): boxes are 2-D \[batches, units\], got rank 4$/],
  ])('%s', (_name, pack, message) => {
    expect(pack).toThrow(message);
  });
});
