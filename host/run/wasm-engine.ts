// The AS kernels (build/kernels.wasm) in this process, under Node's own
// WebAssembly or the wasm3 interpreter: runs a whole IR graph op by op, or one
// fragment of one op, through the same dispatch entry the device agent calls.
// Each call copies the op's record (packed by kernel-abi.ts), its input tiles
// and a call block into linear memory from the module's scratch base, runs,
// and copies the output box back. A whole-op
// run that does not fit in the module's memory is halved into boxes until
// each fits (each with its own tiles and weight slice) and stitched.
//
// RESHAPE and the float edges (QUANTIZE from float32, DEQUANTIZE to float32)
// are data conversions, not kernels: they run host-side through the oracle's
// implementation of those three ops. Everything int8 -> int8 (including
// QUANTIZE int8 -> int8) runs in the kernels.

import { describe, kernelOutputType, wholeDepth } from '../abi/ops/table.ts';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DTYPE_BYTES, numElements, type DType, type Graph, type TensorData } from '../model/ir.ts';
import { validateGraph } from '../model/validate.ts';
import type { Engine } from '../model/engine.ts';
import { prepareOp, type FullyConnectedParams, type OpParams } from '../model/op-params.ts';
import { runOpBox, wholeOutputBox, type Box, type Tile } from '../model/oracle.ts';
import { wholeTile } from '../model/oracle/tile.ts';
import { extractBox, insertBox } from './boxes.ts';
import {
  KERNEL_ABI_HASH,
  box4,
  isKernelOp,
  kernelErrorName,
  packCall,
  packOp,
  requiredTile,
  tile4,
  type KernelOpParams,
  type Slice,
  type TileRef,
} from '../abi/kernel-abi.ts';

/** What build/kernels.wasm exports (ABI.md "Entry points"). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  prepareRecord(rec: number): number;
  runFragment(rec: number, call: number): number;
  kernelAbiHash(): number;
  kernelScratchBase(): number;
  KERNEL_ABI_VERSION: { readonly value: number };
}

/** A call the kernels refused; `code` is the stable ABI error code. */
export class KernelError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'KernelError';
  }
}

export interface FragmentOptions {
  /** FULLY_CONNECTED: the input-depth range to sum; anything but the whole depth returns int32 partial sums. */
  depth?: [number, number];
  /** Constants to load (default: exactly the box's channels / units and the depth range). */
  slice?: Slice;
}

export interface WasmEngine extends Engine {
  readonly kernels: KernelExports;
  /**
   * One box of one op's output from tiles of its data inputs, with the
   * conventions of the oracle's runOpBox (FC boxes and tiles in the
   * [batches, units] / [batches, depth] view). Throws KernelError when the
   * kernels refuse the call.
   */
  runFragment(params: OpParams, inputs: Tile[], box: Box, options?: FragmentOptions): TensorData;
  /** Sum of FC partial sums of `box` (one array per depth range) + bias, requantized: the box's int8 output. */
  fcReduce(params: FullyConnectedParams, parts: readonly Int32Array[], box: Box): Int8Array;
}

export const DEFAULT_KERNELS_WASM = fileURLToPath(new URL('../../build/kernels.wasm', import.meta.url));

/** Which WebAssembly engine runs the kernels in this process: Node's own (V8), or the wasm3 interpreter (host/wasm3). */
export type KernelVm = 'v8' | 'wasm3';

export async function loadKernels(wasmPath = DEFAULT_KERNELS_WASM, vm: KernelVm = 'v8'): Promise<KernelExports> {
  let bytes: Buffer;
  try {
    bytes = await readFile(wasmPath);
  } catch {
    throw new Error(`cannot read ${wasmPath}: build it with npm run build:wasm`);
  }
  const code = new Uint8Array(bytes);
  // wasm3 is loaded only when asked for: it is built on first use and may be absent.
  const exports = vm === 'wasm3' ? (await import('../wasm3/wasm3.ts')).instantiate(code).exports : new WebAssembly.Instance(new WebAssembly.Module(code), {}).exports;
  const k = exports as unknown as KernelExports;
  if (k.kernelAbiHash() >>> 0 !== KERNEL_ABI_HASH)
    throw new Error(`${wasmPath}: kernel ABI hash ${(k.kernelAbiHash() >>> 0).toString(16)} differs from the host's ${KERNEL_ABI_HASH.toString(16)} (spec/abi.json): rebuild with npm run build:wasm`);
  return k;
}

const ARRAY_OF: Record<DType, new (n: number) => TensorData> = {
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
};

