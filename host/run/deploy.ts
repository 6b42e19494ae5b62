// Deploying a plan: check every device against the plan, LOAD its fragments
// (replicas included) with progress, and only then hand back a deployment.
// A failure mid-deploy RESETs every device this deploy touched, so no device
// is left half-configured, and names the device and the reason.
import { createHash } from 'node:crypto';
import type { DeviceClient, TransferProgress } from '../link/client.ts';
import type { Graph } from '../model/ir.ts';
import { KERNEL_ABI_HASH } from '../abi/kernel-abi.ts';
import type { Plan, PlanFragment } from '../plan/plan-file.ts';
import { buildFragment, type BuiltFragment } from './fragment-build.ts';

export interface DeployProgress {
  device: string;
  fragment: string;
  sent: number;
  total: number;
  /** Bytes of every fragment this device loads. */
  deviceTotal: number;
  deviceSent: number;
}

export interface DeployOptions {
  onProgress?: (p: DeployProgress) => void;
}

/** A fragment as deployed: its numeric protocol id and its packed blob. */
export interface DeployedFragment {
  num: number;
  stage: number;
  plan: PlanFragment;
  built: BuiltFragment;
}

export class DeployError extends Error {
  constructor(
    readonly device: string,
    message: string,
  ) {
    super(`deploy failed on ${device}: ${message}`);
    this.name = 'DeployError';
  }
}

export interface Deployment {
  graph: Graph;
  plan: Plan;
  clients: Map<string, DeviceClient>;
  fragments: DeployedFragment[];
  /** Which device holds which fragment numbers (committed LOADs). */
  holds: Map<string, Set<number>>;
}

/**
 * Protocol ids of a plan's fragments: the plan's hash in the high bits and the
 * fragment's index in the low 12, so devices holding ids of this form hold
 * this plan's fragments (a later `run` recognizes the deployment) and never
 * another plan's by accident.
 */
export function fragmentIds(plan: Plan): number[] {
  const n = plan.stages.reduce((a, s) => a + s.fragments.length, 0);
  if (n >= 4096) throw new Error(`the plan has ${n} fragments; at most 4095 can be deployed`);
  const h = createHash('sha256').update(JSON.stringify(plan)).digest();
  const base = (h.readUInt32LE(0) & 0x7ffff) << 12;
  return Array.from({ length: n }, (_, i) => base + i + 1);
}

/** Packs every fragment of the plan, in plan order. */
export function packPlan(graph: Graph, plan: Plan): DeployedFragment[] {
  const ids = fragmentIds(plan);
  let i = 0;
  return plan.stages.flatMap((s) => s.fragments.map((f) => ({ num: ids[i++], stage: s.index, plan: f, built: buildFragment(graph, f) })));
}

/** Whether every device already holds every fragment the plan gives it (from their HELLOs). */
export async function isDeployed(plan: Plan, clients: Map<string, DeviceClient>): Promise<boolean> {
  const ids = fragmentIds(plan);
  const want = new Map<string, number[]>();
  plan.stages.flatMap((s) => s.fragments).forEach((f, k) => {
    for (const d of f.devices) want.set(d, [...(want.get(d) ?? []), ids[k]]);
  });
  for (const [id, list] of want) {
    const client = clients.get(id);
    if (!client) return false;
    const held = new Set((await client.hello()).fragments);
    if (!list.every((n) => held.has(n))) return false;
  }
  return true;
}

/** Checks a connected device against what the plan expects of it. */
export function checkDevice(plan: Plan, id: string, client: DeviceClient): void {
  const info = client.info;
  if (info.abi !== KERNEL_ABI_HASH)
    throw new DeployError(id, `kernel ABI hash 0x${info.abi.toString(16)} differs from the gateway's 0x${KERNEL_ABI_HASH.toString(16)} (spec/abi.json): reflash the device with an agent built from this gateway's spec`);
  const mem = plan.memory.find((m) => m.device === id);
  const need = mem ? mem.paramBytes + mem.activationBytes : 0;
  if (info.budget < need) throw new DeployError(id, `the plan needs ${need} arena bytes, the device offers ${info.budget}`);
}

export async function deploy(graph: Graph, plan: Plan, clients: Map<string, DeviceClient>, opts: DeployOptions = {}): Promise<Deployment> {
  const fragments = packPlan(graph, plan);
  const byDevice = new Map<string, DeployedFragment[]>();
  for (const f of fragments)
    for (const d of f.plan.devices) {
      if (!clients.has(d)) throw new DeployError(d, 'the plan assigns fragments to it, but it is not connected');
      byDevice.set(d, [...(byDevice.get(d) ?? []), f]);
    }
  for (const [id, client] of clients) if (byDevice.has(id)) checkDevice(plan, id, client);

  const holds = new Map<string, Set<number>>();
  const touched = new Set<string>();
  const loadDevice = async (id: string, list: DeployedFragment[]) => {
    const client = clients.get(id)!;
    touched.add(id);
    await client.reset();
    const deviceTotal = list.reduce((a, f) => a + f.built.blob.length, 0);
    let done = 0;
    const held = new Set<number>();
    holds.set(id, held);
    for (const f of list) {
      const onProgress = (p: TransferProgress) =>
        opts.onProgress?.({ device: id, fragment: f.plan.id, sent: p.sent, total: p.total, deviceTotal, deviceSent: done + p.sent });
      try {
        await client.load(f.num, f.built.blob, { arena: f.built.arena, digest: f.built.digest, onProgress });
      } catch (e) {
        throw new DeployError(id, `LOAD of fragment ${f.plan.id}: ${(e as Error).message}`);
      }
      done += f.built.blob.length;
      held.add(f.num);
    }
  };
  const results = await Promise.allSettled([...byDevice].map(([id, list]) => loadDevice(id, list)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled([...touched].map((id) => clients.get(id)!.reset()));
    throw failed.reason instanceof DeployError ? failed.reason : new DeployError('?', String(failed.reason));
  }
  return { graph, plan, clients, fragments, holds };
}

/** A deployment over devices that already hold the plan's fragments (isDeployed said so). */
export function attach(graph: Graph, plan: Plan, clients: Map<string, DeviceClient>): Deployment {
  const fragments = packPlan(graph, plan);
  const holds = new Map<string, Set<number>>();
  for (const f of fragments) for (const d of f.plan.devices) holds.set(d, (holds.get(d) ?? new Set()).add(f.num));
  for (const [id, client] of clients) if (holds.has(id)) checkDevice(plan, id, client);
  return { graph, plan, clients, fragments, holds };
}
