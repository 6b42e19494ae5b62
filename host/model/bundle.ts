// microsplit's own model bundle (.msb): one IR graph with its constants, in
// a compact binary file with a version and a content hash.
//
// Layout (little-endian):
//   0   4 bytes  magic "MSBN"
//   4   u16      format version (BUNDLE_VERSION)
//   6   u16      flags, 0
//   8   u32      J: byte length of the structure (UTF-8 JSON)
//   12  u32      D: byte length of the data section
//   16  32 bytes SHA-256 of everything after the header (bytes 48..end)
//   48  J bytes  structure: { name?, inputs, outputs, tensors, ops }; a
//                constant tensor has data: { offset, length } (bytes, from
//                the start of the data section) instead of values
//   then zero padding to a multiple of 8, then the D-byte data section;
//   every constant starts at a multiple of 8 within it.
//
// Writing is canonical (fixed key order, ops' keys sorted), so a graph read
// from a bundle writes back to the same bytes.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DType, Graph, Op, Quant, Tensor, TensorData } from './ir.ts';
import { DTYPE_BYTES, OP_KINDS } from './ir.ts';
import { validateGraph } from './validate.ts';

export const BUNDLE_VERSION = 1;
const MAGIC = 'MSBN';
const HEADER = 48;
const ALIGN = 8;

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

const DTYPES = Object.keys(DTYPE_BYTES) as [DType, ...DType[]];
const quantSchema = z.object({
  scale: z.array(z.number()),
  zeroPoint: z.array(z.number().int()),
  axis: z.number().int().nonnegative().optional(),
});
const tensorSchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(DTYPES),
  quant: quantSchema.optional(),
  data: z.object({ offset: z.number().int().nonnegative(), length: z.number().int().nonnegative() }).optional(),
});
// Op options are checked by validateGraph; here only the shape of the record.
const opSchema = z
  .object({
    kind: z.enum(OP_KINDS as [Op['kind'], ...Op['kind'][]]),
    inputs: z.array(z.number().int()),
    outputs: z.array(z.number().int()),
  })
  .catchall(z.union([z.number(), z.string(), z.boolean(), z.array(z.number())]));
const structureSchema = z.object({
  name: z.string().optional(),
  inputs: z.array(z.number().int()),
  outputs: z.array(z.number().int()),
  tensors: z.array(tensorSchema),
  ops: z.array(opSchema),
});

function canonicalQuant(q: Quant): Quant {
  return { scale: [...q.scale], zeroPoint: [...q.zeroPoint], ...(q.axis !== undefined ? { axis: q.axis } : {}) };
}

function canonicalOp(op: Op): Record<string, unknown> {
  const rec = op as unknown as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(rec)
      .sort()
      .map((k) => [k, Array.isArray(rec[k]) ? [...(rec[k] as unknown[])] : rec[k]]),
  );
}

function dataBytes(t: Tensor): Uint8Array {
  const d = t.data!;
  const out = new Uint8Array(d.length * DTYPE_BYTES[t.dtype]);
  const view = new DataView(out.buffer);
  const put = { int8: view.setInt8, int16: view.setInt16, int32: view.setInt32, float32: view.setFloat32 }[t.dtype];
  const size = DTYPE_BYTES[t.dtype];
  for (let i = 0; i < d.length; i++) put.call(view, i * size, d[i], true);
  return out;
}

function dataFromBytes(dtype: DType, b: Uint8Array): TensorData {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const size = DTYPE_BYTES[dtype];
  const n = b.byteLength / size;
  switch (dtype) {
    case 'int8': {
      // A copy: `b` may be a Node Buffer view whose .buffer is a shared pool.
      const copy = new Int8Array(b.byteLength);
      copy.set(new Int8Array(b.buffer, b.byteOffset, b.byteLength));
      return copy;
    }
    case 'int16':
      return Int16Array.from({ length: n }, (_, i) => view.getInt16(i * size, true));
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => view.getInt32(i * size, true));
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * size, true));
  }
}

