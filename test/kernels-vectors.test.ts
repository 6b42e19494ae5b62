// Every TFLM reference case (test/vectors/tflm) through the AS kernels in
// Node's WebAssembly: the output must equal TFLM's default-build output.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadVectorFile, judge } from '../host/model/refcase.ts';
import { runGraph } from '../host/model/engine.ts';
import { createWasmEngine, type WasmEngine } from '../host/run/wasm-engine.ts';

const dir = fileURLToPath(new URL('./vectors/tflm/', import.meta.url));
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((f) => loadVectorFile(dir + f));

let engine: WasmEngine;
beforeAll(async () => {
  engine = await createWasmEngine();
});

describe('TFLM vectors on the AS kernels', () => {
  it('finds every vector file', () => {
    expect(cases.length).toBeGreaterThanOrEqual(91);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, rc) => {
    const [out] = await runGraph(engine, rc.graph, rc.inputs);
    const verdict = judge(rc, out);
    expect(verdict.detail ?? 'ok').toBe('ok');
    expect(rc.tolerance).toBe(0);
  });
});
