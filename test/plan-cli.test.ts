// `microsplit plan` and `microsplit inspect` from the shell: the plan file
// they write validates, --json ends with one object, bad input exits non-zero
// with one clear line.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { writeTflite } from '../host/model/tflite/write.ts';
import { parsePlan } from '../host/plan/plan-file.ts';
import { buildModel, randomModelSpec, syntheticDevices } from '../host/plan/synthetic.ts';
import { testbedProfiles } from '../host/run/testbed-profiles.ts';
import { loadTestbed } from '../host/sim/testbed.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'plan-cli-'));
const model = join(dir, 'model.tflite');
const devices = join(dir, 'devices.json');
writeFileSync(model, writeTflite(buildModel(randomModelSpec(7, 5))));
writeFileSync(devices, JSON.stringify({ devices: syntheticDevices(3, 2, 'uart-2M', 3) }));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('node', ['bin/microsplit.js', ...args]);
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('microsplit plan', () => {
  it('prints the tables, writes a valid plan and ends with one JSON line', async () => {
    const out = join(dir, 'plan.json');
    const r = await cli('plan', '--model', model, '--devices', devices, '--lambda', '0.5', '--out', out, '--json');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/peak \/ budget/);
    const plan = parsePlan(JSON.parse(readFileSync(out, 'utf8')));
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(last).toMatchObject({ out, strategy: 'microsplit', makespanS: plan.predicted.makespanS });
    expect(plan.strategy.lambda).toBe(0.5);
  });

  it.each([
    { name: 'an unknown strategy', args: ['--strategy', 'magic'], error: /unknown strategy "magic"/ },
    { name: 'lambda out of range', args: ['--lambda', '2'], error: /--lambda must be a number in \[0, 1\], got "2"/ },
    { name: 'both epsilon and replicas', args: ['--epsilon', '0.1', '--replicas', '2'], error: /give --epsilon or --replicas, not both/ },
    { name: 'a missing device file', args: [], devicesFile: 'none.json', error: /none\.json: cannot read the device file/ },
  ])('refuses $name in one line', async ({ args, devicesFile, error }) => {
    const d = devicesFile ? join(dir, devicesFile) : devices;
    const r = await cli('plan', '--model', model, '--devices', d, '--out', join(dir, 'x.json'), ...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(error);
  });

  it("plans for a testbed from the testbed's own figures, as from those figures in a profile file", async () => {
    const testbed = 'testbeds/demo.json';
    const fromTestbed = join(dir, 'tb-plan.json');
    const fromFile = join(dir, 'file-plan.json');
    const figures = join(dir, 'tb-devices.json');
    writeFileSync(figures, JSON.stringify({ devices: testbedProfiles(loadTestbed(testbed)) }));
    const a = await cli('plan', '--model', model, '--testbed', testbed, '--out', fromTestbed, '--json');
    const b = await cli('plan', '--model', model, '--devices', figures, '--out', fromFile, '--json');
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const [pa, pb] = [fromTestbed, fromFile].map((f) => parsePlan(JSON.parse(readFileSync(f, 'utf8'))));
    expect(pa.devices).toEqual(testbedProfiles(loadTestbed(testbed)));
    expect(pa.stages).toEqual(pb.stages);
    expect(pa.predicted).toEqual(pb.predicted);
  });

  it.each([
    ['neither --devices nor --testbed', []],
    ['both --devices and --testbed', ['--devices', devices, '--testbed', 'testbeds/demo.json']],
  ])('refuses %s in one line', async (_, args) => {
    const r = await cli('plan', '--model', model, '--out', join(dir, 'z.json'), ...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('microsplit: give --devices FILE or --testbed FILE (one of them)');
  });

  it('an over-budget request fails with the shortfall', async () => {
    const tiny = join(dir, 'tiny.json');
    writeFileSync(tiny, JSON.stringify({ devices: syntheticDevices(2, 0, 'uart-2M', 3).map((d) => ({ ...d, budget: 600 })) }));
    const r = await cli('plan', '--model', model, '--devices', tiny, '--out', join(dir, 'y.json'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^microsplit: no microsplit plan fits: device "d\d" is [\d,]+ bytes short/);
  });
});

describe('microsplit inspect', () => {
  it('explains the single-device peak and finds the fewest devices of a budget', async () => {
    const r = await cli('inspect', '--model', 'test/fixtures/person_detect/person_detect.tflite', '--budget', '96k', '--json');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/largest sum of live activations: 55,296 bytes/);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(last.peakBytes).toBe(last.activationBytes + last.paramBytes);
    expect(last.budget).toBe(96 * 1024);
    // Parameters alone need at least ceil(params / budget) devices.
    expect(last.devicesNeeded).toBeGreaterThanOrEqual(Math.ceil(last.paramBytes / last.budget));
  });
});
