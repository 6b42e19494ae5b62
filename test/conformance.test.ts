// The conformance runner as users run it: a subprocess over vector
// directories, judged by its exit status, its failure lines and its JSON line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VECTORS = join(ROOT, 'test/vectors/tflm');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function run(script: string, args: string[]) {
  const r = spawnSync(TSX, [script, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const lines = r.stdout.trim().split('\n');
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines, json: () => JSON.parse(lines[lines.length - 1]) };
}
const conformance = (...args: string[]) => run('host/cli/conformance-main.ts', args);

// Case counts per file, from the table in test/vectors/tflm/README.md.
const README_COUNTS: Record<string, number> = {
  'add.json': 14,
  'average_pool_2d.json': 5,
  'conv_2d.json': 12,
  'depthwise_conv_2d.json': 10,
  'edge_add.json': 5,
  'edge_average_pool_2d.json': 4,
  'edge_conv_2d.json': 7,
  'edge_depthwise_conv_2d.json': 4,
  'edge_fully_connected.json': 6,
  'edge_max_pool_2d.json': 1,
  'edge_softmax.json': 6,
  'fully_connected.json': 8,
  'max_pool_2d.json': 4,
  'softmax.json': 5,
};

const tmp = mkdtempSync(join(tmpdir(), 'microsplit-conformance-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm run conformance', () => {
  it('passes every TFLM vector case on the oracle, with per-file counts in the JSON line', () => {
    const r = conformance(VECTORS, '--engine', 'oracle', '--json');
    expect(r.status, r.stderr).toBe(0);
    const summary = r.json();
    expect(summary).toMatchObject({ engine: 'oracle', total: 91, passed: 91, failed: 0 });
    const perFile = Object.fromEntries(Object.entries(summary.files as Record<string, { total: number; passed: number }>).map(([f, c]) => [f, c.total]));
    expect(perFile).toEqual(README_COUNTS);
  });

  it('fails on a corrupted case, naming it, and exits non-zero', () => {
    const dir = join(tmp, 'corrupt');
    const file = JSON.parse(readFileSync(join(VECTORS, 'edge_softmax.json'), 'utf8'));
    file.cases[0].reference_output_q.double_rounding[0] += 1; // 59 -> 60
    mkdirSync(dir);
    writeFileSync(join(dir, 'edge_softmax.json'), JSON.stringify(file));
    writeFileSync(join(dir, 'max_pool_2d.json'), readFileSync(join(VECTORS, 'max_pool_2d.json')));
    const r = conformance(dir, '--engine', 'oracle', '--json');
    expect(r.status).toBe(1);
    expect(r.lines.filter((l) => l.startsWith('FAIL'))).toEqual([
      'FAIL edge_softmax.json:EdgeSoftmaxDiffMinCutoffInt8: output[0] = 59, expected 60 exactly (reference_output_q.double_rounding); 1 of 16 values differ',
    ]);
    expect(r.json()).toMatchObject({
      total: 10,
      passed: 9,
      failed: 1,
      files: { 'edge_softmax.json': { total: 6, passed: 5, failed: 1 }, 'max_pool_2d.json': { total: 4, passed: 4, failed: 0 } },
    });
  });

  it('refuses a directory that does not exist with one line', () => {
    const r = conformance(join(tmp, 'nowhere'), '--engine', 'oracle');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`conformance: no such vector directory or file: ${join(tmp, 'nowhere')}`);
  });

  it('refuses a malformed case naming the file, case and field', () => {
    const dir = join(tmp, 'malformed');
    const file = JSON.parse(readFileSync(join(VECTORS, 'max_pool_2d.json'), 'utf8'));
    delete file.cases[1].params.stride_h;
    mkdirSync(dir);
    writeFileSync(join(dir, 'max_pool_2d.json'), JSON.stringify(file));
    const r = conformance(dir, '--engine', 'oracle');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^conformance: max_pool_2d.json:MaxPoolTestInt8ActRelu: params.stride_h: /);
  });
});

describe('microsplit conformance', () => {
  it('is the same runner under the CLI', () => {
    const r = run('host/cli/main.ts', ['conformance', join(VECTORS, 'add.json'), '--engine', 'oracle', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ engine: 'oracle', total: 14, passed: 14, failed: 0 });
  });
});

describe.skipIf(!existsSync(join(ROOT, 'host/run/wasm-engine.ts')))('the AS kernels (wasm engine)', () => {
  it('pass every TFLM vector case', () => {
    const r = conformance(VECTORS, '--engine', 'wasm', '--json');
    expect(r.lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ total: 91, passed: 91, failed: 0 });
  });
});
