// npm run fuzz:libfuzzer [-- --seconds N]
// Builds the libFuzzer + ASan harness of the agent's frame input path
// (agent_fuzz.c, the linux build's engine and runtime) and runs it for N
// seconds (default 600) from the corpus in tools/fuzz/corpus, on a copy so
// the repository's corpus changes only by hand. Exits non-zero on a finding,
// leaving the crashing input in the working directory it prints.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFirmware, FIRMWARE_BUILD, FIRMWARE_DIR } from '../../../host/sim/qemu.ts';

export const CORPUS = join(FIRMWARE_DIR, '..', 'tools', 'fuzz', 'corpus');

export interface FuzzOutcome {
  ok: boolean;
  runs: number;
  workDir: string;
  log: string;
}

/** Builds the harness and fuzzes for `seconds`; resolves when libFuzzer exits. */
export async function runLibFuzzer(seconds: number): Promise<FuzzOutcome> {
  buildFirmware(['build/fuzz/agent-fuzz']);
  const workDir = mkdtempSync(join(tmpdir(), 'microsplit-fuzz-'));
  const corpus = join(workDir, 'corpus');
  cpSync(CORPUS, corpus, { recursive: true });
  const args = [`-max_total_time=${seconds}`, '-rss_limit_mb=1024', '-timeout=10', `-artifact_prefix=${workDir}/`, corpus];
  return new Promise((resolve, reject) => {
    const p = spawn(join(FIRMWARE_BUILD, 'fuzz', 'agent-fuzz'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    p.stderr.on('data', (d: Buffer) => (log += d.toString()));
    p.once('error', reject);
    p.once('close', (code) => {
      const runs = Number(/Done (\d+) runs/.exec(log)?.[1] ?? 0);
      resolve({ ok: code === 0, runs, workDir, log });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--seconds');
  const seconds = i > 0 ? Number(process.argv[i + 1]) : 600;
  if (!Number.isInteger(seconds) || seconds < 1) {
    console.error(`fuzz:libfuzzer: --seconds takes a positive integer, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  const r = await runLibFuzzer(seconds);
  console.log(r.ok ? `fuzz:libfuzzer: ${r.runs} runs in ${seconds} s, no finding` : `fuzz:libfuzzer: FINDING; inputs and log in ${r.workDir}\n${r.log.slice(-4000)}`);
  process.exitCode = r.ok ? 0 : 1;
}
