// Bounds-checked access to flatbuffer tables. The `flatbuffers` package's
// ByteBuffer reads past its end silently (as zeros), so a truncated or
// corrupt file would import as garbage; every offset here is checked first
// and a bad one throws a FlatError naming what was being read.
import { ByteBuffer } from 'flatbuffers';

export class FlatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlatError';
  }
}

export class FlatTable {
  private readonly vtable: number;
  private readonly vtableSize: number;

  constructor(
    private readonly bb: ByteBuffer,
    readonly pos: number,
    /** What this table is, for error messages ("tensor 3"). */
    readonly what: string,
  ) {
    check(bb, pos, 4, what);
    this.vtable = pos - bb.readInt32(pos);
    check(bb, this.vtable, 4, `${what} vtable`);
    this.vtableSize = bb.readUint16(this.vtable);
    check(bb, this.vtable, this.vtableSize, `${what} vtable`);
    const tableSize = bb.readUint16(this.vtable + 2);
    check(bb, pos, tableSize, what);
  }

  /** Position of field `id`'s value, or 0 when the field is absent. */
  private field(id: number): number {
    const at = 4 + 2 * id;
    if (at + 2 > this.vtableSize) return 0;
    const rel = this.bb.readUint16(this.vtable + at);
    return rel === 0 ? 0 : this.pos + rel;
  }

  has(id: number): boolean {
    return this.field(id) !== 0;
  }

  private scalar(id: number, size: number, name: string): number {
    const p = this.field(id);
    if (p) check(this.bb, p, size, `${this.what} ${name}`);
    return p;
  }

  u8(id: number, def = 0): number {
    const p = this.scalar(id, 1, `field ${id}`);
    return p ? this.bb.readUint8(p) : def;
  }

  i8(id: number, def = 0): number {
    const p = this.scalar(id, 1, `field ${id}`);
    return p ? this.bb.readInt8(p) : def;
  }

  bool(id: number, def = false): boolean {
    const p = this.scalar(id, 1, `field ${id}`);
    return p ? this.bb.readUint8(p) !== 0 : def;
  }

  i32(id: number, def = 0): number {
    const p = this.scalar(id, 4, `field ${id}`);
    return p ? this.bb.readInt32(p) : def;
  }

  u32(id: number, def = 0): number {
    const p = this.scalar(id, 4, `field ${id}`);
    return p ? this.bb.readUint32(p) : def;
  }

  f32(id: number, def = 0): number {
    const p = this.scalar(id, 4, `field ${id}`);
    return p ? this.bb.readFloat32(p) : def;
  }

  /** A ulong field as a number; values past 2^53 are refused. */
  u64(id: number, def = 0): number {
    const p = this.scalar(id, 8, `field ${id}`);
    if (!p) return def;
    const v = this.bb.readUint64(p);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FlatError(`${this.what}: field ${id} value ${v} is too large`);
    return Number(v);
  }

  /** Follows the offset stored at field `id`; returns [start of target, or 0 when absent]. */
  private indirect(id: number, name: string): number {
    const p = this.scalar(id, 4, name);
    if (!p) return 0;
    const target = p + this.bb.readUint32(p);
    check(this.bb, target, 4, `${this.what} ${name}`);
    return target;
  }

  table(id: number, what: string): FlatTable | undefined {
    const p = this.indirect(id, what);
    return p ? new FlatTable(this.bb, p, what) : undefined;
  }

  /** A vector field: [position of the first element, element count]; [0, 0] when absent. */
  private vector(id: number, elemSize: number, name: string): [number, number] {
    const p = this.indirect(id, name);
    if (!p) return [0, 0];
    const n = this.bb.readUint32(p);
    check(this.bb, p + 4, n * elemSize, `${this.what} ${name}`);
    return [p + 4, n];
  }

  /** A vector of tables; element i is described as `name[i]` in errors. */
  tables(id: number, name: string): FlatTable[] {
    const [start, n] = this.vector(id, 4, name);
    return Array.from({ length: n }, (_, i) => {
      const at = start + 4 * i;
      return new FlatTable(this.bb, at + this.bb.readUint32(at), `${name}[${i}]`);
    });
  }

  i32s(id: number, name: string): number[] {
    const [start, n] = this.vector(id, 4, name);
    return Array.from({ length: n }, (_, i) => this.bb.readInt32(start + 4 * i));
  }

  f32s(id: number, name: string): number[] {
    const [start, n] = this.vector(id, 4, name);
    return Array.from({ length: n }, (_, i) => this.bb.readFloat32(start + 4 * i));
  }

  i64s(id: number, name: string): number[] {
    const [start, n] = this.vector(id, 8, name);
    return Array.from({ length: n }, (_, i) => Number(this.bb.readInt64(start + 8 * i)));
  }

  /** A [ubyte] vector as a view into the file's bytes (not a copy). */
  bytes(id: number, name: string): Uint8Array {
    const [start, n] = this.vector(id, 1, name);
    return this.bb.bytes().subarray(start, start + n);
  }

  /** A string field; flatbuffers end every string with a zero byte, so a missing one means corruption. */
  string(id: number, name: string): string | undefined {
    const [start, n] = this.vector(id, 1, name);
    if (!start) return undefined;
    check(this.bb, start, n + 1, `${this.what} ${name}`);
    if (this.bb.readUint8(start + n) !== 0) throw new FlatError(`${this.what} ${name} is not zero-terminated: corrupt`);
    return new TextDecoder().decode(this.bb.bytes().subarray(start, start + n));
  }
}

function check(bb: ByteBuffer, pos: number, size: number, what: string): void {
  if (!Number.isInteger(pos) || pos < 0 || size < 0 || pos + size > bb.capacity())
    throw new FlatError(`${what} lies outside the file (bytes ${pos}..${pos + size} of ${bb.capacity()}): truncated or corrupt`);
}

/** The root table of a flatbuffer with the given 4-byte file identifier. */
export function rootTable(bytes: Uint8Array, identifier: string, what: string): FlatTable {
  if (bytes.length < 8) throw new FlatError(`file of ${bytes.length} bytes is too short to be a flatbuffer: truncated`);
  const bb = new ByteBuffer(bytes);
  const id = new TextDecoder('latin1').decode(bytes.subarray(4, 8));
  if (id !== identifier)
    throw new FlatError(`file identifier is ${JSON.stringify(id)}, expected ${JSON.stringify(identifier)}: not a ${what} file`);
  return new FlatTable(bb, bb.readUint32(0), what);
}
