// Device-to-device routes (DISNET's mesh): where a consumer fragment's input
// tile overlaps a producer fragment's output box, and the two devices have a
// direct link (a device profile's `peers`), the producer may send those bytes
// straight to the consumer instead of through the gateway. A route exists
// only where the overlap is one contiguous byte range both in the producer's
// output box and in the consumer's input tile (row strips with full width and
// channels are), so it travels as one RUN chunk range; and only between
// unreplicated fragments (a device that forwards also routes to itself).
// Everything else stays star.
import { DTYPE_BYTES, type Graph } from '../model/ir.ts';
import { boxVolume, inputView, outputView, type Box, type OpBox } from './fragments.ts';
import type { DeviceProfile } from './profiles.ts';

/** One forward: bytes [outOffset, outOffset + bytes) of the producer's output box go to offset `inOffset` of the consumer's input. */
export interface Route {
  /** Stage and index of the consumer fragment. */
  stage: number;
  fragment: number;
  outOffset: number;
  bytes: number;
  inOffset: number;
  /** The direct link it travels. */
  link: { bytesPerSec: number; latencyS: number };
}

/** What routes need of a stage: where it runs and its fragments' ops and devices (indices into the device list). */
export interface RouteStage {
  gateway: boolean;
  fragments: readonly { ops: readonly OpBox[]; devices: readonly number[] }[];
}

/** A device that forwards to itself keeps the bytes: they cross no link. */
const SAME_DEVICE = { bytesPerSec: Infinity, latencyS: 0 };

/**
 * The direct link from device a to device b, if the profiles give one. A
 * device with direct links (one that forwards) also routes to itself: its
 * own output rows stay on it instead of a round trip through the gateway.
 */
export function peerLink(devices: readonly DeviceProfile[], a: number, b: number): { bytesPerSec: number; latencyS: number } | undefined {
  const peers = devices[a].peers;
  if (a === b) return peers && Object.keys(peers).length > 0 ? SAME_DEVICE : undefined;
  return peers?.[devices[b].id];
}

const sameView = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function intersect(a: Box, b: Box): Box | undefined {
  const start = a.start.map((s, i) => Math.max(s, b.start[i]));
  const end = a.end.map((e, i) => Math.min(e, b.end[i]));
  return start.every((s, i) => s < end[i]) ? { start, end } : undefined;
}

/**
 * Element offset of `inner` in `outer`'s row-major layout when `inner` is one
 * contiguous run of it (every axis after the first one it cuts is whole, every
 * axis before it is one wide); undefined otherwise.
 */
export function contiguousOffset(outer: Box, inner: Box): number | undefined {
  const n = outer.start.length;
  const ext = (b: Box, i: number) => b.end[i] - b.start[i];
  let k = n - 1;
  while (k >= 0 && ext(inner, k) === ext(outer, k)) k--;
  for (let j = 0; j < k; j++) if (ext(inner, j) !== 1) return undefined;
  let offset = 0;
  for (let j = 0; j < n; j++) offset = offset * ext(outer, j) + (inner.start[j] - outer.start[j]);
  return offset;
}

/**
 * The routes of every producer fragment, by stage and fragment index: for
 * each consumer in a later stage that reads part of its output over a direct link.
 */
export function planRoutes(g: Graph, stages: readonly RouteStage[], devices: readonly DeviceProfile[]): Route[][][] {
  const routes: Route[][][] = stages.map((s) => s.fragments.map((): Route[] => []));
  stages.forEach((cs, ci) => {
    if (cs.gateway) return;
    cs.fragments.forEach((cf, cfi) => {
      if (cf.devices.length !== 1) return;
      const first = cf.ops[0];
      let partOffset = 0;
      first.tiles.forEach((tile, k) => {
        if (!tile) return;
        const t = g.ops[first.op].inputs[k];
        const elem = DTYPE_BYTES[g.tensors[t].dtype];
        const view = k === 0 ? inputView(g, first.op) : g.tensors[t].shape;
        for (let pi = 0; pi < ci; pi++) {
          if (stages[pi].gateway) continue;
          stages[pi].fragments.forEach((pf, pfi) => {
            const last = pf.ops[pf.ops.length - 1];
            if (pf.devices.length !== 1 || g.ops[last.op].outputs[0] !== t || !sameView(outputView(g, last.op), view)) return;
            const link = peerLink(devices, pf.devices[0], cf.devices[0]);
            if (!link) return;
            const overlap = intersect(last.out, tile);
            if (!overlap) return;
            const outAt = contiguousOffset(last.out, overlap);
            const inAt = contiguousOffset(tile, overlap);
            if (outAt === undefined || inAt === undefined) return;
            routes[pi][pfi].push({ stage: ci, fragment: cfi, outOffset: outAt * elem, bytes: boxVolume(overlap) * elem, inOffset: partOffset + inAt * elem, link });
          });
        }
        partOffset += boxVolume(tile) * elem;
      });
    });
  });
  return routes;
}
