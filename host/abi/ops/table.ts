// The one table of op descriptors: every op kind of the IR to the file that
// describes how the gateway and devices run it. A new op is a file beside
// these and a line here, its shape checks in model/ops/ (the graph gate, below
// this room), its kernel in assembly/kernels and its opcode in spec/abi.json.
import type { OpGeometry } from '../../model/geometry.ts';
import { geometryOf } from '../../model/ops/table.ts';
import { OP_KINDS, type DType, type Graph, type OpKind } from '../../model/ir.ts';
import type { OpParams } from '../../model/op-params.ts';
import type { Box } from '../../model/oracle/tile.ts';
import { add } from './add.ts';
import { conv2d } from './conv-2d.ts';
import { depthwiseConv2d } from './depthwise-conv-2d.ts';
import type { OpDescriptor } from './descriptor.ts';
import { fullyConnected } from './fully-connected.ts';
import { onGateway } from './gateway-copies.ts';
import { pool2d } from './pool-2d.ts';
import { quantize } from './quantize.ts';
import { softmax } from './softmax.ts';

const OPS: Record<OpKind, OpDescriptor<never, never>> = {
  CONV_2D: conv2d,
  DEPTHWISE_CONV_2D: depthwiseConv2d,
  FULLY_CONNECTED: fullyConnected,
  MAX_POOL_2D: pool2d,
  AVERAGE_POOL_2D: pool2d,
  ADD: add,
  SOFTMAX: softmax,
  QUANTIZE: quantize,
  RESHAPE: onGateway,
  DEQUANTIZE: onGateway,
};

/** The descriptor of an op, typed for its geometry (params are geometries too). */
export function describe<G extends OpGeometry>(o: G): OpDescriptor<G> {
  return OPS[o.kind] as unknown as OpDescriptor<G>;
}

const KIND_OF_OPCODE = new Map(
  OP_KINDS.flatMap((kind) => {
    const opcode = (OPS[kind] as OpDescriptor).opcode?.(kind);
    return opcode === undefined ? [] : [[opcode, kind] as const];
  }),
);

/** The op kind a kernel record's opcode runs (REQUANTIZE: QUANTIZE), or undefined for an unknown opcode. */
export function kindOfOpcode(opcode: number): OpKind | undefined {
  return KIND_OF_OPCODE.get(opcode);
}

/** The whole input depth an op's outputs sum ([0, depth] for FC), or undefined for ops without one. */
export function wholeDepth(o: OpGeometry): [number, number] | undefined {
  const depth = describe(o).depth?.(o);
  return depth === undefined ? undefined : [0, depth];
}

/** Element type of an op's kernel output: int8 unless its descriptor says otherwise. */
export function kernelOutputType(p: OpParams, partialSums = false): DType {
  return describe(p).outputType?.(p, partialSums) ?? 'int8';
}

/** The descriptor of a packed record's opcode-derived kind. */
export function describeKind(kind: OpKind): OpDescriptor {
  return OPS[kind] as unknown as OpDescriptor;
}

export function boxVolume(b: Box): number {
  return b.start.reduce((v, lo, i) => v * Math.max(0, b.end[i] - lo), 1);
}

/** Multiply-accumulates (elements for pools, ADD, SOFTMAX, requantization) to compute an output box of an op. */
export function boxMacs(o: OpGeometry, box: Box, depth?: [number, number]): number {
  return boxVolume(box) * describe(o).perOutput(o, depth);
}

/** Whether a device runs op i of a graph (else the gateway does). */
export function runsOnDevice(g: Graph, i: number): boolean {
  const o = geometryOf(g, i);
  return describe(o).runsOnDevice(o);
}
