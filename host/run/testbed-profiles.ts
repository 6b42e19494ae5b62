// The planner's view of a testbed's devices: the same speeds, link rates and
// energy figures the simulator enforces, as device profiles.
import { DeviceProfileSchema, type DeviceProfile } from '../plan/profiles.ts';
import type { DeviceSpec, Testbed } from '../sim/testbed.ts';

/** nJ -> J, without binary noise in the written profile. */
const nano = (nj = 0) => Number((nj * 1e-9).toPrecision(12));

export function profileOf(d: DeviceSpec): DeviceProfile {
  const { default: def, ...perKind } = d.speed;
  const macPerSec: Record<string, number> = { default: def };
  for (const [k, v] of Object.entries(perKind)) if (v !== undefined) macPerSec[k] = v;
  return DeviceProfileSchema.parse({
    id: d.id,
    // Devices named like esp32s3-a, esp32s3-b are of one kind (used to suggest "one more like X").
    kind: d.board ?? d.id.replace(/-[A-Za-z0-9]+$/, ''),
    budget: d.memory,
    macPerSec,
    link: { bytesPerSec: d.link.rate, latencyS: d.link.latencyMs / 1000 },
    energy: {
      joulesPerMac: nano(d.energy?.nJPerMac),
      joulesPerByteSent: nano(d.energy?.nJPerByte),
      joulesPerByteReceived: nano(d.energy?.nJPerByte),
      idleWatts: (d.energy?.idleMw ?? 0) / 1000,
    },
  });
}

export function testbedProfiles(t: Testbed): DeviceProfile[] {
  return t.devices.map(profileOf);
}