/** Serializes a graph (validated first) into bundle bytes. */
export function writeBundle(graph: Graph): Uint8Array {
  validateGraph(graph);
  const blobs: { offset: number; bytes: Uint8Array }[] = [];
  let dataLen = 0;
  const tensors = graph.tensors.map((t) => {
    const rec: Record<string, unknown> = { name: t.name, shape: [...t.shape], dtype: t.dtype };
    if (t.quant) rec.quant = canonicalQuant(t.quant);
    if (t.data) {
      const bytes = dataBytes(t);
      rec.data = { offset: dataLen, length: bytes.length };
      blobs.push({ offset: dataLen, bytes });
      dataLen = align(dataLen + bytes.length);
    }
    return rec;
  });
  const structure = {
    ...(graph.name !== undefined ? { name: graph.name } : {}),
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
    tensors,
    ops: graph.ops.map(canonicalOp),
  };
  const json = new TextEncoder().encode(JSON.stringify(structure));
  const dataStart = HEADER + align(json.length);
  const out = new Uint8Array(dataStart + dataLen);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint16(4, BUNDLE_VERSION, true);
  view.setUint32(8, json.length, true);
  view.setUint32(12, dataLen, true);
  out.set(json, HEADER);
  for (const b of blobs) out.set(b.bytes, dataStart + b.offset);
  out.set(sha256(out.subarray(HEADER)), 16);
  return out;
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** Parses and checks bundle bytes: magic, version, hash, structure, graph. */
export function readBundle(bytes: Uint8Array, source = 'bundle'): Graph {
  const fail = (msg: string): never => {
    throw new BundleError(`${source}: ${msg}`);
  };
  if (bytes.length < HEADER) fail(`${bytes.length} bytes, too short for the ${HEADER}-byte header`);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) fail(`not a microsplit bundle (magic is not "${MAGIC}")`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (version !== BUNDLE_VERSION) fail(`bundle format version ${version}, this build reads version ${BUNDLE_VERSION}`);
  const jsonLen = view.getUint32(8, true);
  const dataLen = view.getUint32(12, true);
  const dataStart = HEADER + align(jsonLen);
  if (bytes.length !== dataStart + dataLen) fail(`${bytes.length} bytes, the header says ${dataStart + dataLen} (truncated or padded file)`);
  const hash = sha256(bytes.subarray(HEADER));
  if (!hash.every((b, i) => b === bytes[16 + i])) fail('content hash mismatch (the file is corrupted)');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER, HEADER + jsonLen)));
  } catch {
    fail('structure is not valid JSON');
  }
  const parsed = structureSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`structure: ${issue.path.join('.')}: ${issue.message}`);
  }
  const s = parsed.data!;
  const tensors: Tensor[] = s.tensors.map((t, i) => {
    const tensor: Tensor = { name: t.name, shape: t.shape, dtype: t.dtype };
    if (t.quant) tensor.quant = t.quant;
    if (t.data) {
      const { offset, length } = t.data;
      if (offset + length > dataLen) fail(`tensor ${i} (${t.name}): data runs past the data section`);
      if (length % DTYPE_BYTES[t.dtype] !== 0) fail(`tensor ${i} (${t.name}): ${length} bytes is not a whole number of ${t.dtype} values`);
      tensor.data = dataFromBytes(t.dtype, bytes.subarray(dataStart + offset, dataStart + offset + length));
    }
    return tensor;
  });
  const graph: Graph = {
    ...(s.name !== undefined ? { name: s.name } : {}),
    tensors,
    ops: s.ops as unknown as Op[],
    inputs: s.inputs,
    outputs: s.outputs,
  };
  try {
    return validateGraph(graph);
  } catch (e) {
    return fail(`invalid graph: ${(e as Error).message}`);
  }
}