const bytesOf = (a: TensorData) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A fragment that does not fit in the module's linear memory. */
export class MemoryTooSmallError extends RangeError {
  override name = 'MemoryTooSmallError';
}

/** Bump placement of one call's regions in linear memory, from the scratch base. */
class Placement {
  private next: number;
  constructor(
    private readonly k: KernelExports,
    private readonly label: string,
  ) {
    this.next = k.kernelScratchBase();
  }

  reserve(bytes: number): number {
    const at = this.next;
    this.next = (at + bytes + 15) & ~15;
    const size = this.k.memory.buffer.byteLength;
    if (this.next > size) throw new MemoryTooSmallError(`${this.label}: needs ${this.next} bytes of linear memory, the kernels module has ${size}; split the op into smaller fragments`);
    return at;
  }

  put(bytes: Uint8Array): number {
    const at = this.reserve(bytes.length);
    new Uint8Array(this.k.memory.buffer, at, bytes.length).set(bytes);
    return at;
  }
}

export async function createWasmEngine(wasmPath = DEFAULT_KERNELS_WASM, vm: KernelVm = 'v8'): Promise<WasmEngine> {
  const k = await loadKernels(wasmPath, vm);
  // Packed blobs per params object and slice: packing copies weights, so a
  // graph run or a benchmark packs each op once.
  const packed = new WeakMap<OpParams, Map<string, Uint8Array>>();
  const pack = (p: KernelOpParams, slice: Slice): Uint8Array => {
    let bySlice = packed.get(p);
    if (!bySlice) packed.set(p, (bySlice = new Map()));
    const key = JSON.stringify(slice);
    let blob = bySlice.get(key);
    if (!blob) bySlice.set(key, (blob = packOp(p, slice)));
    return blob;
  };
  const labelOf = (p: OpParams) => `${p.kind} (op ${p.opIndex})`;

  /** Places and prepares a record; returns its offset. */
  const placeRecord = (mem: Placement, p: KernelOpParams, slice: Slice): number => {
    const rec = mem.put(pack(p, slice));
    const code = k.prepareRecord(rec);
    if (code !== 0) throw new KernelError(code, `${labelOf(p)}: the kernels refused the record: ${kernelErrorName(code)}`);
    return rec;
  };

  const run = (mem: Placement, p: KernelOpParams, rec: number, call: Uint8Array, outOffset: number, dtype: DType, count: number): TensorData => {
    const code = k.runFragment(rec, mem.put(call));
    if (code !== 0) throw new KernelError(code, `${labelOf(p)}: the kernels refused the fragment: ${kernelErrorName(code)}`);
    const out = new ARRAY_OF[dtype](count);
    bytesOf(out).set(new Uint8Array(k.memory.buffer, outOffset, count * DTYPE_BYTES[dtype]));
    return out;
  };

  const runFragment = (p: OpParams, inputs: Tile[], box: Box, options: FragmentOptions = {}): TensorData => {
    if (!isKernelOp(p)) return runOpBox(p, inputs, box);
    const label = labelOf(p);
    if (inputs.length !== p.inputs.length) throw new RangeError(`${label}: ${inputs.length} input tiles given, expected ${p.inputs.length}`);
    const whole = wholeDepth(p);
    if (options.depth && !whole) throw new RangeError(`${label}: a depth range applies to FULLY_CONNECTED only`);
    const b = box4(p, box);
    const depth = whole && (options.depth ?? whole);
    const partial = !!depth && (depth[0] !== whole![0] || depth[1] !== whole![1]);
    const mem = new Placement(k, label);
    const rec = placeRecord(mem, p, options.slice ?? describe(p).slice?.(p, b, depth) ?? {});
    const refs: TileRef[] = inputs.map((t, i) => {
      const { origin, extent } = tile4(p, i, t.origin, t.shape);
      if (!(t.data instanceof Int8Array) || t.data.length !== prod(extent))
        throw new RangeError(`${label}: input tile ${i} must be ${prod(extent)} int8 values, got ${t.data.length} ${t.data.constructor.name}`);
      return { offset: mem.put(bytesOf(t.data)), origin, extent };
    });
    const dtype = kernelOutputType(p, partial);
    const count = prod(b.end.map((e, i) => Math.max(0, e - b.start[i])));
    const outBytes = count * DTYPE_BYTES[dtype];
    const out = mem.reserve(outBytes);
    const call = packCall({ out, outBytes, box: b, in0: refs[0], in1: refs[1], depth });
    return run(mem, p, rec, call, out, dtype, count);
  };

  const fcReduce = (p: FullyConnectedParams, parts: readonly Int32Array[], box: Box): Int8Array => {
    const label = labelOf(p);
    const b = box4(p, box);
    const count = prod(b.end.map((e, i) => Math.max(0, e - b.start[i])));
    if (parts.length === 0 || parts.some((a) => a.length !== count))
      throw new RangeError(`${label}: fcReduce needs at least one partial-sum array of ${count} values`);
    const mem = new Placement(k, label);
    // The reduce reads only bias, multipliers and shifts: load a one-column weight slice.
    const rec = placeRecord(mem, p, { channels: [b.start[1], b.end[1]], depth: [0, 1] });
    const all = new Int32Array(count * parts.length);
    parts.forEach((a, i) => all.set(a, i * count));
    const src = mem.put(bytesOf(all));
    const out = mem.reserve(count);
    const call = packCall({ out, outBytes: count, box: b, in0: { offset: src, origin: [0, 0, 0, 0], extent: [0, 0, 0, 0] }, reduceParts: parts.length });
    return run(mem, p, rec, call, out, 'int8', count) as Int8Array;
  };

  return {
    name: vm === 'wasm3' ? 'wasm3' : 'wasm',
    kernels: k,
    runFragment,
    fcReduce,
    async runAll(graph: Graph, inputs: TensorData[]): Promise<(TensorData | undefined)[]> {
      validateGraph(graph);
      const T = graph.tensors;
      if (inputs.length !== graph.inputs.length) throw new RangeError(`wasm: ${inputs.length} inputs given, graph has ${graph.inputs.length}`);
      const values: (TensorData | undefined)[] = new Array(T.length);
      graph.inputs.forEach((id, i) => {
        const t = T[id];
        const v = inputs[i];
        if (!(v instanceof ARRAY_OF[t.dtype]) || v.length !== numElements(t.shape))
          throw new RangeError(`wasm: input ${i} (${t.name}) must be ${numElements(t.shape)} ${t.dtype} values, got ${v?.length} ${v?.constructor.name}`);
        values[id] = v;
      });
      graph.ops.forEach((_, i) => {
        const p = prepareOp(graph, i);
        const whole = p.inputs.map((id) => wholeTile((values[id] ?? T[id].data)!, T[id].shape));
        values[p.output] = isKernelOp(p) ? runInPieces(p, whole, wholeOutputBox(p)) : runOpBox(p, whole, wholeOutputBox(p));
      });
      return values;
    },
  };

  /**
   * Runs `box` of op p from whole input tensors; when it does not fit in
   * linear memory, halves the box along its longest axis (never a softmax
   * row), runs each half on its own smaller tiles and weight slice, and
   * stitches the halves.
   */
  function runInPieces(p: KernelOpParams, whole: Tile[], box: Box): TensorData {
    const tiles = whole.map((t, k) => cutTile(p, k, t, box));
    try {
      return runFragment(p, tiles, box);
    } catch (e) {
      if (!(e instanceof MemoryTooSmallError)) throw e;
      const extent = box.end.map((v, i) => v - box.start[i]);
      const axes = extent.map((_, i) => i).filter((i) => extent[i] > 1 && !(describe(p).wholeLastAxis && i === extent.length - 1));
      if (axes.length === 0) throw e;
      const axis = axes.reduce((a, b) => (extent[b] > extent[a] ? b : a));
      const mid = box.start[axis] + Math.floor(extent[axis] / 2);
      const halves: Box[] = [
        { start: box.start, end: box.end.map((v, i) => (i === axis ? mid : v)) },
        { start: box.start.map((v, i) => (i === axis ? mid : v)), end: box.end },
      ];
      const parts = halves.map((h) => runInPieces(p, whole, h));
      const out = new (parts[0].constructor as new (n: number) => TensorData)(prod(extent));
      halves.forEach((h, j) =>
        insertBox(out, extent, { start: h.start.map((v, i) => v - box.start[i]), end: h.end.map((v, i) => v - box.start[i]) }, parts[j]),
      );
      return out;
    }
  }
}

/** The part of whole input k that the kernels need for `box` (FC: in the [batches, depth] view). */
function cutTile(p: KernelOpParams, k: number, whole: Tile, box: Box): Tile {
  if (whole.shape.length === 0) return whole;
  const t = requiredTile(p, k, box);
  return { data: extractBox(whole.data, describe(p).inputView(p, k), { start: t.origin, end: t.origin.map((o, i) => o + t.shape[i]) }), origin: t.origin, shape: t.shape };
}
