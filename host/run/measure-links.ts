// The cost model's link latency from what was measured: a RUN costs at least
// one request/response round trip through everything between the gateway and
// the agent (drivers, serial ports, processes), which a datasheet latency
// misses. The fastest of a few PINGs gives that round trip.
import type { DeviceClient } from '../link/client.ts';
import type { DeviceProfile } from '../plan/profiles.ts';

export async function measuredProfiles(profiles: DeviceProfile[], clients: Map<string, DeviceClient>, pings = 5): Promise<DeviceProfile[]> {
  return Promise.all(
    profiles.map(async (p) => {
      const client = clients.get(p.id);
      if (!client) return p;
      let rttMs = Infinity;
      for (let i = 0; i < pings; i++) rttMs = Math.min(rttMs, (await client.ping()).rttMs);
      return { ...p, link: { ...p.link, latencyS: Math.max(p.link.latencyS, rttMs / 2000) } };
    }),
  );
}
