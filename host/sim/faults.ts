// Failure injection on frames: drop a whole frame, or flip one bit in it, each
// with a fixed probability, from a seeded generator so a run repeats.

export interface FrameFaultCounts {
  dropped: number;
  corrupted: number;
}

export class FrameFaults {
  readonly counts: FrameFaultCounts = { dropped: 0, corrupted: 0 };

  constructor(
    private readonly dropP: number,
    private readonly corruptP: number,
    private readonly random: () => number,
  ) {}

  /**
   * The frame as the other side gets it: null when dropped, else the same
   * bytes or a copy with one bit flipped. The flip never touches the final
   * delimiter and never makes a 0x00, so the frame stays one frame and fails
   * its CRC.
   */
  apply(frame: Uint8Array): Uint8Array | null {
    if (this.dropP > 0 && this.random() < this.dropP) {
      this.counts.dropped++;
      return null;
    }
    const body = frame[frame.length - 1] === 0 ? frame.length - 1 : frame.length;
    if (body === 0 || !(this.corruptP > 0 && this.random() < this.corruptP)) return frame;
    const out = frame.slice();
    const at = Math.floor(this.random() * body);
    let bit = 1 << Math.floor(this.random() * 8);
    if ((out[at] ^ bit) === 0) bit = bit === 1 ? 2 : 1;
    out[at] ^= bit;
    this.counts.corrupted++;
    return out;
  }
}
