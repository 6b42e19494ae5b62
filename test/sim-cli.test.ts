// The `sim` and `devices` commands as a user runs them: `microsplit sim`
// prints the ports and cleans up every process on Ctrl-C; `microsplit
// devices` reports each device's HELLO.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { agentOverhead } from '../host/sim/agent-host.ts';
import type { DeviceReport } from '../host/cli/commands/devices.ts';
import { missingSocat } from '../host/sim/pty.ts';
import { toolGate } from './tool-gate.ts';

const CLI = 'bin/microsplit.js';
const socat = toolGate(missingSocat());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

interface SimList {
  devices: { id: string; uri: string; pid: number }[];
}

/** Starts `microsplit sim FILE --json` and resolves with its device list and what it printed up to there. */
function startSim(file: string, env?: NodeJS.ProcessEnv): Promise<{ sim: ChildProcess; list: SimList; out: string }> {
  const sim = spawn(process.execPath, [CLI, 'sim', file, '--json'], { stdio: ['ignore', 'pipe', 'inherit'], env });
  let out = '';
  return new Promise((resolve, reject) => {
    sim.stdout!.setEncoding('utf8');
    sim.stdout!.on('data', (s: string) => {
      out += s;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ sim, list: JSON.parse(line), out });
    });
    sim.once('exit', (code) => reject(new Error(`sim exited early with ${code}: ${out}`)));
  });
}

/** HELLO every device of the list through `microsplit devices`; their budgets. */
function budgets(list: SimList): [boolean, number | undefined][] {
  const asked = spawnSync(process.execPath, [CLI, 'devices', ...list.devices.map((d) => d.uri), '--json', '--timeout', '20000'], { encoding: 'utf8' });
  expect(asked.status, asked.stdout + asked.stderr).toBe(0);
  const reports = (JSON.parse(asked.stdout.trim().split('\n').at(-1)!) as { devices: DeviceReport[] }).devices;
  return reports.map((r) => [r.ok, r.info?.budget]);
}

/** Ctrl-C: sim exits 130 and every device process is gone. */
async function interrupt(sim: ChildProcess, list: SimList): Promise<void> {
  const exited = new Promise<number | null>((r) => sim.once('exit', (code) => r(code)));
  sim.kill('SIGINT');
  expect(await exited).toBe(130);
  expect(await until(() => list.devices.every((d) => !alive(d.pid)), 15_000)).toBe(true);
}

/** Each agent's arena: the testbed's memory less its overhead for its window. */
const FOUR_BUDGETS = [
  [true, 83 * 1024 - agentOverhead(4096)],
  [true, 79 * 1024 - agentOverhead(2048)],
  [true, 61 * 1024 - agentOverhead(1024)],
  [true, 115 * 1024 - agentOverhead(4096)],
];

describe.skipIf(socat.skip)(`microsplit sim${socat.note}`, () => {
  beforeAll(() => socat.check());

  it('prints every device, answers HELLO on them, and stops every process on Ctrl-C', async () => {
    const { sim, list, out } = await startSim('testbeds/four.json');
    expect(list.devices.map((d) => d.id)).toEqual(['pty-a', 'pty-b', 'pty-c', 'tcp-d']);
    expect(out).toMatch(/^pty-a\s+\/dev\/pts\/\d+\s+node\s+84992\s+pty 10000000 B\/s/m);
    expect(out).toContain("links: socat PTYs (3), loopback TCP (1); simulated links paced to each device's stated rate\n");
    expect(budgets(list)).toEqual(FOUR_BUDGETS);
    await interrupt(sim, list);
    // The socat PTY pairs are gone too.
    const ptys = list.devices.filter((d) => d.uri.startsWith('/dev/pts/')).map((d) => d.uri);
    expect(await until(() => ptys.every((p) => !existsSync(p)), 15_000)).toBe(true);
  });
});

describe('microsplit sim without socat', () => {
  it('serves every device on loopback TCP, says so in one line, and keeps running until Ctrl-C', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'microsplit-nopath-'));
    onTestFinished(() => rmSync(empty, { recursive: true }));
    // A PATH without socat (sim needs no program from PATH: devices start from process.execPath).
    const { sim, list, out } = await startSim('testbeds/four.json', { ...process.env, PATH: empty });
    expect(list.devices.every((d) => d.uri.startsWith('tcp://127.0.0.1:'))).toBe(true);
    expect(out).toMatch(/^pty-a\s+tcp:\/\/127\.0\.0\.1:\d+\s+node\s+84992\s+tcp 10000000 B\/s/m);
    expect(out).toContain('socat not found, so the 3 PTY devices are on loopback TCP (install socat for PTYs)\n');
    expect(budgets(list)).toEqual(FOUR_BUDGETS);
    expect(sim.exitCode).toBe(null); // still serving after the devices were asked
    await interrupt(sim, list);
  });
});

describe('microsplit devices', () => {
  it('reports an unreachable device in one line and exits non-zero', () => {
    const r = spawnSync(process.execPath, [CLI, 'devices', 'tcp://127.0.0.1:1', '--timeout', '500'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout.trim()).toBe('tcp://127.0.0.1:1: cannot connect to tcp://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('refuses to run with nothing to ask', () => {
    const r = spawnSync(process.execPath, [CLI, 'devices'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('give at least one port or --testbed FILE');
  });
});
