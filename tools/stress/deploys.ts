// `npm run stress:deploy [-- --deploys N] [-- --busy K] [-- --testbed T] [-- --json]`:
// deploys person_detect N times in a row on a testbed (by default QEMU
// boards beside a simulated device) while K busy loops compete for the
// cores, and counts the deploys that fail. Not part of `npm test`: it takes
// minutes and loads the machine on purpose.
import { spawn, type ChildProcess } from 'node:child_process';
import { loadModel } from '../../host/model/load.ts';
import { deploy } from '../../host/run/deploy.ts';
import { makePlan, openTestbed } from '../../host/run/session.ts';

const MODEL = 'models/person_detect/person_detect.tflite';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
function count(name: string, fallback: number): number {
  const n = Number(arg(name, String(fallback)));
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} takes a whole number, got ${arg(name, '')}`);
  return n;
}

const json = process.argv.includes('--json');
const deploys = count('deploys', 50);
const busy = count('busy', 2);
const testbedFile = arg('testbed', 'testbeds/boards.json');
const say = (line: string) => (json ? console.error(line) : console.log(line));

const loops: ChildProcess[] = [];
const stopLoops = () => {
  for (const l of loops) if (l.exitCode === null) l.kill('SIGKILL');
};
process.on('exit', stopLoops);
for (let i = 0; i < busy; i++) loops.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));

const graph = await loadModel(MODEL);
const tb = await openTestbed(testbedFile);
const results: { ok: boolean; ms: number; retransmits: number; bytesRetransmitted: number; timeouts: number; error?: string }[] = [];
try {
  const plan = await makePlan(graph, tb.profiles);
  say(`${testbedFile}: ${tb.profiles.length} devices, plan of ${plan.stages.length} stages; ${deploys} deploys with ${busy} busy loops`);
  const totals = () => {
    const s = { retransmits: 0, bytesRetransmitted: 0, timeouts: 0 };
    for (const c of tb.clients.values()) {
      s.retransmits += c.stats.retransmits;
      s.bytesRetransmitted += c.stats.bytesRetransmitted;
      s.timeouts += c.stats.timeouts;
    }
    return s;
  };
  for (let i = 1; i <= deploys; i++) {
    const before = totals();
    const t0 = performance.now();
    let error: string | undefined;
    await deploy(graph, plan, tb.clients).catch((e: Error) => (error = e.message));
    const after = totals();
    const r = {
      ok: error === undefined,
      ms: Math.round(performance.now() - t0),
      retransmits: after.retransmits - before.retransmits,
      bytesRetransmitted: after.bytesRetransmitted - before.bytesRetransmitted,
      timeouts: after.timeouts - before.timeouts,
      ...(error ? { error } : {}),
    };
    results.push(r);
    say(`deploy ${i}: ${r.ok ? 'ok' : `FAILED: ${error}`} in ${r.ms} ms; ${r.timeouts} timeouts, ${r.retransmits} frames (${r.bytesRetransmitted} bytes) resent`);
  }
} finally {
  await tb.close();
  stopLoops();
}
const failed = results.filter((r) => !r.ok).length;
const ms = results.map((r) => r.ms).sort((a, b) => a - b);
say(`${deploys - failed} of ${deploys} deploys succeeded; median ${ms[Math.floor(ms.length / 2)]} ms, slowest ${ms.at(-1)} ms`);
if (json)
  console.log(JSON.stringify({ testbed: testbedFile, busy, deploys, failed, median_ms: ms[Math.floor(ms.length / 2)], max_ms: ms.at(-1), runs: results }));
process.exitCode = failed ? 1 : 0;
