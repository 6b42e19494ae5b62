// Re-planning over real links, as one story on one testbed: mnist-s runs
// unreplicated on four small devices; tcp-d crashes and no other device has
// room for its fragments, so the run fails naming it; a re-plan on the three
// left completes the run; then a fast device joins and the next re-plan puts
// it to work. Every output equals the oracle's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../host/model/ir.ts';
import { RunError } from '../host/run/execute.ts';
import { joinPools, replan, type DevicePool } from '../host/run/replan.ts';
import { deviceReports, memoryViolations } from '../host/run/report.ts';
import { deployModel, openTestbed, type ModelDeployment, type OpenTestbed } from '../host/run/session.ts';
import { childPids, closeAndListLeftovers, mnistCase, runInferences } from './e2e-fixture.ts';

const INPUTS = 20;
const TIMEOUT_MS = 1000;

/** Devices the plan gives fragments to. */
function planDevices(d: ModelDeployment): string[] {
  return [...new Set(d.plan.stages.flatMap((s) => s.fragments.flatMap((f) => f.devices)))].sort();
}

/** Devices that returned at least one result. */
function ranOn(d: ModelDeployment): string[] {
  return [...new Set(d.executor.trace.records.filter((r) => r.outcome === 'ok').map((r) => r.device))].sort();
}

describe('test/fixtures/e2e-replan.json: a device lost for good, then one that joins', () => {
  const opts = { execute: { timeoutSlackMs: TIMEOUT_MS } };
  let graph: Graph;
  let inputs: Int8Array[];
  let expected: Buffer[];
  let childrenBefore: number[];
  const opened: OpenTestbed[] = [];
  let pool: DevicePool;
  let current: ModelDeployment;
  beforeAll(async () => {
    ({ graph, inputs, expected } = await mnistCase(INPUTS));
    childrenBefore = childPids();
    const open = await openTestbed('test/fixtures/e2e-replan.json');
    opened.push(open);
    pool = open;
    current = await deployModel(graph, pool, opts);
  }, 60_000);
  afterAll(() => Promise.all(opened.map((o) => o.close())));

  it('fails naming tcp-d when it crashes and no device has room for its fragments', async () => {
    expect(planDevices(current)).toEqual(['pty-a', 'pty-b', 'tcp-c', 'tcp-d']);
    const outcome = await runInferences(current.executor, inputs, 100, []);
    expect(outcome.error).toBeInstanceOf(RunError);
    expect(outcome.error!.message).toMatch(/^fragment s\d+f\d+ on tcp-d: /);
    expect(outcome.outputs.length).toBeGreaterThan(0);
    expect(outcome.outputs).toEqual(outcome.outputs.map((_, i) => expected[i % INPUTS]));
  });

  it('completes after a re-plan on the three devices left', async () => {
    ({ pool, ...current } = await replan(graph, pool, current, opts));
    expect(planDevices(current)).toEqual(['pty-a', 'pty-b', 'tcp-c']);
    const outcome = await runInferences(current.executor, inputs, INPUTS, []);
    expect(outcome.error).toBeUndefined();
    expect(outcome.outputs).toEqual(expected);
    expect(memoryViolations(deviceReports(current.plan, current.executor))).toEqual([]);
  });

  it('puts a device that joins to work after the next re-plan', async () => {
    const joined = await openTestbed('test/fixtures/e2e-join.json');
    opened.push(joined);
    ({ pool, ...current } = await replan(graph, joinPools(pool, joined), current, opts));
    expect(planDevices(current)).toContain('tcp-e');
    expect(planDevices(current)).not.toContain('tcp-d');
    const outcome = await runInferences(current.executor, inputs, INPUTS, []);
    expect(outcome.error).toBeUndefined();
    expect(outcome.outputs).toEqual(expected);
    expect(ranOn(current)).toContain('tcp-e');
    const reports = deviceReports(current.plan, current.executor);
    expect(memoryViolations(reports)).toEqual([]);
    expect(reports.find((r) => r.id === 'tcp-e')!.high_water).toBeGreaterThan(0);
  }, 60_000);

  it('leaves no process behind when both testbeds close', async () => {
    expect(await closeAndListLeftovers(opened, childrenBefore)).toEqual([]);
  });
});
