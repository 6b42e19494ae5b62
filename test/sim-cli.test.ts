// The `sim` and `devices` commands as a user runs them: `microsplit sim`
// prints the ports and cleans up every process on Ctrl-C; `microsplit
// devices` reports each device's HELLO.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DeviceReport } from '../host/cli/commands/devices.ts';

const CLI = 'bin/microsplit.js';

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

describe('microsplit sim', () => {
  it('prints every device, answers HELLO on them, and stops every process on Ctrl-C', async () => {
    const sim = spawn(process.execPath, [CLI, 'sim', 'testbeds/four.json', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const list = await new Promise<{ devices: { id: string; uri: string; pid: number }[] }>((resolve, reject) => {
      sim.stdout.setEncoding('utf8');
      sim.stdout.on('data', (s: string) => {
        out += s;
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      sim.once('exit', (code) => reject(new Error(`sim exited early with ${code}: ${out}`)));
    });
    expect(list.devices.map((d) => d.id)).toEqual(['pty-a', 'pty-b', 'pty-c', 'tcp-d']);
    expect(out).toMatch(/^pty-a\s+\/dev\/pts\/\d+\s+node\s+65536\s+pty 10000000 B\/s/m);

    const asked = spawnSync(process.execPath, [CLI, 'devices', ...list.devices.map((d) => d.uri), '--json', '--timeout', '20000'], { encoding: 'utf8' });
    expect(asked.status, asked.stdout + asked.stderr).toBe(0);
    const reports = (JSON.parse(asked.stdout.trim().split('\n').at(-1)!) as { devices: DeviceReport[] }).devices;
    expect(reports.map((r) => [r.ok, r.info?.budget])).toEqual([
      [true, 65536],
      [true, 65536],
      [true, 49152],
      [true, 98304],
    ]);

    const exited = new Promise<number | null>((r) => sim.once('exit', (code) => r(code)));
    sim.kill('SIGINT');
    expect(await exited).toBe(130);
    // Device processes are gone, and so are the socat PTY pairs.
    expect(await until(() => list.devices.every((d) => !alive(d.pid)), 15_000)).toBe(true);
    const ptys = list.devices.filter((d) => d.uri.startsWith('/dev/pts/')).map((d) => d.uri);
    expect(await until(() => ptys.every((p) => !existsSync(p)), 15_000)).toBe(true);
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
