// The cost model's link latency and per-RUN overhead from what was measured:
// a RUN costs at least one request/response round trip through everything
// between the gateway and the agent (drivers, serial ports, processes), which
// a datasheet latency misses; the fastest of a few PINGs gives that round
// trip. An empty RUN (a 1x1 convolution of one byte) gives what a RUN costs
// beyond it: the agent's and the gateway's handling of the request and its
// RESULT.
import type { DeviceClient } from '../link/client.ts';
import { buildModel } from '../plan/synthetic.ts';
import type { DeviceProfile } from '../plan/profiles.ts';
import { buildFragment, wholeOpFragment } from './fragment-build.ts';

/** The fragment id the probe RUN is loaded under (freed after it). */
const PROBE_FRAGMENT = 0x7e58;

const probe = buildModel({ name: 'probe', seed: 1, input: [1, 1, 1], layers: [{ kind: 'conv', out: 1, k: 1 }] });
const probeFragment = buildFragment(probe, wholeOpFragment(probe, 0, 'probe'));

/** Fastest round trip of `n` PINGs, ms. */
async function pingMs(client: DeviceClient, n: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) best = Math.min(best, (await client.ping()).rttMs);
  return best;
}

/** Fastest of `n` RUNs of a one-byte fragment, ms (LOADed first, UNLOADed after). */
async function emptyRunMs(client: DeviceClient, n: number): Promise<number> {
  const f = probeFragment;
  await client.load(PROBE_FRAGMENT, f.blob, { arena: f.arena, digest: f.digest });
  let best = Infinity;
  try {
    for (let i = 0; i < n; i++) best = Math.min(best, (await client.run(PROBE_FRAGMENT, new Uint8Array(f.inputs[0].bytes))).elapsedMs);
  } finally {
    await client.unload(PROBE_FRAGMENT);
  }
  return best;
}

export async function measuredProfiles(profiles: DeviceProfile[], clients: Map<string, DeviceClient>, pings = 5): Promise<DeviceProfile[]> {
  return Promise.all(
    profiles.map(async (p) => {
      const client = clients.get(p.id);
      if (!client) return p;
      const latencyS = Math.max(p.link.latencyS, (await pingMs(client, pings)) / 2000);
      const wireS = (2 * probeFragment.inputs[0].bytes) / p.link.bytesPerSec;
      const runOverheadS = Math.max(p.runOverheadS, (await emptyRunMs(client, pings)) / 1000 - 2 * latencyS - wireS);
      return { ...p, runOverheadS, link: { ...p.link, latencyS } };
    }),
  );
}
