// One gateway session over a set of devices: connect to each (HELLO with
// retries), plan the model for them, deploy, and hand back an executor. Used
// by `microsplit run`, `demo`, `eval --testbed` and the end-to-end tests.
import { existsSync } from 'node:fs';
import type { DeviceClient } from '../link/client.ts';
import { parseKeyHex, readKeyFile } from '../link/key-file.ts';
import type { Graph } from '../model/ir.ts';
import type { PlanRequest } from '../plan/assemble.ts';
import { graphHash, type Plan } from '../plan/plan-file.ts';
import type { DeviceProfile } from '../plan/profiles.ts';
import { strategies } from '../plan/strategies/index.ts';
import { startTestbed, type RunningTestbed } from '../sim/launcher.ts';
import { loadTestbed, parseTestbed, type DeviceSpec, type Testbed } from '../sim/testbed.ts';
import { connectAll } from './connect.ts';
import { deploy, type DeployOptions, type Deployment } from './deploy.ts';
import { Executor, type ExecuteOptions } from './execute.ts';
import { measuredProfiles, PROBES } from './measure-links.ts';
import { helloProfiles, samePlannerFigures, testbedProfiles } from './testbed-profiles.ts';

export interface PlanChoice {
  strategy?: string;
  lambda?: number;
  epsilon?: number;
  replicas?: number;
}

export async function makePlan(graph: Graph, devices: DeviceProfile[], choice: PlanChoice = {}, name = graph.name ?? 'model'): Promise<Plan> {
  const strategy = strategies[choice.strategy ?? 'microsplit'];
  if (!strategy) throw new Error(`unknown strategy "${choice.strategy}" (known: ${Object.keys(strategies).join(', ')})`);
  const req: PlanRequest = {
    graph,
    model: { name, sha256: graphHash(graph) },
    devices,
    lambda: choice.lambda ?? 0,
    epsilon: choice.epsilon,
    replicas: choice.replicas,
  };
  return strategy.plan(req);
}

/** Simulated devices started from a testbed file, connected. */
export interface OpenTestbed {
  testbed: RunningTestbed;
  profiles: DeviceProfile[];
  clients: Map<string, DeviceClient>;
  close(): Promise<void>;
}

/** A model planned and deployed on connected devices. */
export interface ModelDeployment {
  plan: Plan;
  deployment: Deployment;
  executor: Executor;
}

export type TestbedSession = OpenTestbed & ModelDeployment;

export interface SessionOptions extends PlanChoice {
  log?: (line: string) => void;
  /** Plan with link latencies measured on the running devices (see openTestbed). */
  measureLinks?: boolean;
  deploy?: DeployOptions;
  execute?: ExecuteOptions;
  /** After deploying, load a standby copy of each fragment where a device has room (Executor.loadStandbys). */
  standbys?: boolean;
}

/**
 * Starts and connects a testbed's devices. With `measureLinks` the profiles'
 * link latencies are raised to what PINGs measure, and QEMU boards' byte
 * rates lowered to what RUN tiles move at (plans then predict what
 * the runtime measures, but depend on the machine's load); without, the
 * testbed's nominal figures are used, so plans repeat.
 */
export async function openTestbed(testbed: string | Testbed, log?: (line: string) => void, measureLinks = false): Promise<OpenTestbed> {
  const tb = typeof testbed === 'string' ? loadTestbed(testbed) : parseTestbed(testbed);
  const running = await startTestbed(tb, { log });
  let clients = new Map<string, DeviceClient>();
  const close = async () => {
    await Promise.allSettled([...clients.values()].map((c) => c.close()));
    await running.stop();
  };
  try {
    clients = await connectAll(running.devices.map((d) => ({ ...d, linkBytesPerSec: d.spec?.link.rate, key: d.spec && testbedKey(d.spec) })));
    const nominal = helloProfiles(testbedProfiles(tb), clients);
    // A board's UART is paced to its stated rate, but a board too slow to take bytes that fast moves fewer: its measured rate holds.
    const boards = new Set(running.devices.filter((d) => d.engine === 'qemu').map((d) => d.id));
    return { testbed: running, profiles: measureLinks ? await measuredProfiles(nominal, clients, PROBES, boards) : nominal, clients, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The key of a keyed testbed device, which the gateway signs with. */
function testbedKey(spec: DeviceSpec): Uint8Array | undefined {
  if (spec.keyFile && existsSync(spec.keyFile)) return readKeyFile(spec.keyFile);
  return spec.keyHex ? parseKeyHex(spec.keyHex, `device ${spec.id} keyHex`) : undefined;
}

/** Plans `graph` for the devices (or takes `plan`), deploys it, and returns its executor. */
export async function deployModel(
  graph: Graph,
  devices: Pick<OpenTestbed, 'profiles' | 'clients'>,
  opts: SessionOptions = {},
  plan?: Plan,
): Promise<ModelDeployment> {
  const p = plan ?? (await makePlan(graph, devices.profiles, opts));
  const deployment = await deploy(graph, p, devices.clients, opts.deploy);
  const executor = new Executor(deployment, { log: opts.log, ...opts.execute });
  if (opts.standbys) await executor.loadStandbys();
  return { plan: p, deployment, executor };
}

/** Starts a testbed's simulated devices, plans, deploys; close() stops everything. */
export async function startSession(graph: Graph, testbed: string | Testbed, opts: SessionOptions = {}): Promise<TestbedSession> {
  const tb = typeof testbed === 'string' ? loadTestbed(testbed) : parseTestbed(testbed);
  // Plan before starting anything, so an infeasible request costs no processes
  // (with measured links, it is planned again once the devices run).
  const nominal = testbedProfiles(tb);
  const plan = await makePlan(graph, nominal, opts);
  const open = await openTestbed(tb, opts.log, opts.measureLinks);
  try {
    // Planned again when links were measured or a device's HELLO differs from the testbed's memory figures or says it does not forward.
    const replan = opts.measureLinks || !samePlannerFigures(nominal, open.profiles);
    return { ...open, ...(await deployModel(graph, open, opts, replan ? undefined : plan)) };
  } catch (e) {
    await open.close();
    throw e;
  }
}
