// Cuts a byte stream into frames at each 0x00 delimiter, so the simulator can
// time, drop or corrupt whole frames. Bytes that never meet a delimiter are
// passed on in pieces of `maxBytes`, so an oversized frame still reaches the
// agent (which must refuse it) and the buffer stays bounded.

export class FrameSplitter {
  private parts: Uint8Array[] = [];
  private held = 0;

  constructor(private readonly maxBytes: number) {}

  /** Every complete frame (delimiter included) and every full piece in `chunk`. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === 0) {
        out.push(this.take(chunk.subarray(start, i + 1)));
        start = i + 1;
      } else if (this.held + i + 1 - start >= this.maxBytes) {
        out.push(this.take(chunk.subarray(start, i + 1)));
        start = i + 1;
      }
    }
    if (start < chunk.length) {
      this.parts.push(chunk.slice(start));
      this.held += chunk.length - start;
    }
    return out;
  }

  private take(tail: Uint8Array): Uint8Array {
    if (this.held === 0) return tail.slice();
    const out = new Uint8Array(this.held + tail.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    out.set(tail, at);
    this.parts = [];
    this.held = 0;
    return out;
  }
}
