// The planner's view of a testbed's devices: the same speeds, link rates and
// energy figures the simulator enforces, as device profiles.
import type { DeviceClient } from '../link/client.ts';
import { DeviceProfileSchema, type DeviceProfile } from '../plan/profiles.ts';
import { agentOverhead } from '../sim/agent-host.ts';
import { deviceSpeed, deviceWindow, meshOf, type DeviceSpec, type Testbed } from '../sim/testbed.ts';

/** nJ -> J, without binary noise in the written profile. */
const nano = (nj = 0) => Number((nj * 1e-9).toPrecision(12));

/** A testbed device as a profile; with its testbed, its direct links (the testbed's mesh) too. */
export function profileOf(d: DeviceSpec, t?: Pick<Testbed, 'mesh'>): DeviceProfile {
  const mesh = t && meshOf(t, d.id);
  const { default: def, ...perKind } = deviceSpeed(d);
  const macPerSec: Record<string, number> = { default: def };
  for (const [k, v] of Object.entries(perKind)) if (v !== undefined) macPerSec[k] = v;
  return DeviceProfileSchema.parse({
    id: d.id,
    // Devices named like esp32s3-a, esp32s3-b are of one kind (used to suggest "one more like X").
    kind: d.board ?? d.id.replace(/-[A-Za-z0-9]+$/, ''),
    budget: d.memory,
    // The same agent.wasm with the same window reports this overhead in HELLO.
    reservedBytes: agentOverhead(deviceWindow(d)),
    macPerSec,
    link: { bytesPerSec: d.link.rate, latencyS: d.link.latencyMs / 1000, windowBytes: deviceWindow(d) },
    ...(mesh && { peers: Object.fromEntries(mesh.peers.map((p) => [p, { bytesPerSec: mesh.rate, latencyS: mesh.latencyMs / 1000 }])) }),
    energy: {
      joulesPerMac: nano(d.energy?.nJPerMac),
      joulesPerByteSent: nano(d.energy?.nJPerByte),
      joulesPerByteReceived: nano(d.energy?.nJPerByte),
      idleWatts: (d.energy?.idleMw ?? 0) / 1000,
    },
  });
}

export function testbedProfiles(t: Testbed): DeviceProfile[] {
  return t.devices.map((d) => profileOf(d, t));
}

/**
 * The profiles with each connected device's own memory figures and direct
 * links (none for a device whose host does not forward): the agent's
 * overhead as HELLO reports it is the planner's reservedBytes, and overhead
 * plus arena its budget. For a testbed these equal the nominal figures unless
 * a board gave its agent other memory than the testbed says.
 */
export function helloProfiles(profiles: DeviceProfile[], clients: Map<string, DeviceClient>): DeviceProfile[] {
  // A device whose HELLO says its host does not forward (mesh 0) has no direct links: the planner routes nothing to or from it.
  const silent = new Set(profiles.filter((p) => clients.get(p.id)?.info.mesh === 0).map((p) => p.id));
  return profiles.map((p) => {
    const info = clients.get(p.id)?.info;
    const withMemory = info ? { ...p, budget: info.budget + info.overhead, reservedBytes: info.overhead } : p;
    if (!p.peers) return withMemory;
    const { peers, ...rest } = withMemory;
    const kept = silent.has(p.id) ? [] : Object.entries(peers!).filter(([id]) => !silent.has(id));
    return kept.length > 0 ? { ...rest, peers: Object.fromEntries(kept) } : rest;
  });
}

/** Whether two profile lists give the planner the same memory figures and direct links. */
export function samePlannerFigures(a: DeviceProfile[], b: DeviceProfile[]): boolean {
  const links = (p: DeviceProfile) => JSON.stringify(Object.keys(p.peers ?? {}).sort());
  return a.length === b.length && a.every((p, i) => p.budget === b[i].budget && p.reservedBytes === b[i].reservedBytes && links(p) === links(b[i]));
}
