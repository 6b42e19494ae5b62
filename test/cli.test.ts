// The `microsplit` command as a user runs it: every subcommand's --help, the
// plan -> deploy -> run flow from the shell over simulated devices, and bad
// inputs refused with one clear line, leaving no process behind.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readInput } from '../host/model/inputs.ts';
import { loadModel } from '../host/model/load.ts';
import { parsePlan } from '../host/plan/plan-file.ts';
import { testbedProfiles } from '../host/run/testbed-profiles.ts';
import { loadTestbed } from '../host/sim/testbed.ts';
import { oracleOutputs } from './e2e-fixture.ts';
import { processTag } from './processes.ts';

const run = promisify(execFile);
/** Marks every process this file starts, so the leftover checks see only those. */
const tag = processTag();
const CLI = join(import.meta.dirname, '..', 'bin', 'microsplit.js');
const MODEL = join(import.meta.dirname, '..', 'models', 'mnist-s.tflite');
const PERSON = join(import.meta.dirname, '..', 'models', 'person_detect', 'person_detect.tflite');
const TESTBED = join(import.meta.dirname, 'fixtures', 'cli-testbed.json');
const dir = mkdtempSync(join(tmpdir(), 'microsplit-cli-'));
const digit = join(dir, 'digit.json');
writeFileSync(digit, JSON.stringify(Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) - 128)));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { timeout: 120_000, env: tag.env });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Processes the commands of this file started that are still alive (the commands themselves have exited). */
function leftovers(): number[] {
  return tag.live();
}

const COMMANDS = ['sim', 'devices', 'profile', 'inspect', 'plan', 'deploy', 'run', 'infer', 'eval', 'conformance', 'bench', 'demo', 'export', 'experiment', 'report', 'provision'];

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('microsplit --help', () => {
  it.each(COMMANDS)('%s --help says how to use it', async (name) => {
    const r = await cli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: microsplit ${name}`));
  });

  it('lists every command', async () => {
    const r = await cli(['--help']);
    for (const name of COMMANDS) expect(r.stdout).toContain(`  ${name}`);
  });
});

describe('microsplit provision', () => {
  it('writes a key file, then refuses to overwrite it without --rotate (exit 1, one line)', async () => {
    const file = join(dir, 'device.key');
    const first = await cli(['provision', file]);
    expect([first.code, first.stdout.trim()]).toEqual([0, `provisioned: 32-byte key in ${file}`]);
    const again = await cli(['provision', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${file} already holds a key; --rotate replaces it, --unkey removes it`);
  });
});

