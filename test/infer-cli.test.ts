// `microsplit infer` and `microsplit export`. The essentials run as a user
// runs them, node bin/microsplit.js in a subprocess with its exit code; the
// other cases run the same commands in this process (a subprocess costs
// seconds of start-up on a shared machine).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { register as registerExport } from '../host/cli/commands/export.ts';
import { register as registerInfer } from '../host/cli/commands/infer.ts';
import { runGraph } from '../host/model/engine.ts';
import { oracle } from '../host/model/oracle.ts';
import { readTflite } from '../host/model/tflite/read.ts';
import { writeTflite } from '../host/model/tflite/write.ts';
import { addModel, floatEdgesModel, randomInputs } from './fixtures/small-models.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const pd = (f: string) => join(root, 'test/fixtures/person_detect', f);
const model = pd('person_detect.tflite');
const work = mkdtempSync(join(tmpdir(), 'microsplit-infer-'));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** node bin/microsplit.js ARGS, as a user runs it. */
async function microsplit(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', ['bin/microsplit.js', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** The same commands in this process: what they print, or the error they end with. */
async function inProcess(...args: string[]): Promise<{ stdout: string; error?: Error }> {
  const program = new Command('microsplit').exitOverride();
  registerInfer(program);
  registerExport(program);
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    await program.parseAsync(['node', 'microsplit', ...args]);
    return { stdout: lines.join('\n') };
  } catch (e) {
    return { stdout: lines.join('\n'), error: e as Error };
  } finally {
    log.mockRestore();
  }
}

const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as { outputs: number[][]; shapes: number[][]; top: { class: number }[][][] };

describe('microsplit as a subprocess', () => {
  it('infer person_detect on person.bmp (wasm engine, the default): [-113, 113], class 1 on top', async () => {
    const r = await microsplit('infer', '--model', model, '--input', pd('person.bmp'), '--json');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[-113, 113]');
    const result = lastJson(r.stdout);
    expect(result.outputs).toEqual([[-113, 113]]);
    expect(result.shapes).toEqual([[1, 2]]);
    expect(result.top[0][0][0].class).toBe(1);
  });

  it.each([
    ['a missing input file', () => ['--input', join(work, 'absent.bin')], /absent\.bin: cannot read input file \(ENOENT\)/],
    ['an input of the wrong size', () => (writeFileSync(join(work, 'short.bin'), new Uint8Array(100)), ['--input', join(work, 'short.bin')]), /short\.bin: 100 bytes, input tensor input int8\[1,96,96,1\] needs 9216/],
  ])('infer with %s exits 1 with one line', async (_, extra, message) => {
    const r = await microsplit('infer', '--model', model, ...extra());
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('infer on a truncated model exits 1 naming the file and the damage', async () => {
    const file = join(work, 'cut.tflite');
    writeFileSync(file, writeTflite(floatEdgesModel()).subarray(0, 200));
    const r = await microsplit('infer', '--model', file, '--input', pd('person.bmp'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^microsplit: .*cut\.tflite: .*truncated or corrupt$/);
  });

  it('export person_detect as tflite, then infer the written file: the same [-113, 113]', async () => {
    const out = join(work, 'pd.tflite');
    expect((await microsplit('export', '--model', model, '--format', 'tflite', '--out', out)).code).toBe(0);
    const r = await microsplit('infer', '--model', out, '--input', pd('person_input_int8.bin'), '--engine', 'oracle', '--json');
    expect(lastJson(r.stdout).outputs).toEqual([[-113, 113]]);
  });
});

describe('microsplit infer', () => {
  it('person_detect on no_person.bmp with the oracle: class 0 on top', async () => {
    const r = await inProcess('infer', '--model', model, '--input', pd('no_person.bmp'), '--engine', 'oracle', '--json');
    expect(r.error).toBeUndefined();
    const [[notPerson, person]] = lastJson(r.stdout).outputs;
    expect(notPerson).toBeGreaterThan(person);
  });

  it('a float model takes .json floats through QUANTIZE and gives DEQUANTIZE`s floats, as the oracle does', async () => {
    const file = join(work, 'float_edges.tflite');
    const bytes = writeTflite(floatEdgesModel());
    writeFileSync(file, bytes);
    const graph = readTflite(bytes);
    const [x] = randomInputs(graph);
    writeFileSync(join(work, 'x.json'), JSON.stringify(Array.from(x)));
    const r = await inProcess('infer', '--model', file, '--input', join(work, 'x.json'), '--json');
    expect(r.error).toBeUndefined();
    const [expected] = await runGraph(oracle, graph, [x]);
    expect(lastJson(r.stdout).outputs).toEqual([Array.from(expected)]);
  });

  it('a two-input model takes --input twice, in order, as .bin and .json', async () => {
    const file = join(work, 'add.tflite');
    const bytes = writeTflite(addModel({ aShape: [1, 2, 2, 3], bShape: [3], activation: 'NONE' }));
    writeFileSync(file, bytes);
    const graph = readTflite(bytes);
    const [a, b] = randomInputs(graph);
    writeFileSync(join(work, 'a.bin'), new Uint8Array(a.buffer));
    writeFileSync(join(work, 'b.json'), JSON.stringify(Array.from(b)));
    const r = await inProcess('infer', '--model', file, '--input', join(work, 'a.bin'), '--input', join(work, 'b.json'), '--json');
    expect(r.error).toBeUndefined();
    const [expected] = await runGraph(oracle, graph, [a, b]);
    expect(lastJson(r.stdout)).toMatchObject({ outputs: [Array.from(expected)], shapes: [[1, 2, 2, 3]] });
  });

  it.each([
    ['an input in an unknown format', () => ['--input', pd('README.md')], /README\.md: unknown input format "\.md"/],
    ['no input for the model`s input', () => [], /person_detect\.tflite has 1 input\(s\) \(input int8\[1,96,96,1\]\); 0 --input given/],
    ['a missing model file (the last --model counts)', () => ['--model', join(work, 'absent.tflite'), '--input', pd('person.bmp')], /absent\.tflite: cannot read model file \(ENOENT\)/],
  ])('%s: fails with one line', async (_, extra, message) => {
    const r = await inProcess('infer', '--model', model, ...extra());
    expect(r.error?.message).toMatch(message);
    expect(r.error?.message).not.toContain('\n');
  });
});

describe('microsplit export', () => {
  it('person_detect as a bundle: the written .msb infers to the same [-113, 113]', async () => {
    const out = join(work, 'pd.msb');
    expect((await inProcess('export', '--model', model, '--format', 'bundle', '--out', out)).error).toBeUndefined();
    const r = await inProcess('infer', '--model', out, '--input', pd('person_input_int8.bin'), '--engine', 'oracle', '--json');
    expect(lastJson(r.stdout).outputs).toEqual([[-113, 113]]);
  });
});
