// The `forwards` field of a RUN (docs/protocol.md section 3): what the
// device's host sends of this RUN's output straight to other devices. Packed
// as 80-byte records, twelve u32 (little endian) then 32 bytes of sealed
// route key, so a C host could read it as an array of structs.
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

const WORDS = 12;
const KEY_BYTES = 32;
const RECORD_BYTES = 4 * WORDS + KEY_BYTES;

function ipv4(host: string): number {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`forward to "${host}": not an IPv4 address`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function packForwards(list: readonly Forward[]): Uint8Array {
  const out = new Uint8Array(list.length * RECORD_BYTES);
  const v = new DataView(out.buffer);
  list.forEach((f, i) => {
    const words = [f.frag, f.outOffset, f.bytes, f.inOffset, f.total, f.run, ipv4(f.host), f.port, f.chunk, 0, 0, 0];
    words.forEach((w, k) => v.setUint32(i * RECORD_BYTES + 4 * k, w, true));
    if (f.key.length !== KEY_BYTES) throw new Error(`forward to fragment ${f.frag}: a route key of ${f.key.length} bytes, not ${KEY_BYTES}`);
    out.set(f.key, i * RECORD_BYTES + 4 * WORDS);
  });
  return out;
}

/** The records of a `forwards` field; throws on a length that is not whole records. */
export function unpackForwards(bytes: Uint8Array): Forward[] {
  if (bytes.length % RECORD_BYTES !== 0) throw new Error(`forwards of ${bytes.length} bytes: not a whole number of ${RECORD_BYTES}-byte records`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / RECORD_BYTES }, (_, i) => {
    const w = (k: number) => v.getUint32(i * RECORD_BYTES + 4 * k, true);
    const a = w(6);
    const at = i * RECORD_BYTES + 4 * WORDS;
    return {
      frag: w(0), outOffset: w(1), bytes: w(2), inOffset: w(3), total: w(4), run: w(5),
      host: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`, port: w(7), chunk: w(8),
      key: bytes.slice(at, at + KEY_BYTES),
    };
  });
}
