// The cost model's link latency and per-RUN overhead from what was measured:
// a RUN costs at least one request/response round trip through everything
// between the gateway and the agent (drivers, serial ports, processes), which
// a datasheet latency misses; the fastest of a few PINGs gives that round
// trip. An empty RUN (a 1x1 convolution of one byte) gives what a RUN costs
// beyond it: the agent's and the gateway's handling of the request and its
// RESULT. A link nothing paces (a QEMU board's UART: bytes move as fast as
// the board's receive interrupt and QEMU's character device let them, which
// depends on the board's clock and the host) also gets its measured byte rate.
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

/** Bytes per second of the link to the device: time a LOAD of `bytes` (at most half its budget) the device discards at the end. */
export async function linkRate(client: DeviceClient, bytes: number): Promise<number> {
  const blob = new Uint8Array(Math.max(64, Math.min(bytes, Math.floor(client.info.budget / 2))));
  const t0 = performance.now();
  // An all-zero digest never matches: the device receives everything, then refuses to commit.
  await client.load(0x7fffffff, blob, { arena: 0, digest: new Uint8Array(32) }).catch((e: Error) => {
    if (!/BAD_FRAGMENT/.test(e.message)) throw e;
  });
  return blob.length / ((performance.now() - t0) / 1000);
}

/** Bytes each unpaced link's rate is timed with. */
const RATE_PROBE_BYTES = 16 * 1024;

/**
 * The profiles with measured link latency and per-RUN overhead; the devices
 * named in `unpaced` also get their measured byte rate, when lower than stated.
 */
export async function measuredProfiles(profiles: DeviceProfile[], clients: Map<string, DeviceClient>, pings = 5, unpaced: ReadonlySet<string> = new Set()): Promise<DeviceProfile[]> {
  return Promise.all(
    profiles.map(async (p) => {
      const client = clients.get(p.id);
      if (!client) return p;
      const bytesPerSec = unpaced.has(p.id) ? Math.min(p.link.bytesPerSec, await linkRate(client, RATE_PROBE_BYTES)) : p.link.bytesPerSec;
      const latencyS = Math.max(p.link.latencyS, (await pingMs(client, pings)) / 2000);
      const wireS = (2 * probeFragment.inputs[0].bytes) / bytesPerSec;
      const runOverheadS = Math.max(p.runOverheadS, (await emptyRunMs(client, pings)) / 1000 - 2 * latencyS - wireS);
      return { ...p, runOverheadS, link: { ...p.link, latencyS, bytesPerSec } };
    }),
  );
}
