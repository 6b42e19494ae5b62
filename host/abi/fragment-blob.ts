// Packs a fragment blob (docs/protocol.md section 5): the header, the op
// table, and per op its kernel record (host/abi/kernel-abi.ts packOp) and
// call block (packCall) with activation offsets relative to the device's
// activation region. The agent validates and relocates; it never plans.
import { createHash } from 'node:crypto';
import {
  BLOB_ALIGN, BLOB_HEADER, BLOB_HEADER_BYTES, BLOB_MAGIC, CALL_BYTES, MAX_OPS, OP_ENTRY, OP_ENTRY_BYTES, RECORD_BYTES,
} from './abi.generated.ts';


export interface FragmentOp {
  /** Kernel op record + constants (packOp). */
  record: Uint8Array;
  /** Call block (packCall) with offsets relative to the activation region. */
  call: Uint8Array;
}

/** What one fragment blob holds (the plan's FragmentSpec is a different thing: which boxes a device computes). */
export interface BlobContents {
  ops: FragmentOp[];
  /** Where RUN's input tile goes in the activation region, and its bytes. */
  input: { offset: number; bytes: number };
  /** Where the output box is read from, and its bytes (RESULT data). */
  output: { offset: number; bytes: number };
}

const align = (n: number) => (n + BLOB_ALIGN - 1) & -BLOB_ALIGN;

/** Bytes of the blob packFragment writes for records of these sizes. */
export function blobBytes(recordSizes: readonly number[]): number {
  return recordSizes.reduce((at, r) => at + align(r) + CALL_BYTES, align(BLOB_HEADER_BYTES + recordSizes.length * OP_ENTRY_BYTES));
}

export function packFragment(spec: BlobContents): Uint8Array {
  const { ops, input, output } = spec;
  if (ops.length < 1 || ops.length > MAX_OPS) throw new RangeError(`a fragment has 1..${MAX_OPS} ops, got ${ops.length}`);
  for (const [name, r] of [['input', input], ['output', output]] as const) {
    if (!Number.isInteger(r.offset) || r.offset < 0 || !Number.isInteger(r.bytes) || r.bytes < 1) {
      throw new RangeError(`fragment ${name}: offset ${r.offset} and bytes ${r.bytes} must be a non-negative offset and a positive size`);
    }
  }
  let at = align(BLOB_HEADER_BYTES + ops.length * OP_ENTRY_BYTES);
  const places = ops.map((op, i) => {
    if (op.record.length < RECORD_BYTES) throw new RangeError(`op ${i}: record of ${op.record.length} bytes is shorter than its header`);
    if (op.call.length !== CALL_BYTES) throw new RangeError(`op ${i}: call block must be ${CALL_BYTES} bytes, got ${op.call.length}`);
    const record = at;
    at = align(at + op.record.length);
    const call = at;
    at = align(at + CALL_BYTES);
    return { record, call };
  });
  const blob = new Uint8Array(at);
  const dv = new DataView(blob.buffer);
  dv.setUint32(BLOB_HEADER.MAGIC, BLOB_MAGIC, true);
  dv.setUint32(BLOB_HEADER.OPS, ops.length, true);
  dv.setUint32(BLOB_HEADER.IN_OFFSET, input.offset, true);
  dv.setUint32(BLOB_HEADER.IN_BYTES, input.bytes, true);
  dv.setUint32(BLOB_HEADER.OUT_OFFSET, output.offset, true);
  dv.setUint32(BLOB_HEADER.OUT_BYTES, output.bytes, true);
  ops.forEach((op, i) => {
    const e = BLOB_HEADER_BYTES + i * OP_ENTRY_BYTES;
    dv.setUint32(e + OP_ENTRY.RECORD, places[i].record, true);
    dv.setUint32(e + OP_ENTRY.RECORD_BYTES, op.record.length, true);
    dv.setUint32(e + OP_ENTRY.CALL, places[i].call, true);
    blob.set(op.record, places[i].record);
    blob.set(op.call, places[i].call);
  });
  return blob;
}

/** The LOAD digest: SHA-256 of the whole blob. */
export function fragmentDigest(blob: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(blob).digest());
}
