// The `forwards` field of a RUN (docs/protocol.md section 3): what the
// device's host sends of this RUN's output straight to other devices, as
// records of spec/abi.json's forward layout (FORWARD), which a C host reads
// from the same spec (MS_FWD_*).
import { FORWARD, FORWARD_BYTES } from '../abi/abi.generated.ts';

export interface Forward {
  /** The consumer's fragment id. */
  frag: number;
  /** Range of this RUN's output box. */
  outOffset: number;
  bytes: number;
  /** Where the range goes in the consumer's input, and that input's size. */
  inOffset: number;
  total: number;
  /** The consumer input's run (nonzero). */
  run: number;
  /** The consumer device's IPv4 address and mesh port (its HELLO `mesh`). */
  host: string;
  port: number;
  /** Data bytes per forwarded frame: what fits the consumer's receive window. */
  chunk: number;
  /** A keyed consumer's route key for this run, sealed for the producer's host (TO_HOST, its session, the run); zeros when unkeyed. */
  key: Uint8Array;
}

const KEY_BYTES = FORWARD_BYTES - FORWARD.KEY;

/** The record's u32 words in layout order (the reserved ones stay 0). */
const WORDS = ['FRAG', 'OUT_OFFSET', 'BYTES', 'IN_OFFSET', 'TOTAL', 'RUN', 'IPV4', 'PORT', 'CHUNK'] as const;

function ipv4(host: string): number {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`forward to "${host}": not an IPv4 address`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function wordsOf(f: Forward): Record<(typeof WORDS)[number], number> {
  return { FRAG: f.frag, OUT_OFFSET: f.outOffset, BYTES: f.bytes, IN_OFFSET: f.inOffset, TOTAL: f.total, RUN: f.run, IPV4: ipv4(f.host), PORT: f.port, CHUNK: f.chunk };
}

export function packForwards(list: readonly Forward[]): Uint8Array {
  const out = new Uint8Array(list.length * FORWARD_BYTES);
  const v = new DataView(out.buffer);
  list.forEach((f, i) => {
    const at = i * FORWARD_BYTES;
    const words = wordsOf(f);
    for (const name of WORDS) v.setUint32(at + FORWARD[name], words[name], true);
    if (f.key.length !== KEY_BYTES) throw new Error(`forward to fragment ${f.frag}: a route key of ${f.key.length} bytes, not ${KEY_BYTES}`);
    out.set(f.key, at + FORWARD.KEY);
  });
  return out;
}

/** The records of a `forwards` field; throws on a length that is not whole records. */
export function unpackForwards(bytes: Uint8Array): Forward[] {
  if (bytes.length % FORWARD_BYTES !== 0) throw new Error(`forwards of ${bytes.length} bytes: not a whole number of ${FORWARD_BYTES}-byte records`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / FORWARD_BYTES }, (_, i) => {
    const at = i * FORWARD_BYTES;
    const w = (name: (typeof WORDS)[number]) => v.getUint32(at + FORWARD[name], true);
    const a = w('IPV4');
    return {
      frag: w('FRAG'), outOffset: w('OUT_OFFSET'), bytes: w('BYTES'), inOffset: w('IN_OFFSET'), total: w('TOTAL'), run: w('RUN'),
      host: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`, port: w('PORT'), chunk: w('CHUNK'),
      key: bytes.slice(at + FORWARD.KEY, at + FORWARD_BYTES),
    };
  });
}
