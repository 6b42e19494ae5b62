// Re-planning when the set of devices changes: a device is gone for good
// (the executor marked it unhealthy) or new devices joined. The model is
// planned afresh for the devices that remain healthy and deployed again; the
// old executor is dropped. Re-dispatch (execute.ts) covers a device lost
// mid-inference; re-planning restores a plan sized to what is left, or puts
// a new device to use.
import type { DeviceClient } from '../link/client.ts';
import type { Graph } from '../model/ir.ts';
import type { DeviceProfile } from '../plan/profiles.ts';
import { deployModel, type ModelDeployment, type SessionOptions } from './session.ts';

/** Devices a model may be planned on: their profiles and connected clients, by id. */
export interface DevicePool {
  profiles: DeviceProfile[];
  clients: Map<string, DeviceClient>;
}

/** Both pools together (devices that joined); ids must not repeat. */
export function joinPools(a: DevicePool, b: DevicePool): DevicePool {
  const clash = b.profiles.find((p) => a.clients.has(p.id));
  if (clash) throw new Error(`device ${clash.id} is already in the pool`);
  return { profiles: [...a.profiles, ...b.profiles], clients: new Map([...a.clients, ...b.clients]) };
}

/** The pool without the devices in `lost`. */
export function withoutDevices(pool: DevicePool, lost: ReadonlySet<string>): DevicePool {
  return {
    profiles: pool.profiles.filter((p) => !lost.has(p.id)),
    clients: new Map([...pool.clients].filter(([id]) => !lost.has(id))),
  };
}

/** A new deployment, and the pool it was planned for (pass it to the next re-plan). */
export interface Replanned extends ModelDeployment {
  pool: DevicePool;
}

/**
 * Plans `graph` again for the pool's devices minus those the current
 * deployment's executor found unhealthy, and deploys the new plan (deploy
 * RESETs every device it loads). Healthy devices the new plan leaves out are
 * RESET too, so no stale fragment holds their memory.
 */
export async function replan(graph: Graph, pool: DevicePool, current: ModelDeployment, opts: SessionOptions = {}): Promise<Replanned> {
  const healthy = withoutDevices(pool, current.executor.unhealthy);
  if (healthy.profiles.length === 0) throw new Error('cannot re-plan: no healthy device is left');
  const next = await deployModel(graph, healthy, opts);
  const used = new Set(next.plan.stages.flatMap((s) => s.fragments.flatMap((f) => f.devices)));
  await Promise.all([...healthy.clients].filter(([id]) => !used.has(id)).map(([, c]) => c.reset()));
  opts.log?.(`re-planned for ${healthy.profiles.map((p) => p.id).join(', ')}: ${next.plan.strategy.name}, predicted ${(next.plan.predicted.makespanS * 1000).toFixed(2)} ms`);
  return { ...next, pool: healthy };
}
