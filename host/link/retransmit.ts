// When to resend an unacknowledged chunk, and when to give a transfer up:
// the retransmission timeout of RFC 6298 (smoothed round trip and its
// variance, exponential backoff) and a time budget from the transfer's size
// and the link's rate.

/**
 * Floor of the timeout. Below it, a gateway or device process descheduled
 * for a moment triggers resends of chunks that were not lost.
 */
export const MIN_RTO_MS = 200;
/** Ceiling of the timeout, backoff included (RFC 6298 allows 60 s). */
export const MAX_RTO_MS = 60_000;

/**
 * Round-trip estimate of one link (Jacobson/Karels with RFC 6298's gains).
 * Every chunk carries its own sequence number and the device acknowledges
 * each one by it, so every ACK is an unambiguous sample, resent chunks
 * included: Karn's rule, needed where an ACK cannot tell which copy it
 * answers, is not.
 */
export class RetransmitTimer {
  private srtt?: number;
  private rttvar = 0;
  private backoff = 1;

  constructor(private readonly initialMs: number) {}

  /** The current timeout, ms: SRTT + 4 RTTVAR (or the initial value), doubled per unanswered timeout. */
  get timeoutMs(): number {
    const base = this.srtt === undefined ? this.initialMs : this.srtt + 4 * this.rttvar;
    return Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, base) * this.backoff);
  }

  /** A measured round trip, ms. Ends any backoff (RFC 6298 5.7). */
  sample(ms: number): void {
    if (this.srtt === undefined) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
    this.backoff = 1;
  }

  /** The timer fired: the next timeout is twice as long (RFC 6298 5.5). */
  expired(): void {
    if (this.timeoutMs < MAX_RTO_MS) this.backoff *= 2;
  }
}

/** A link's rate when nothing better is known: a UART at 115200 baud, 8N1. */
export const DEFAULT_LINK_BYTES_PER_SEC = 11_520;

/**
 * How long a transfer of `wireBytes` may take before it is given up: `slack`
 * times its time on the line at `bytesPerSec`, and never less than `floorMs`
 * (a device or gateway descheduled for seconds on a loaded host must not fail
 * a small transfer).
 */
export function transferBudgetMs(wireBytes: number, bytesPerSec: number, floorMs: number, slack = 8): number {
  return Math.max(floorMs, (slack * wireBytes * 1000) / bytesPerSec);
}
