// Per-fragment traces of a run: what ran where, when, how many bytes, how many
// retries, and what the cost model predicted. Written as JSON lines and summed
// up per device.
import { appendFileSync, writeFileSync } from 'node:fs';

export interface TraceRecord {
  inference: number;
  stage: number;
  fragment: string;
  device: string;
  /** Milliseconds since the run started: when the fragment's inputs were ready and cut, and when this RUN ended. */
  start: number;
  end: number;
  /** When its device began the RUN (after what ran before it on that device); absent if it never began. */
  begun?: number;
  bytesIn: number;
  bytesOut: number;
  retries: number;
  /** The cost model's predicted duration of this fragment, ms. */
  predictedMs: number;
  outcome: 'ok' | 'cancelled' | 'timeout' | 'failed';
  detail?: string;
}

export interface DeviceSummary {
  device: string;
  fragments: number;
  busyMs: number;
  predictedMs: number;
  bytesIn: number;
  bytesOut: number;
  retries: number;
  failures: number;
}

export class Trace {
  readonly records: TraceRecord[] = [];

  constructor(private readonly file?: string) {
    if (file) writeFileSync(file, '');
  }

  add(r: TraceRecord): void {
    this.records.push(r);
    if (this.file) appendFileSync(this.file, JSON.stringify(r) + '\n');
  }

  byDevice(): DeviceSummary[] {
    const m = new Map<string, DeviceSummary>();
    for (const r of this.records) {
      const s = m.get(r.device) ?? { device: r.device, fragments: 0, busyMs: 0, predictedMs: 0, bytesIn: 0, bytesOut: 0, retries: 0, failures: 0 };
      if (r.outcome === 'ok') {
        s.fragments++;
        s.busyMs += r.end - r.start;
        s.predictedMs += r.predictedMs;
      } else if (r.outcome !== 'cancelled') s.failures++;
      s.bytesIn += r.bytesIn;
      s.bytesOut += r.bytesOut;
      s.retries += r.retries;
      m.set(r.device, s);
    }
    return [...m.values()].sort((a, b) => a.device.localeCompare(b.device));
  }
}
