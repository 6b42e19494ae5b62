// What checking one op of a graph needs: its tensors (resolved and checked to
// be produced before use), and one-line refusals naming the op, its index and
// the field. Each op's file under model/ops/ checks its own shapes, dtypes and
// options with these (validate.ts runs the graph-wide checks around them) and
// builds its geometry.
import type { GeometryBase, OpGeometry } from '../geometry.ts';
import { GraphError, type DType, type Graph, type Op, type Tensor } from '../ir.ts';

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A refusal of the graph (opIndex undefined) or of one op, as a GraphError. */
export function refuse(g: Graph, i: number | undefined, field: string, msg: string): never {
  const where = i === undefined ? 'graph' : `op ${i} (${g.ops[i]?.kind ?? '?'})`;
  throw new GraphError(`${where}: ${field}: ${msg}`, i, field);
}

export class OpChecks {
  constructor(
    private readonly g: Graph,
    private readonly i: number,
    private readonly produced: ReadonlySet<number>,
  ) {}

  private get op(): Op {
    return this.g.ops[this.i];
  }

  fail(field: string, msg: string): never {
    return refuse(this.g, this.i, field, msg);
  }

  /** Data or constant input k, which an earlier op or the graph must have produced. */
  input(k: number, field: string): Tensor {
    const T = this.g.tensors;
    const id = this.op.inputs[k];
    if (id === undefined || id < 0 || id >= T.length) return this.fail(field, `missing or out-of-range tensor index ${id}`);
    if (!this.produced.has(id)) this.fail(field, `tensor ${id} (${T[id].name}) is used before it is produced`);
    return T[id];
  }

  /** Optional input k (bias): absent when its index is missing or -1. */
  optionalInput(k: number, field: string): Tensor | undefined {
    return (this.op.inputs[k] ?? -1) >= 0 ? this.input(k, field) : undefined;
  }

  output(k = 0): Tensor {
    const T = this.g.tensors;
    const id = this.op.outputs[k];
    if (id === undefined || id < 0 || id >= T.length) return this.fail('outputs', `missing or out-of-range tensor index ${id}`);
    return T[id];
  }

  /** Inputs 0 and 1, both quantized int8 (ADD's operands, FC's input and filter). */
  int8Pair(): [Tensor, Tensor] {
    const a = this.input(0, 'inputs[0]');
    const b = this.input(1, 'inputs[1]');
    this.dtype(a, 'int8', 'inputs[0].dtype');
    this.dtype(b, 'int8', 'inputs[1].dtype');
    this.quant(a, 'inputs[0].quant');
    this.quant(b, 'inputs[1].quant');
    return [a, b];
  }

  rank(t: Tensor, r: number, field: string): void {
    if (t.shape.length !== r) this.fail(field, `expected rank ${r}, got shape [${t.shape}]`);
  }

  dtype(t: Tensor, d: DType | DType[], field: string): void {
    const ok = Array.isArray(d) ? d.includes(t.dtype) : t.dtype === d;
    if (!ok) this.fail(field, `expected dtype ${d}, got ${t.dtype}`);
  }

  quant(t: Tensor, field: string): void {
    if (!t.quant) this.fail(field, 'missing quantization parameters');
  }

  positive(v: number, field: string): void {
    if (!Number.isInteger(v) || v < 1) this.fail(field, `must be a positive integer, got ${v}`);
  }

  outputShape(t: Tensor, shape: number[]): void {
    if (!sameShape(t.shape, shape)) this.fail('outputs[0].shape', `expected [${shape}], got [${t.shape}]`);
  }

  /**
   * TFLM never resizes a conv/pool output: it loops over the declared shape,
   * which may exceed the padding formula (taps outside the input are skipped).
   */
  spatialOutputAtLeast(t: Tensor, [n, oh, ow, c]: number[]): void {
    const [yn, yh, yw, yc] = t.shape;
    if (t.shape.length !== 4 || yn !== n || yc !== c || yh < oh || yw < ow)
      this.fail('outputs[0].shape', `expected [${n},>=${oh},>=${ow},${c}], got [${t.shape}]`);
  }
}

/** The model half of an op kind: the shapes, dtypes and options a valid op of it has, and its geometry. */
export interface OpShape<O extends Op, G extends OpGeometry> {
  /** Refuses the op (GraphError) unless its tensors and options fit the kind, its declared output shape included. */
  check(op: O, c: OpChecks): void;
  /** Shapes and windows of a validated op; `base(inputs)` fills what every geometry has, given its data inputs. */
  geometry(op: O, T: readonly Tensor[], base: (inputs: number[]) => GeometryBase): G;
}
