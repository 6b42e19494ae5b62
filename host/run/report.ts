// What a run reports about its devices: the plan's peak and the budget beside
// the high-water mark each device itself reported, and the bytes that
// crossed the links. Shared by `run`, `demo` and the benchmarks.
import type { DeviceClient } from '../link/client.ts';
import type { Plan } from '../plan/plan-file.ts';
import type { Executor } from './execute.ts';

export interface DeviceReport {
  id: string;
  budget: number;
  /** The plan's exact peak for this device (0 when it holds nothing). */
  peak: number;
  /** The device's own arena high-water mark, from its RESULTs (0 if it ran nothing). */
  high_water: number;
  fragments: number;
  busy_ms: number;
}

export function deviceReports(plan: Plan, executor: Executor): DeviceReport[] {
  const busy = new Map(executor.trace.byDevice().map((s) => [s.device, s]));
  return plan.devices.map((d) => {
    const mem = plan.memory.find((m) => m.device === d.id);
    return {
      id: d.id,
      budget: d.budget,
      peak: mem?.peak ?? 0,
      high_water: executor.highWater.get(d.id) ?? 0,
      fragments: busy.get(d.id)?.fragments ?? 0,
      busy_ms: Math.round(busy.get(d.id)?.busyMs ?? 0),
    };
  });
}

/** Bytes both ways on every link since the clients connected (frames, COBS and CRC included). */
export function bytesOnWire(clients: Iterable<DeviceClient>): number {
  return wireCounts(clients).bytes;
}

/** Bytes on the wire, and the part of them the gateway sent again (chunks, requests and RUNs it resent). */
export interface WireCounts {
  bytes: number;
  retransmitted: number;
}

export function wireCounts(clients: Iterable<DeviceClient>): WireCounts {
  const n = { bytes: 0, retransmitted: 0 };
  for (const c of clients) {
    n.bytes += c.stats.bytesIn + c.stats.bytesOut;
    n.retransmitted += c.stats.bytesRetransmitted;
  }
  return n;
}

/** What crossed the links between two readings of wireCounts. */
export function wireSince(before: WireCounts, clients: Iterable<DeviceClient>): WireCounts {
  const now = wireCounts(clients);
  return { bytes: now.bytes - before.bytes, retransmitted: now.retransmitted - before.retransmitted };
}

/** Checks the memory invariant: high-water <= plan peak <= budget on every device. */
export function memoryViolations(reports: DeviceReport[]): string[] {
  return reports.flatMap((r) => [
    ...(r.high_water > r.peak ? [`${r.id}: device high-water ${r.high_water} exceeds the plan's ${r.peak}`] : []),
    ...(r.peak > r.budget ? [`${r.id}: plan peak ${r.peak} exceeds the budget ${r.budget}`] : []),
  ]);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
