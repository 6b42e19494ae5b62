// Fault injection over real links: mnist-s on four simulated devices (two
// PTYs, two loopback TCP), one of which crashes, hangs or corrupts frames
// while inferences run. With replication the run completes and every output
// equals the oracle's; without it the lost device's fragments are
// re-dispatched to a device with room, or the run fails within its timeout
// with an error naming the device and the fragment. No output is ever wrong,
// and no process outlives its testbed.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../host/model/ir.ts';
import { RunError, type Executor } from '../host/run/execute.ts';
import { deployModel, openTestbed, type OpenTestbed } from '../host/run/session.ts';
import { agentOverhead } from '../host/sim/agent-host.ts';
import { deviceWindow, loadTestbed, type FaultSpec, type Testbed } from '../host/sim/testbed.ts';
import { bytes, childPids, closeAndListLeftovers, mnistCase, type Outcome, runInferences } from './e2e-fixture.ts';

const BASE = loadTestbed('test/fixtures/e2e-faults.json');
/** The executor's fragment timeout in these tests (the cost model predicts microseconds). */
const TIMEOUT_MS = 1000;
const INPUTS = 20;

/** The base testbed with every arena set to `budget` (the memory adds the agent's overhead) and `faults` injected into `device`. */
function testbedWith(budget: string, device: string, faults: Partial<FaultSpec>): Testbed {
  const arena = parseInt(budget, 10) * 1024;
  return {
    ...BASE,
    devices: BASE.devices.map((d) => ({ ...d, memory: arena + agentOverhead(deviceWindow(d)), ...(d.id === device ? { faults: { dropP: 0, corruptP: 0, ...faults } } : {}) })),
  };
}

interface Scenario {
  name: string;
  budget: string;
  replicas?: number;
  device: string;
  faults: Partial<FaultSpec>;
  /**
   * Keep running past INPUTS inferences until the faulty device is marked
   * unhealthy, or until the gateway saw a bad frame or resent a chunk: when
   * the fault fires at a moment that cannot be told in advance.
   */
  until?: 'unhealthy' | 'corruption seen';
  expect: 'completes' | 're-dispatches' | 'fails';
}

const scenarios: Scenario[] = [
  // A replica that loses its races may be cancelled before it answers, so its count of RUNs grows slowly: run until it crashed.
  { name: 'pty-b crashes after 10 RUNs, replicated x2', budget: '24K', replicas: 2, device: 'pty-b', faults: { crashAfterRuns: 10 }, until: 'unhealthy', expect: 'completes' },
  { name: 'pty-b crashes after 20 RUNs, unreplicated, others have room', budget: '32K', device: 'pty-b', faults: { crashAfterRuns: 20 }, expect: 're-dispatches' },
  { name: 'tcp-d crashes after 20 RUNs, unreplicated, no room elsewhere', budget: '17K', device: 'tcp-d', faults: { crashAfterRuns: 20 }, expect: 'fails' },
  // A hang's clock starts with the device process: 10 s leaves the other devices time to start and the deploy to finish on a loaded machine.
  { name: 'pty-b hangs at 10 s, replicated x2', budget: '24K', replicas: 2, device: 'pty-b', faults: { hangAtMs: 10_000 }, until: 'unhealthy', expect: 'completes' },
  { name: 'tcp-c hangs at 10 s, unreplicated, others have room', budget: '32K', device: 'tcp-c', faults: { hangAtMs: 10_000 }, until: 'unhealthy', expect: 're-dispatches' },
  { name: 'pty-a corrupts 1% of frames, replicated x2', budget: '24K', replicas: 2, device: 'pty-a', faults: { corruptP: 0.01 }, until: 'corruption seen', expect: 'completes' },
  { name: 'pty-a corrupts 1% of frames, unreplicated, no room elsewhere', budget: '20K', device: 'pty-a', faults: { corruptP: 0.01 }, until: 'corruption seen', expect: 'completes' },
];

