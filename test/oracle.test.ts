// Every TFLM vector case through the oracle: equal to TFLM's default-build
// output, and within the test's own tolerance of its golden.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../host/model/engine.ts';
import { oracle } from '../host/model/oracle.ts';
import { loadVectorFile } from '../host/model/refcase.ts';

const DIR = fileURLToPath(new URL('./vectors/tflm/', import.meta.url));
const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((file) => loadVectorFile(DIR + file));

describe('oracle on the TFLM vectors', () => {
  it('loads all 91 cases of the 14 files', () => {
    expect(cases).toHaveLength(91);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, rc) => {
    const raw = JSON.parse(readFileSync(DIR + rc.id.split(':')[0], 'utf8')) as {
      cases: { name: string; output: { expected_q: number[] }; tolerance: { value: number }; reference_output_q: { double_rounding: number[] } }[];
    };
    const c = raw.cases.find((x) => x.name === rc.name)!;
    const [out] = await runGraph(oracle, rc.graph, rc.inputs);
    expect(Array.from(out)).toEqual(c.reference_output_q.double_rounding);
    const worst = Math.max(0, ...Array.from(out, (v, i) => Math.abs(v - c.output.expected_q[i])));
    expect(worst).toBeLessThanOrEqual(c.tolerance.value);
  });
});
