// The cost model's link latency and per-RUN overhead from what was measured:
// a RUN costs at least one request/response round trip through everything
// between the gateway and the agent (drivers, serial ports, processes), which
// a datasheet latency misses; the fastest of a few PINGs gives that round
// trip. An empty RUN (a 1x1 convolution of one byte) gives what a RUN costs
// beyond it: the agent's and the gateway's handling of the request and its
// RESULT; on links fast enough, a RUN of 2 KiB tiles each way, what its
// chunks and their acknowledgements add (the larger of the two, less the
// gateway's CPU time per RUN, is the per-RUN overhead; that CPU time is the
// profile's gatewayS). A QEMU board's link also gets its measured byte rate
// when lower than stated, from RUNs of a 4 KiB tile (a timed LOAD moved
// bytes several times slower than RUNs did, and varied more): its UART is
// paced to the stated rate, but the board takes bytes no faster than its
// receive interrupt (instructions at its clock) and QEMU's character device
// (one byte per main-loop turn, host-dependent) let it, and the chunks'
// framing and acknowledgements take their share of the line.
import type { DeviceClient } from '../link/client.ts';
import { fragmentWork, timing } from '../plan/cost.ts';
import { buildModel } from '../plan/synthetic.ts';
import type { DeviceProfile } from '../plan/profiles.ts';
import { buildFragment, wholeOpFragment, type BuiltFragment } from './fragment-build.ts';

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

/**
 * `n` RUNs of `f` (LOADed first, UNLOADed after): the fastest, ms, and the
 * least gateway CPU time one took, s (the first RUNs also pay for compiling
 * the code).
 */
async function probeRuns(client: DeviceClient, f: BuiltFragment, n: number): Promise<{ ms: number; cpuS: number }> {
  await client.load(PROBE_FRAGMENT, f.blob, { arena: f.arena, digest: f.digest });
  let ms = Infinity;
  let cpuS = Infinity;
  try {
    for (let i = 0; i < n; i++) {
      const cpu = process.cpuUsage();
      const r = await client.run(PROBE_FRAGMENT, new Uint8Array(f.inputs[0].bytes));
      const used = process.cpuUsage(cpu);
      ms = Math.min(ms, r.elapsedMs);
      cpuS = Math.min(cpuS, (used.user + used.system) / 1e6);
    }
  } finally {
    await client.unload(PROBE_FRAGMENT);
  }
  return { ms, cpuS };
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

/**
 * A 1x1 convolution of 32x32x4 (4 KiB in, 4 KiB out, 16,384 MACs): what a
 * RUN's tiles cost on a board's link, timed the way the executor moves them.
 */
const rateProbe = buildModel({ name: 'rate-probe', seed: 2, input: [32, 32, 4], layers: [{ kind: 'conv', out: 4, k: 1 }] });
const rateFragment = buildFragment(rateProbe, wholeOpFragment(rateProbe, 0, 'rate-probe'));
const RATE_PROBE_MACS = 32 * 32 * 4 * 4;

/**
 * Bytes per second a RUN's tiles move at: the fastest RUN of the rate probe,
 * less the empty RUN's time and the probe's compute at the profile's conv
 * rate, over the bytes it carried both ways.
 */
async function runLinkRate(p: DeviceProfile, client: DeviceClient, emptyMs: number, n: number): Promise<number> {
  const wireBytes = rateFragment.inputs[0].bytes + rateFragment.output.bytes;
  const computeMs = (RATE_PROBE_MACS / (p.macPerSec.CONV_2D ?? p.macPerSec.default)) * 1000;
  const ms = (await probeRuns(client, rateFragment, n)).ms - emptyMs - computeMs;
  return ms > 0 ? (wireBytes * 1000) / ms : p.link.bytesPerSec;
}

/**
 * A 1x1 convolution of 32x16x4 (2 KiB in, 2 KiB out, 8,192 MACs): a RUN with
 * tiles of the size fragments of a split usually move, sent in two chunks
 * (no wait for the receive window). What it takes beyond the model's figures
 * for it is the RUN's overhead: the frames, chunks and acknowledgements the
 * empty RUN does not have.
 */
const tileProbe = buildModel({ name: 'tile-probe', seed: 3, input: [32, 16, 4], layers: [{ kind: 'conv', out: 4, k: 1 }] });
const tileFragment = buildFragment(tileProbe, wholeOpFragment(tileProbe, 0, 'tile-probe'));

/** The tile probe's work as the cost model prices it. */
const tileWork = fragmentWork(tileProbe, wholeOpFragment(tileProbe, 0, 'tile-probe').ops);

/** PINGs and empty RUNs per device when a testbed's links are measured (the RUNs count as the device's runs). */
export const PROBES = 5;

/**
 * Each device's profile with its measured latency, per-RUN overhead and the
 * gateway's time per RUN (and a board's byte rate). Devices are probed one
 * at a time, so that each figure is that device's alone: RUNs sent together
 * queue for the gateway in the schedule (gatewayS), and probes run in
 * parallel measured that queue (and each other's processes) instead.
 */
export async function measuredProfiles(profiles: DeviceProfile[], clients: Map<string, DeviceClient>, pings = PROBES, rateMeasured: ReadonlySet<string> = new Set()): Promise<DeviceProfile[]> {
  const out: DeviceProfile[] = [];
  for (const p of profiles) {
    const client = clients.get(p.id);
    out.push(client ? await measuredProfile(p, client, pings, rateMeasured.has(p.id)) : p);
  }
  return out;
}

/** The tile probe runs where its tiles take less line time than this: on slower links the overhead it finds is lost in the transfer. */
const TILE_PROBE_MAX_S = 0.02;

async function measuredProfile(p: DeviceProfile, client: DeviceClient, pings: number, rateMeasured: boolean): Promise<DeviceProfile> {
  const pingS = (await pingMs(client, pings)) / 1000;
  const empty = await probeRuns(client, probeFragment, pings);
  const bytesPerSec = rateMeasured ? Math.min(p.link.bytesPerSec, await runLinkRate(p, client, empty.ms, pings)) : p.link.bytesPerSec;
  const wireS = (2 * probeFragment.inputs[0].bytes) / bytesPerSec;
  // PINGs and empty RUNs are timed at different moments of a shared
  // machine: a round trip is at most what the fastest empty RUN took, or
  // the model would charge every RUN more than an empty one costs.
  const latencyS = Math.max(p.link.latencyS, Math.min(pingS, empty.ms / 1000 - wireS) / 2);
  const link = { ...p.link, latencyS, bytesPerSec };
  let overS = empty.ms / 1000 - 2 * latencyS - wireS;
  let cpuS = empty.cpuS;
  if ((tileWork.inBytes + tileWork.outBytes) / bytesPerSec < TILE_PROBE_MAX_S) {
    const tile = await probeRuns(client, tileFragment, pings);
    const t = timing({ ...p, runOverheadS: 0, link }, tileWork);
    overS = Math.max(overS, tile.ms / 1000 - t.sendS - t.computeS - t.returnS);
    cpuS = tile.cpuS;
  }
  const gatewayS = Math.max(p.gatewayS, cpuS);
  return { ...p, gatewayS, runOverheadS: Math.max(p.runOverheadS, overS - gatewayS), link };
}
