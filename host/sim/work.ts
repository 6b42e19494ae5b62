// How much arithmetic one RUN of a fragment costs, read from the fragment
// blob a LOAD carried (docs/protocol.md section 5, assembly/kernels/ABI.md):
// per op, its kind and its multiply-accumulates over the op's box, as the
// op's descriptor (host/abi/ops/) counts them from its record and call block. The
// simulated device delays each RESULT by this work at its stated MAC/s.
import { BLOB_HEADER, BLOB_HEADER_BYTES, BLOB_MAGIC, C, OP_ENTRY, OP_ENTRY_BYTES, W } from '../abi/abi.generated.ts';
import { describeKind, kindOfOpcode } from '../abi/ops/table.ts';
import type { OpKind } from '../model/ir.ts';
import { speedKey, type CONV_1X1 } from '../plan/profiles.ts';

export interface OpWork {
  /** The speed that applies: the op's kind (REQUANTIZE counts as QUANTIZE), or CONV_2D_1X1 for a 1x1 convolution. */
  kind: OpKind | typeof CONV_1X1;
  /** Multiply-accumulates; for pools, ADD, SOFTMAX and requantization, elements processed (window taps for pools). */
  macs: number;
}

/** The work of each op of a fragment blob, in order; throws one line when the blob is malformed. */
export function fragmentWork(blob: Uint8Array): OpWork[] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const u32 = (at: number, what: string): number => {
    if (at + 4 > blob.length) throw new Error(`fragment blob: ${what} at byte ${at} lies past its ${blob.length} bytes`);
    return view.getUint32(at, true);
  };
  if (u32(BLOB_HEADER.MAGIC, 'magic') !== BLOB_MAGIC) throw new Error('fragment blob: bad magic (want MSF1)');
  const ops = u32(BLOB_HEADER.OPS, 'op count');
  const out: OpWork[] = [];
  for (let i = 0; i < ops; i++) {
    const entry = BLOB_HEADER_BYTES + i * OP_ENTRY_BYTES;
    const rec = u32(entry + OP_ENTRY.RECORD, `op ${i} record offset`);
    const call = u32(entry + OP_ENTRY.CALL, `op ${i} call offset`);
    const r = (w: number) => u32(rec + 4 * w, `op ${i} record word ${w}`);
    const c = (w: number) => u32(call + 4 * w, `op ${i} call word ${w}`);
    const opcode = r(W.OPCODE);
    const kind = kindOfOpcode(opcode);
    if (!kind) throw new Error(`fragment blob: op ${i} has unknown opcode ${opcode}`);
    let box = 1;
    for (let d = 0; d < 4; d++) box *= c(C.BOX_END + d) - c(C.BOX_START + d);
    const macs = box * describeKind(kind).perOutputOfRecord(r, c);
    out.push({ kind: kind === 'CONV_2D' ? speedKey(kind, r(W.KH), r(W.KW)) : kind, macs });
  }
  return out;
}
