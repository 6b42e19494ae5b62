// Lab experiments: the spec (validation naming the field, the cross
// product, shards), the virtual-time simulator (same spec, same times and
// bytes; outputs equal to the oracle), the sweep as a user runs it (one row
// per run, resume runs only what is missing, merge of shards) and the
// report's sentences in place of charts it cannot draw.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { charts } from '../host/lab/charts.ts';
import { readCsv } from '../host/lab/csv.ts';
import { executeRun, RESULT_COLUMNS } from '../host/lab/run-one.ts';
import { expandRuns, parseExperiment, shardOf, testbedOf, type ExperimentSpec } from '../host/lab/spec.ts';

const CLI = 'bin/microsplit.js';
const tmp = mkdtempSync(join(tmpdir(), 'microsplit-lab-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A small sweep of mnist-s on generated devices, every run in virtual time. */
const SMALL = {
  name: 'small',
  seed: 3,
  models: 'models/mnist-s.tflite',
  testbeds: [{ generate: { count: [2, 3], memory: '64K', speed: 2e7, link: { rate: 92160, latencyMs: 1 }, energy: { nJPerMac: 1.5, nJPerByte: 40, idleMw: 10 } } }],
  strategies: ['microsplit', 'layerwise'],
  repetitions: 2,
};

describe('experiment spec', () => {
  it.each([
    [{ ...SMALL, models: [] }, 'models: '],
    [{ ...SMALL, lambda: [0, 2] }, 'lambda.1: '],
    [{ ...SMALL, testbeds: [{ generate: { ...SMALL.testbeds[0].generate, heterogeneity: 6 } }] }, 'testbeds.0.generate.heterogeneity'],
    [{ ...SMALL, faults: [[{ kind: 'crash', devices: 1 }]] }, 'faults.0.0.atMs: a crash needs exactly one of atMs and afterRuns'],
    [{ ...SMALL, colour: 'red' }, 'colour'],
  ])('refuses a bad spec, naming the field (%#)', (spec, field) => {
    expect(() => parseExperiment(spec, 'spec.json')).toThrow(field);
  });

  it('expands the cross product of its axes, with ids that do not depend on order, and shards partition it', () => {
    const spec = parseExperiment({ ...SMALL, lambda: [0, 1], faults: [[], [{ kind: 'crash', devices: 1, afterRuns: 0 }]] });
    const runs = expandRuns(spec);
    expect(runs).toHaveLength(2 * 2 * 2 * 2);
    const reordered = expandRuns({ ...spec, strategies: [...spec.strategies].reverse() } as ExperimentSpec);
    expect(new Set(reordered.map((r) => r.id))).toEqual(new Set(runs.map((r) => r.id)));
    const shards = [1, 2, 3].map((i) => shardOf(runs, i, 3).map((r) => r.id));
    expect(shards.flat().sort()).toEqual(runs.map((r) => r.id).sort());
    expect(() => shardOf(runs, 4, 3)).toThrow('--shard must be i/n');
  });

  it('spreads device speeds and link rates with the heterogeneity level, as the planner benchmarks do', () => {
    const gen = (level: number) => ({ kind: 'generated' as const, count: 6, heterogeneity: level, rate: 92160, base: { memory: '48K', speed: 1e7, link: { kind: 'pty' as const, latencyMs: 0 } } });
    const flat = testbedOf(gen(0), 1, '.').devices;
    expect(new Set(flat.map((d) => d.speed!.default))).toEqual(new Set([1e7]));
    expect(new Set(flat.map((d) => d.link.rate))).toEqual(new Set([92160]));
    const wide = testbedOf(gen(4), 1, '.').devices;
    for (const d of wide) {
      expect(d.speed!.default).toBeGreaterThanOrEqual(1e7);
      expect(d.speed!.default).toBeLessThanOrEqual(5e7);
      expect(d.link.rate).toBeGreaterThanOrEqual(92160 / 3 - 1);
    }
    expect(new Set(wide.map((d) => d.speed!.default)).size).toBe(6);
    expect(testbedOf(gen(4), 1, '.')).toEqual(testbedOf(gen(4), 1, '.'));
  });
});

describe('virtual-time runs', () => {
  it('give identical times and bytes for the same spec, and outputs equal to the oracle', async () => {
    const spec = parseExperiment({ ...SMALL, faults: [[{ kind: 'crash', devices: 1, afterRuns: 0 }]], strategies: [{ name: 'replicated', replicas: 2 }] });
    const run = expandRuns(spec).find((r) => r.devices.kind === 'generated' && r.devices.count === 3)!;
    const a = await executeRun(run, '.');
    const b = await executeRun(run, '.');
    expect(a.row.error).toBe('');
    expect(a.row.exact).toBe(true);
    expect(a.row.memory_ok).toBe(true);
    // One of three devices dies at its first RUN; its replica answers every time.
    expect(a.row.inferences_ok).toBe(2);
    // The generator's parameters are columns too: 64K per device, 2e7 MAC/s base speed.
    expect([a.row.devices, a.row.device_memory, a.row.device_speed]).toEqual([3, 65536, 2e7]);
    const { wall_ms: _a, ...rowA } = a.row;
    const { wall_ms: _b, ...rowB } = b.row;
    expect(rowA).toEqual(rowB);
    expect(a.trace).toEqual(b.trace);
    expect(a.devices).toEqual(b.devices);
  });
});

describe('microsplit experiment', () => {
  const specFile = join(tmp, 'small.json');
  writeFileSync(specFile, JSON.stringify({ ...SMALL, models: join(process.cwd(), SMALL.models) }));
  // Asynchronous, so the test worker stays responsive while a sweep runs.
  const cli = (...args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  it('writes one row per run and a report; run again, it runs only the rows that are missing', async () => {
    const out = join(tmp, 'out');
    const first = await cli('experiment', specFile, '--out', out, '--jobs', '2', '--no-progress', '--json');
    expect(first.status, first.stderr).toBe(0);
    const { columns, rows } = readCsv(join(out, 'results.csv'));
    expect(columns).toEqual([...RESULT_COLUMNS]);
    expect(rows).toHaveLength(4);
    for (const r of rows) {
      expect(r.error).toBe('');
      expect(r.exact).toBe('true');
      expect(Number(r.measured_ms)).toBeGreaterThan(0);
    }
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');

    // Drop the last row (as if the sweep had been killed before it): only that run runs again.
    const lines = readFileSync(join(out, 'results.csv'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(out, 'results.csv'), lines.slice(0, -1).join('\n') + '\n');
    const again = await cli('experiment', specFile, '--out', out, '--jobs', '1', '--no-progress', '--json');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('4 runs: 3 already in the results, 1 to run');
    const summary = JSON.parse(again.stdout.trim().split('\n').at(-1)!);
    expect(summary.ran).toBe(1);
    const after = readCsv(join(out, 'results.csv')).rows;
    expect(after.map((r) => r.run_id).sort()).toEqual(rows.map((r) => r.run_id).sort());
    // The re-run repeats the dropped row exactly (virtual time), wall time aside.
    const strip = ({ wall_ms: _, ...r }: Record<string, string>) => r;
    expect(strip(after.at(-1)!)).toEqual(strip(rows.find((r) => r.run_id === after.at(-1)!.run_id)!));
  }, 300_000);

  it('shards split the runs and merge joins them back', async () => {
    const dirs: string[] = [];
    for (const i of [1, 2]) {
      const out = join(tmp, `shard${i}`);
      const r = await cli('experiment', specFile, '--out', out, '--shard', `${i}/2`, '--jobs', '1', '--no-progress');
      expect(r.status, r.stderr).toBe(0);
      dirs.push(out);
    }
    const merged = join(tmp, 'merged');
    const m = await cli('experiment', 'merge', ...dirs, '--out', merged);
    expect(m.status, m.stderr).toBe(0);
    const ids = readCsv(join(merged, 'results.csv')).rows.map((r) => r.run_id).sort();
    const full = expandRuns(parseExperiment(JSON.parse(readFileSync(specFile, 'utf8')))).map((r) => r.id).sort();
    expect(ids).toEqual(full);
    expect(readCsv(join(merged, 'details', 'trace.csv')).rows.length).toBeGreaterThan(0);
  }, 300_000);
});

describe('report', () => {
  it('says what is missing instead of drawing an empty chart', () => {
    const row = Object.fromEntries(RESULT_COLUMNS.map((c) => [c, ''])) as Record<string, string>;
    const results = [
      { ...row, run_id: 'a', mode: 'virtual', devices: '2', strategy: 'microsplit', faults: 'none', failed_devices: '0', predicted_ms: '10', measured_ms: '11', exact_share: '1' },
      { ...row, run_id: 'b', mode: 'virtual', devices: '4', strategy: 'microsplit', faults: 'none', failed_devices: '0', predicted_ms: '6', measured_ms: '7', exact_share: '1' },
    ];
    const byId = new Map(charts({ results, devices: [], trace: [], stages: [] }).map((c) => [c.id, c]));
    expect(byId.get('latency-devices')!.spec).toBeDefined();
    expect(byId.get('latency-heterogeneity')!.missing).toMatch(/^No run has both heterogeneity and measured_ms/);
    expect(byId.get('latency-failures')!.missing).toMatch(/^Every run has the same failed_devices \(0\)/);
    expect(byId.get('gantt')!.missing).toMatch(/No run has a trace/);
    expect(byId.get('energy-devices')!.missing).toMatch(/measured_energy_mj/);
  });
});