describe('mnist-s on four devices with one fault injected', () => {
  let graph: Graph;
  let inputs: Int8Array[];
  let expected: Buffer[];
  beforeAll(async () => {
    ({ graph, inputs, expected } = await mnistCase(INPUTS));
  });

  // Rows as [title, scenario]: '%s' prints the whole title ('$name' would cut it at 40 characters).
  it.each(scenarios.map((s) => [`${s.name}: ${s.expect}, every output bit-exact, no process left`, s] as const))('%s', async (_, s) => {
    const childrenBefore = childPids();
    const open: OpenTestbed = await openTestbed(testbedWith(s.budget, s.device, s.faults));
    const faulty = open.clients.get(s.device)!;
    let outcome: Outcome;
    let executor: Executor;
    try {
      const log: string[] = [];
      ({ executor } = await deployModel(graph, open, {
        strategy: s.replicas ? 'replicated' : 'microsplit',
        replicas: s.replicas,
        log: (l) => log.push(l),
        execute: { timeoutSlackMs: TIMEOUT_MS },
      }));
      const groups = executor.plan.stages.flatMap((st) => st.fragments.map((f) => f.devices.length));
      expect(new Set(groups)).toEqual(new Set([s.replicas ?? 1]));
      const fired = { unhealthy: () => executor.unhealthy.has(s.device), 'corruption seen': () => faulty.stats.badFrames + faulty.stats.retransmits > 0 };
      outcome = await runInferences(executor, inputs, INPUTS, log, s.until ? fired[s.until] : undefined);
    } finally {
      expect(await closeAndListLeftovers([open], childrenBefore)).toEqual([]);
    }

    // Whatever came back is right.
    expect(outcome.outputs).toEqual(outcome.outputs.map((_, i) => expected[i % INPUTS]));
    switch (s.expect) {
      case 'completes':
        expect(outcome.error).toBeUndefined();
        expect(outcome.outputs.length).toBeGreaterThanOrEqual(INPUTS);
        break;
      case 're-dispatches':
        expect(outcome.error).toBeUndefined();
        expect(outcome.outputs.length).toBeGreaterThanOrEqual(INPUTS);
        expect(outcome.log.some((l) => /^fragment s\d+f\d+ re-dispatched to /.test(l)), outcome.log.join('\n')).toBe(true);
        break;
      case 'fails':
        expect(outcome.error).toBeInstanceOf(RunError);
        expect(outcome.error!.message).toMatch(new RegExp(`^fragment s\\d+f\\d+ on ${s.device}: `));
        // Mid-run: some inferences completed before the crash.
        expect(outcome.outputs.length).toBeGreaterThan(0);
        // Bounded: the failing inference ends within a few fragment timeouts.
        expect(outcome.failedAfterMs).toBeLessThan(3 * TIMEOUT_MS);
        break;
    }
    // Only the faulty device is ever given up on.
    expect([...executor!.unhealthy].filter((d) => d !== s.device), outcome.log.join('\n')).toEqual([]);
    if (s.faults.corruptP) {
      // The fault did fire: the gateway saw bad frames or had to resend.
      expect(faulty.stats.badFrames + faulty.stats.retransmits).toBeGreaterThan(0);
    } else {
      expect(executor!.unhealthy.has(s.device), outcome.log.join('\n')).toBe(true);
    }
  }, 90_000);
});

describe('mnist-s on four devices, two inferences in flight, one fault', () => {
  let graph: Graph;
  let inputs: Int8Array[];
  let expected: Buffer[];
  beforeAll(async () => {
    ({ graph, inputs, expected } = await mnistCase(INPUTS));
  });

  const pipelined: { name: string; device: string; faults: Partial<FaultSpec> }[] = [
    // A PTY stays open when its device dies: only the watchdog can tell.
    { name: 'pty-b crashes after 20 RUNs', device: 'pty-b', faults: { crashAfterRuns: 20 } },
    { name: 'tcp-c crashes after 20 RUNs', device: 'tcp-c', faults: { crashAfterRuns: 20 } },
    { name: 'pty-a hangs at 10 s', device: 'pty-a', faults: { hangAtMs: 10_000 } },
    { name: 'pty-a corrupts 1% of frames', device: 'pty-a', faults: { corruptP: 0.01 } },
  ];
  it.each(pipelined.map((s) => [`${s.name}, unreplicated, standbys loaded: every output bit-exact, only it given up on`, s] as const))('%s', async (_, s) => {
    const childrenBefore = childPids();
    const open = await openTestbed(testbedWith('32K', s.device, s.faults));
    const log: string[] = [];
    try {
      const { executor } = await deployModel(graph, open, { log: (l) => log.push(l), execute: { timeoutSlackMs: TIMEOUT_MS }, standbys: true });
      // Batches of INPUTS, two in flight, until the fault has shown (a hang's clock starts with its process) and at least three ran.
      const faulty = open.clients.get(s.device)!;
      const shown = () => (s.faults.corruptP ? faulty.stats.badFrames + faulty.stats.retransmits > 0 : executor.unhealthy.has(s.device));
      const giveUp = performance.now() + 40_000;
      for (let batch = 0; (batch < 3 || !shown()) && performance.now() < giveUp; batch++) {
        const results = await executor.inferMany(inputs.map((x) => [x]), 2);
        expect(results.map((r) => bytes(r.outputs[0]))).toEqual(expected);
      }
      expect([...executor.unhealthy].filter((d) => d !== s.device), log.join('\n')).toEqual([]);
      if (!s.faults.corruptP) expect(executor.unhealthy.has(s.device), log.join('\n')).toBe(true);
    } finally {
      expect(await closeAndListLeftovers([open], childrenBefore)).toEqual([]);
    }
  }, 90_000);
});
