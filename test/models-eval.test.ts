// `microsplit eval` from the shell: the accuracy it prints is the one the
// per-sample loop computes in this process, and bad arguments fail in one line.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../host/model/bundle.ts';
import { firstN, readSubset } from '../host/eval/datasets.ts';
import { oracle } from '../host/model/oracle.ts';
import { classify } from '../host/eval/accuracy.ts';

const run = promisify(execFile);
const SUBSET = 'models/data/mnist-test-500.bin';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['bin/microsplit.js', 'eval', ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('microsplit eval', () => {
  it('--json reports the int8 accuracy the oracle loop gives, and the float model next to it', async () => {
    const { code, stdout } = await cli('--model', 'mnist-s', '--data', SUBSET, '--limit', '40', '--engine', 'oracle', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    const expected = await classify(oracle, readBundle(readFileSync('models/mnist-s.msb')), firstN(readSubset(readFileSync(SUBSET)), 40));
    expect(result.images).toBe(40);
    expect(result.int8).toEqual({ engine: 'oracle', correct: expected.correct, accuracy: expected.correct / 40 });
    expect(result.float.source).toMatch(/models\/float\/mnist-s\.msf$/);
    expect(result.float.accuracy).toBeGreaterThan(0.9);
    expect(result.agreement).toBeGreaterThan(0.9);
  }, 120_000);

  it('prints float and int8 side by side', async () => {
    const { code, stdout } = await cli('--model', 'models/mnist-s.tflite', '--data', SUBSET, '--limit', '10');
    expect(code).toBe(0);
    expect(stdout).toMatch(/float +\d+\.\d\d%/);
    expect(stdout).toMatch(/int8 +\d+\.\d\d% +\(wasm, \d+ correct\)/);
  }, 120_000);

  it.each([
    { name: 'unknown model name', args: ['--model', 'nosuch', '--data', SUBSET], error: 'no bundled model named nosuch' },
    { name: 'missing data file', args: ['--model', 'mnist-s', '--data', 'missing.bin'], error: '--data missing.bin: not mnist, fashion or a readable subset file (ENOENT)' },
    { name: 'bad limit', args: ['--model', 'mnist-s', '--data', SUBSET, '--limit', '0'], error: '--limit must be a positive integer, got 0' },
    { name: 'unknown engine', args: ['--model', 'mnist-s', '--data', SUBSET, '--engine', 'gpu'], error: '--engine must be wasm or oracle, got gpu' },
  ])('$name: exits non-zero with one line', async ({ args, error }) => {
    const { code, stderr } = await cli(...args);
    expect(code).not.toBe(0);
    const lines = stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`microsplit: ${error}`);
  }, 60_000);
});
