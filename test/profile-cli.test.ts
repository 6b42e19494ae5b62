// `microsplit profile` against simulated devices: the MAC/s it writes are the
// speeds their simulator enforces (Node's own would describe the machine, not
// the testbed), it says so, and the links are measured. A device listed
// without a simulated speed keeps what PROFILE measured.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDevices, type DeviceProfile } from '../host/plan/profiles.ts';
import { testbedProfiles } from '../host/run/testbed-profiles.ts';
import { startTestbed } from '../host/sim/launcher.ts';
import { parseTestbed } from '../host/sim/testbed.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'microsplit-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TESTBED = {
  devices: [
    { id: 'slow', memory: '48K', speed: { default: 2e6, CONV_2D: 3e6 }, link: { kind: 'tcp', rate: 1e6 } },
    { id: 'fast', memory: '64K', speed: { default: 9e6, FULLY_CONNECTED: 7e6 }, link: { kind: 'tcp', rate: 2e6, latencyMs: 2 } },
  ],
};

async function profile(args: string[]): Promise<{ stdout: string; profiles: DeviceProfile[]; source: Record<string, string> }> {
  const out = join(dir, `devices-${args.join('-').replace(/\W/g, '')}.json`);
  const r = await run(process.execPath, ['bin/microsplit.js', 'profile', ...args, '--out', out, '--macs', '20000', '--probe-bytes', '4K', '--json'], { timeout: 120_000 });
  const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  expect(loadDevices(out)).toEqual(last.devices); // the file holds what was reported
  return { stdout: r.stdout, profiles: last.devices, source: last.mac_per_sec };
}

describe('microsplit profile on simulated devices', () => {
  it('--testbed: writes the MAC/s each device simulates, says so, and measures the links', async () => {
    const file = join(dir, 'testbed.json');
    writeFileSync(file, JSON.stringify(TESTBED));
    const { stdout, profiles, source } = await profile(['--testbed', file]);
    const stated = testbedProfiles(parseTestbed(TESTBED));
    expect(profiles.map((p) => [p.id, p.macPerSec, p.budget])).toEqual(stated.map((p) => [p.id, p.macPerSec, p.budget]));
    expect(source).toEqual({ slow: 'simulated', fast: 'simulated' });
    expect(stdout).toContain("'simulated' devices report the speeds their simulator enforces, not Node's own");
    for (const p of profiles) expect(p.link.bytesPerSec).toBeGreaterThan(0);
  });

  it('--ports: a device listed with its simulated speed reports it, one without keeps the measured rates', async () => {
    const tb = await startTestbed(TESTBED);
    try {
      const [slow, fast] = tb.devices;
      const ports = join(dir, 'ports.json');
      // As `microsplit sim --json` lists them, except that "fast" is listed without its speed.
      writeFileSync(ports, JSON.stringify({ devices: [{ id: slow.id, uri: slow.uri, speed: { default: 2e6, CONV_2D: 3e6 } }, { id: fast.id, uri: fast.uri }] }));
      const { profiles, source } = await profile(['--ports', ports]);
      expect(source).toEqual({ slow: 'simulated', fast: 'measured' });
      expect(profiles[0].macPerSec).toEqual({ default: 2e6, CONV_2D: 3e6 });
      // Measured: PROFILE's kinds, each a positive rate of Node's own.
      expect(Object.keys(profiles[1].macPerSec)).toEqual(expect.arrayContaining(['default', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED']));
      expect(profiles[1].macPerSec).not.toEqual(testbedProfiles(parseTestbed(TESTBED))[1].macPerSec);
    } finally {
      await tb.stop();
    }
  });

  it('refuses a ports file whose speed is not MAC/s per op kind', async () => {
    const ports = join(dir, 'bad-ports.json');
    writeFileSync(ports, JSON.stringify({ devices: [{ id: 'a', uri: 'tcp://127.0.0.1:1', speed: { CONV_2D: 'fast' } }] }));
    await expect(run(process.execPath, ['bin/microsplit.js', 'profile', '--ports', ports, '--out', join(dir, 'x.json')])).rejects.toMatchObject({
      stderr: expect.stringContaining('bad-ports.json: expected {"devices":[{"id":"...","uri":"...", "speed"?: {"default": MAC/s, ...}}]}'),
    });
  });
});
