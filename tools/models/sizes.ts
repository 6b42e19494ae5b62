// Memory and compute figures of a sequential int8 graph, for the models'
// README: constant bytes, the peak of live activations when each tensor is
// freed after its last reader (the input and output of the largest layer;
// no scratch, no agent overhead), and multiply-accumulates.
import type { Graph } from '../../host/model/ir.ts';
import { numElements, tensorBytes } from '../../host/model/ir.ts';

export interface GraphSizes {
  weightBytes: number;
  peakActivationBytes: number;
  macs: number;
}

export function graphSizes(g: Graph): GraphSizes {
  const weightBytes = g.tensors.reduce((n, t) => n + (t.data ? tensorBytes(t) : 0), 0);
  let peakActivationBytes = 0;
  let macs = 0;
  for (const op of g.ops) {
    const live = [...op.inputs, ...op.outputs].filter((id) => id >= 0 && !g.tensors[id].data);
    peakActivationBytes = Math.max(peakActivationBytes, live.reduce((n, id) => n + tensorBytes(g.tensors[id]), 0));
    const out = numElements(g.tensors[op.outputs[0]].shape);
    const w = op.inputs[1] !== undefined && op.inputs[1] >= 0 ? g.tensors[op.inputs[1]].shape : [];
    if (op.kind === 'CONV_2D') macs += out * w[1] * w[2] * w[3];
    else if (op.kind === 'DEPTHWISE_CONV_2D') macs += out * w[1] * w[2];
    else if (op.kind === 'FULLY_CONNECTED') macs += out * w[1];
  }
  return { weightBytes, peakActivationBytes, macs };
}
