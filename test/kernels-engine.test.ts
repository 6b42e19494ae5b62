// The in-process wasm engine runs whole graphs, splitting an op whose
// fragment does not fit in the module's 1 MiB of linear memory into boxes.
import { beforeAll, describe, expect, it } from 'vitest';
import { createWasmEngine, type WasmEngine } from '../host/run/wasm-engine.ts';
import { oracle } from '../host/model/oracle.ts';
import { runGraph } from '../host/model/engine.ts';
import { prepareOp } from '../host/model/op-params.ts';
import { type Graph, type Tensor } from '../host/model/ir.ts';
import { validateGraph } from '../host/model/validate.ts';

let engine: WasmEngine;
beforeAll(async () => {
  engine = await createWasmEngine();
});

const q = (s: number, zp: number) => ({ scale: [s], zeroPoint: [zp] });
const pseudoRandom = (n: number, seed: number) => Int8Array.from({ length: n }, (_, i) => ((i * 2654435761 + seed) >>> 24) - 128);

function fcGraph(depth: number, units: number): Graph {
  const tensors: Tensor[] = [
    { name: 'x', shape: [2, depth], dtype: 'int8', quant: q(0.05, 3) },
    { name: 'w', shape: [units, depth], dtype: 'int8', quant: q(0.001, 0), data: pseudoRandom(units * depth, 7) },
    { name: 'y', shape: [2, units], dtype: 'int8', quant: q(0.5, -2) },
  ];
  return validateGraph({ tensors, ops: [{ kind: 'FULLY_CONNECTED', inputs: [0, 1, -1], outputs: [2], activation: 'NONE', keepNumDims: false }], inputs: [0], outputs: [2] });
}

function pointwiseGraph(h: number, w: number, c: number): Graph {
  const tensors: Tensor[] = [
    { name: 'x', shape: [1, h, w, c], dtype: 'int8', quant: q(0.05, -1) },
    { name: 'w', shape: [4, 1, 1, c], dtype: 'int8', quant: { scale: [0.01, 0.02, 0.03, 0.04], zeroPoint: [0, 0, 0, 0], axis: 0 }, data: pseudoRandom(4 * c, 11) },
    { name: 'y', shape: [1, h, w, 4], dtype: 'int8', quant: q(0.1, 4) },
  ];
  const op = { kind: 'CONV_2D' as const, inputs: [0, 1, -1], outputs: [2], padding: 'SAME' as const, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'RELU' as const };
  return validateGraph({ tensors, ops: [op], inputs: [0], outputs: [2] });
}

describe('ops larger than linear memory run in pieces', () => {
  it.each([
    ['FC 2048 -> 600 (1.2 MB of weights)', fcGraph(2048, 600), 2 * 2048],
    ['1x1 conv on a 1x256x256x16 input (1 MiB)', pointwiseGraph(256, 256, 16), 256 * 256 * 16],
  ])('%s equals the oracle', async (_name, graph, inputLength) => {
    const input = pseudoRandom(inputLength, 3);
    const [got] = await runGraph(engine, graph, [input]);
    const [want] = await runGraph(oracle, graph, [input]);
    expect(got.length).toBe(want.length);
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });

  it('a single fragment that does not fit is refused with the bytes it needs', () => {
    const graph = fcGraph(2048, 600);
    expect(() =>
      engine.runFragment(
        prepareOp(graph, 0),
        [{ data: pseudoRandom(2 * 2048, 3), origin: [0, 0], shape: [2, 2048] }],
        { start: [0, 0], end: [2, 600] },
      ),
    ).toThrow(/needs \d+ bytes of linear memory, the kernels module has 1048576/);
  });
});
