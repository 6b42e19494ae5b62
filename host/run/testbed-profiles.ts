// The planner's view of a testbed's devices: the same speeds, link rates and
// energy figures the simulator enforces, as device profiles.
import { DeviceProfileSchema, type DeviceProfile } from '../plan/profiles.ts';
import type { DeviceSpec, Testbed } from '../sim/testbed.ts';

export function profileOf(d: DeviceSpec): DeviceProfile {
  const { default: def, ...perKind } = d.speed;
  const macPerSec: Record<string, number> = { default: def };
  for (const [k, v] of Object.entries(perKind)) if (v !== undefined) macPerSec[k] = v;
  return DeviceProfileSchema.parse({
    id: d.id,
    kind: d.board ?? `${d.memory}B@${def}`,
    budget: d.memory,
    macPerSec,
    link: { bytesPerSec: d.link.rate, latencyS: d.link.latencyMs / 1000 },
    energy: {
      joulesPerMac: (d.energy?.nJPerMac ?? 0) * 1e-9,
      joulesPerByteSent: (d.energy?.nJPerByte ?? 0) * 1e-9,
      joulesPerByteReceived: (d.energy?.nJPerByte ?? 0) * 1e-9,
      idleWatts: (d.energy?.idleMw ?? 0) / 1000,
    },
  });
}

export function testbedProfiles(t: Testbed): DeviceProfile[] {
  return t.devices.map(profileOf);
}