describe('plan, deploy, run from the shell', () => {
  const profiles = join(dir, 'devices.json');
  const plan = join(dir, 'plan.json');
  writeFileSync(profiles, JSON.stringify({ devices: testbedProfiles(loadTestbed(TESTBED)) }));

  afterAll(() => {
    expect(leftovers()).toEqual([]);
  });

  it('plans mnist-s for the testbed and runs it one shot, equal to the oracle', async () => {
    const p = await cli(['plan', '--model', MODEL, '--devices', profiles, '--out', plan]);
    expect(p.code, p.stderr).toBe(0);
    const r = await cli(['run', '--model', MODEL, '--plan', plan, '--testbed', TESTBED, '--input', digit, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const ref = JSON.parse((await cli(['infer', '--model', MODEL, '--input', digit, '--engine', 'oracle', '--json'])).stdout.trim().split('\n').pop()!);
    expect(out.outputs).toEqual(ref.outputs);
    // The plan's predicted latency beside the measured one, for scripts to compare.
    expect(out.predicted_ms).toBe(parsePlan(JSON.parse(readFileSync(plan, 'utf8'))).predicted.makespanS * 1000);
    expect(out.latency_ms).toBeGreaterThan(0);
    for (const d of out.devices) {
      expect(d.high_water).toBeLessThanOrEqual(d.peak);
      expect(d.peak).toBeLessThanOrEqual(d.budget);
    }
    // The inference's own bytes are part of all bytes since connecting; what was sent again is part of each.
    expect(out.inference_bytes_on_wire).toBeGreaterThan(0);
    expect(out.bytes_on_wire).toBeGreaterThan(out.inference_bytes_on_wire);
    expect(out.inference_bytes_retransmitted).toBeGreaterThanOrEqual(0);
    expect(out.inference_bytes_retransmitted).toBeLessThanOrEqual(out.inference_bytes_on_wire);
    expect(out.bytes_retransmitted).toBeGreaterThanOrEqual(out.inference_bytes_retransmitted);
  });

  it('evaluates accuracy across the testbed, the same as in this process', async () => {
    const data = join(import.meta.dirname, '..', 'models', 'data', 'mnist-test-500.bin');
    const args = ['eval', '--model', MODEL, '--data', data, '--limit', '20', '--json'];
    const local = await cli([...args, '--engine', 'oracle']);
    const spread = await cli([...args, '--testbed', TESTBED, '--no-progress']);
    expect(spread.code, spread.stderr).toBe(0);
    const [a, b] = [local, spread].map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!));
    expect(b.int8.engine).toMatch(/^devices/);
    expect(b.int8.correct).toBe(a.int8.correct);
  });

  it('re-plans when the device holding the most is gone for good, and still counts the same correct answers', async () => {
    const data = join(import.meta.dirname, '..', 'models', 'data', 'mnist-test-500.bin');
    const args = ['eval', '--model', MODEL, '--data', data, '--limit', '20', '--json'];
    const local = await cli([...args, '--engine', 'oracle']);
    const crash = join(import.meta.dirname, 'fixtures', 'cli-crash-testbed.json');
    const r = await cli([...args, '--testbed', crash, '--no-progress', '--replan']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/re-planned for cli-pty-b, cli-tcp-c/);
    const [a, b] = [local, r].map((x) => JSON.parse(x.stdout.trim().split('\n').pop()!));
    expect(b.int8.correct).toBe(a.int8.correct);
  });

  it('deploys onto `microsplit sim` devices once, runs twice without loading again, then several inputs in one call', async () => {
    const sim = spawn(process.execPath, [CLI, 'sim', TESTBED, '--json'], { stdio: ['ignore', 'pipe', 'inherit'], env: tag.env });
    let text = '';
    const ports = join(dir, 'ports.json');
    await new Promise<void>((resolve, reject) => {
      sim.stdout.on('data', (b: Buffer) => {
        text += b.toString();
        const line = text.split('\n').find((l) => l.startsWith('{'));
        if (line) {
          writeFileSync(ports, line);
          resolve();
        }
      });
      sim.on('exit', (code) => reject(new Error(`sim exited with ${code}`)));
    });
    try {
      const d = await cli(['deploy', '--model', MODEL, '--plan', plan, '--ports', ports, '--no-progress']);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toContain('deployed:');
      for (let i = 0; i < 2; i++) {
        const r = await cli(['run', '--model', MODEL, '--plan', plan, '--ports', ports, '--input', digit, '--json']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toContain('the devices already hold this plan');
      }
      // Several inputs of the one-input model: --input first, then every input file of --inputs DIR by name.
      const many = join(dir, 'many');
      mkdirSync(many);
      const files = [0, 1, 2].map((k) => join(many, `d${k}.json`));
      files.forEach((f, k) => writeFileSync(f, JSON.stringify(Array.from({ length: 784 }, (_, i) => ((i * (41 + k)) % 255) - 128))));
      writeFileSync(join(many, 'notes.txt'), 'not an input');
      const r = await cli(['run', '--model', MODEL, '--plan', plan, '--ports', ports, '--input', digit, '--inputs', many, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      const inputs = [digit, ...files];
      expect(out.results.map((x: { input: string }) => x.input)).toEqual(inputs);
      const graph = await loadModel(MODEL);
      const expected = await oracleOutputs(graph, inputs.map((f) => readInput(f, graph.tensors[graph.inputs[0]])));
      expect(out.results.map((x: { outputs: number[][] }) => Buffer.from(Int8Array.from(x.outputs[0]).buffer))).toEqual(expected);
      const predicted = parsePlan(JSON.parse(readFileSync(plan, 'utf8'))).predicted.makespanS * 1000;
      expect(out.results.every((x: { predicted_ms: number; latency_ms: number }) => x.predicted_ms === predicted && x.latency_ms > 0)).toBe(true);
      expect(out.summary).toMatchObject({ inferences: 4, predicted_ms: predicted });
      expect(r.stdout).toMatch(/^4 inferences: latency mean [\d.]+ ms, p50 [\d.]+ ms, p95 [\d.]+ ms \(predicted [\d.]+ ms\)/m);
      const empty = await cli(['run', '--model', MODEL, '--plan', plan, '--ports', ports, '--inputs', join(dir, 'no-such-dir')]);
      expect(empty.code).not.toBe(0);
      expect(empty.stderr.trim().split('\n').at(-1)).toMatch(/no-such-dir: cannot read the input directory \(ENOENT\)/);
    } finally {
      const exited = new Promise((r) => sim.on('exit', r));
      sim.kill('SIGINT');
      await exited;
    }
   }, 180_000);
});

describe('bad input: one clear line, non-zero exit, nothing left running', () => {
  it.each([
    ['a missing model', ['run', '--model', join(dir, 'none.tflite'), '--testbed', TESTBED, '--input', digit], /none\.tflite: cannot read model file/],
    ['a malformed plan', ['run', '--model', MODEL, '--plan', join(dir, 'malformed.json'), '--testbed', TESTBED, '--input', digit], /malformed\.json: /],
    ['a plan for another model', ['run', '--model', PERSON, '--plan', join(dir, 'plan.json'), '--testbed', TESTBED, '--input', digit], /the plan was made for model/],
    ['an unknown device', ['run', '--model', MODEL, '--plan', join(dir, 'plan.json'), '--device', 'ghost=/dev/pts/9999', '--input', digit], /cannot connect to ghost/],
    ['an over-budget plan', ['run', '--model', MODEL, '--plan', join(dir, 'over.json'), '--testbed', TESTBED, '--input', digit], /the plan needs \d+ arena bytes, the device offers \d+/],
    ['an unknown strategy', ['run', '--model', MODEL, '--testbed', TESTBED, '--strategy', 'magic', '--input', digit], /Allowed choices are/],
    ['a wrong input size', ['run', '--model', MODEL, '--testbed', TESTBED, '--input', join(dir, 'short.json')], /short\.json/],
  ])('refuses %s', async (_what, args, message) => {
    writeFileSync(join(dir, 'malformed.json'), '{"format": "microsplit-plan", "version": 1}');
    writeFileSync(join(dir, 'short.json'), '[1, 2, 3]');
    const good = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
    // The plan claims more arena than the devices have: the budget check before any LOAD refuses it.
    good.memory = good.memory.map((m: { paramBytes: number; budget: number }) => ({ ...m, paramBytes: m.budget + 1 }));
    writeFileSync(join(dir, 'over.json'), JSON.stringify(good));
    const r = await cli(args as string[]);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n').filter((l) => !/^\S+\t(\/dev\/pts|tcp:)/.test(l));
    expect(lines.at(-1)).toMatch(message);
    expect(leftovers()).toEqual([]);
  });
});
