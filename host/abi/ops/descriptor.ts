// What every op kind tells the rest of the gateway, the TFLite Micro way (one
// registration per op): where it runs, how a stage of it may be split, the
// spaces its boxes live in, the work
// and the input tile (halo) of an output box, its weight slice, and how its
// record is packed. Planner, simulator, executor and benchmarks ask these, and
// ops/table.ts maps every op kind to its descriptor.
import type { OpGeometry } from '../../model/geometry.ts';
import type { DType } from '../../model/ir.ts';
import type { OpParams } from '../../model/op-params.ts';
import type { Box } from '../../model/oracle/tile.ts';
import type { RecordWriter, Slice } from '../record.ts';

/** How a stage's output is divided among its fragments. */
export const SPLIT_MODES = ['rows', 'channels', 'grid', 'whole'] as const;
export type SplitMode = (typeof SPLIT_MODES)[number];

/** Reads word w of a packed op record or call block (as a device sees it). */
export type WordReader = (w: number) => number;

export interface OpDescriptor<G extends OpGeometry = OpGeometry, P extends OpParams = OpParams> {
  /** True when a device runs it (a kernel exists); false for the gateway's copies and float edges. */
  runsOnDevice(o: G): boolean;
  /** Output computed from a window over one activation tile: fusable into tiled stacks, split by rows or grids. */
  readonly spatial: boolean;
  /** How a stage of this op alone may be split besides 'whole' (a fused stack of spatial ops: rows or grid). */
  splits(o: G): SplitMode[];
  /** The shape output boxes are given in. */
  outputView(o: G): number[];
  /** The shape tiles of data input k are given in. */
  inputView(o: G, k: number): number[];
  /** 4-word record shapes: views aligned right (padded with 1 in front), except where an op aligns them left. */
  readonly alignLeft?: boolean;
  /**
   * Inputs read per output (window taps × depth): an output box costs its
   * volume times this many multiply-accumulates (elements for pools, ADD,
   * SOFTMAX, requantization). `depth`: FC's summed input range.
   */
  perOutput(o: G, depth?: [number, number]): number;
  /** The same, read from a packed record and call block: what a simulated device charges. */
  perOutputOfRecord(record: WordReader, call: WordReader): number;
  /** The tile of data input k that output `box` reads, halo included, in inputView(o, k). */
  inputTile(o: G, k: number, box: Box, depth?: [number, number]): Box;
  /** Weight bytes per output channel (0 for ops without weights). */
  weightsPerChannel(o: G): number;
  /** The constants output `box` needs (weighted ops: its channels; FC also its summed depth); absent: none. */
  slice?(o: G, box: Box, depth?: [number, number]): Slice;
  /** Opcode of its kernel record (device ops only); a simulated device reads the kind back from it. */
  opcode?(kind: G['kind']): number;
  /**
   * The input depth each output sums (FC): a fragment may sum a range of it,
   * and the partial sums then meet in an FC_REDUCE call. Absent: no depth range.
   */
  depth?(o: G): number;
  /** The kernel's output element type when not int8 (softmax's int16 output, FC's int32 partial sums). */
  outputType?(p: P, partialSums: boolean): DType;
  /** Boxes hold the last axis whole (softmax rows), so a box is never cut along it. */
  readonly wholeLastAxis?: boolean;
  /** Fills the op-specific words and constants of its record. */
  pack?(rec: RecordWriter, p: P, slice: Slice, label: string): void;
}

/** An op whose every output reads the same element of its input (softmax: of its row, which a box holds whole). */
export const elementwise = {
  spatial: false,
  // Softmax boxes must hold whole rows, and a requantization is too cheap to be worth an exchange.
  splits: (): SplitMode[] => [],
  outputView: (o: OpGeometry) => [...o.outputShape],
  inputView: (o: OpGeometry) => [...o.outputShape],
  perOutput: () => 1,
  perOutputOfRecord: () => 1,
  inputTile: (_o: OpGeometry, _k: number, box: Box): Box => ({ start: [...box.start], end: [...box.end] }),
  weightsPerChannel: () => 0,
} as const;
