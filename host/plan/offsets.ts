// The arena offset planner: places buffers with known lifetimes in one
// arena, after TFLite Micro's greedy memory planner. Pure functions; the
// fragment layout (layout.ts) and the plan inspector use it.

/** A buffer to place: its size and the first and last step (inclusive) it is live. */
export interface Buffer {
  size: number;
  first: number;
  last: number;
}

export interface OffsetPlan {
  offsets: number[];
  highWater: number;
}

const overlapsInTime = (a: Buffer, b: Buffer) => a.first <= b.last && b.first <= a.last;

/**
 * Places buffers in one arena, after TFLite Micro's greedy memory planner:
 *  1. order the buffers by size, largest first (ties: earlier first use, then index);
 *  2. for each, take the buffers already placed whose lifetimes overlap it, by offset;
 *  3. put it in the lowest gap between them that fits, or after the last one;
 *  4. the high-water mark is the largest offset + size.
 * A pure function: offsets come back in the order the buffers were given.
 */
export function planOffsets(buffers: readonly Buffer[]): OffsetPlan {
  const order = buffers.map((_, i) => i).sort((a, b) => buffers[b].size - buffers[a].size || buffers[a].first - buffers[b].first || a - b);
  const offsets = new Array<number>(buffers.length).fill(0);
  const placed: number[] = [];
  let highWater = 0;
  for (const i of order) {
    const b = buffers[i];
    const live = placed.filter((j) => overlapsInTime(b, buffers[j])).sort((x, y) => offsets[x] - offsets[y]);
    let at = 0;
    for (const j of live) {
      if (offsets[j] - at >= b.size) break;
      at = Math.max(at, offsets[j] + buffers[j].size);
    }
    offsets[i] = at;
    placed.push(i);
    highWater = Math.max(highWater, at + b.size);
  }
  return { offsets, highWater };
}

/** Test-only check: two buffers live at the same time never share a byte. Returns the first clash or null. */
export function findOverlap(buffers: readonly Buffer[], offsets: readonly number[]): [number, number] | null {
  for (let i = 0; i < buffers.length; i++)
    for (let j = i + 1; j < buffers.length; j++) {
      const a = buffers[i];
      const b = buffers[j];
      if (a.size === 0 || b.size === 0 || !overlapsInTime(a, b)) continue;
      if (offsets[i] < offsets[j] + b.size && offsets[j] < offsets[i] + a.size) return [i, j];
    }
  return null;
}

/** The largest sum of sizes live at one step: what any placement needs at least. */
export function maxLiveBytes(buffers: readonly Buffer[]): number {
  const steps = new Set(buffers.map((b) => b.first));
  let best = 0;
  for (const s of steps) best = Math.max(best, buffers.reduce((t, b) => t + (b.first <= s && s <= b.last ? b.size : 0), 0));
  return best;
}
