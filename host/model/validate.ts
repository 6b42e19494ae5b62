// The one gate every graph passes where it enters the gateway (import, bundle,
// builders): the graph-wide checks (tensors, indices, dataflow order, outputs)
// here, each op's shapes, dtypes and options by its kind's file in ops/.
import { DTYPE_BYTES, numElements, type Activation, type Graph } from './ir.ts';
import { OpChecks, refuse } from './ops/check.ts';
import { shapeOf } from './ops/table.ts';

const ACTIVATIONS: Activation[] = ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'];

/**
 * Checks the whole graph and every op's shapes, dtypes, quantization and
 * options. Throws a GraphError naming the op, its index and the field at the
 * first problem. Returns the graph itself so it can wrap a constructor call.
 */
export function validateGraph(g: Graph): Graph {
  const T = g.tensors;
  const fail = (field: string, msg: string): never => refuse(g, undefined, field, msg);
  if (!Array.isArray(T) || !Array.isArray(g.ops)) fail('tensors', 'tensors and ops must be arrays');
  T.forEach((t, ti) => {
    if (!t || !Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0))
      fail(`tensors[${ti}].shape`, `bad shape ${JSON.stringify(t?.shape)}`);
    if (!(t.dtype in DTYPE_BYTES)) fail(`tensors[${ti}].dtype`, `unknown dtype ${t.dtype}`);
    if (t.quant) {
      const q = t.quant;
      if (q.scale.length === 0 || q.scale.length !== q.zeroPoint.length)
        fail(`tensors[${ti}].quant`, 'scale and zeroPoint must be non-empty and of equal length');
      if (q.scale.some((s) => !(s > 0) || !Number.isFinite(s)) && t.dtype !== 'int32')
        fail(`tensors[${ti}].quant.scale`, `scales must be positive and finite`);
      if (q.scale.length > 1) {
        const axis = q.axis ?? 0;
        if (t.shape[axis] !== q.scale.length)
          fail(`tensors[${ti}].quant.axis`, `${q.scale.length} scales for dimension ${axis} of size ${t.shape[axis]}`);
      }
    }
    if (t.data && t.data.length !== numElements(t.shape)) fail(`tensors[${ti}].data`, `${t.data.length} values for shape [${t.shape}]`);
  });
  const checkIdx = (ids: number[], field: string) => {
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= T.length) fail(field, `tensor index ${id} out of range`);
  };
  checkIdx(g.inputs, 'inputs');
  checkIdx(g.outputs, 'outputs');

  const produced = new Set<number>(g.inputs);
  T.forEach((t, i) => t.data && produced.add(i));

  g.ops.forEach((op, i) => {
    const c = new OpChecks(g, i, produced);
    if ('activation' in op && !ACTIVATIONS.includes(op.activation)) c.fail('activation', `unknown activation ${op.activation}`);
    if ('padding' in op && op.padding !== 'SAME' && op.padding !== 'VALID') c.fail('padding', `unknown padding ${op.padding}`);
    const shape = shapeOf(op);
    if (!shape) return c.fail('kind', `unsupported op ${(op as { kind: string }).kind}`);
    shape.check(op, c);
    for (const o of op.outputs) produced.add(o);
  });
  for (const o of g.outputs) if (!produced.has(o)) fail('outputs', `output tensor ${o} is never produced`);
  return g;
}
