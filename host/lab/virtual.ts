// The virtual-time simulator: a testbed's devices in this process, each the
// real agent.wasm inside the same SimDevice the real-time simulator runs,
// joined to its DeviceClient by an in-memory link instead of a PTY or TCP.
// Every clock the gateway, the link layer and the devices read
// (setTimeout, setImmediate, performance.now, node:timers/promises) is
// replaced by a virtual one
// (@sinonjs/fake-timers) that jumps to the next pending timer as soon as
// nothing else is left to run. So line pacing, compute delays, timeouts and
// retransmissions all happen as they would in real time, without sleeping,
// and a run's times depend only on its inputs: identical on every machine.
import FakeTimers from '@sinonjs/fake-timers';
import { syncBuiltinESMExports } from 'node:module';
import timersPromises from 'node:timers/promises';
import { DeviceClient } from '../link/client.ts';
import { mockPair, type MockPair } from '../link/mock.ts';
import type { OpenTestbed } from '../run/session.ts';
import { testbedProfiles } from '../run/testbed-profiles.ts';
import { SimDevice } from '../sim/device.ts';
import { timerWake } from '../sim/line.ts';
import { deviceAgent } from '../sim/device-process.ts';
import type { Testbed } from '../sim/testbed.ts';

const realSetImmediate = setImmediate;

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: signal.reason });
}

/** node:timers/promises' setTimeout on the global (virtual) timers: same value, abort and error. */
function globalSleep<T>(ms = 1, value?: T, opts: { signal?: AbortSignal } = {}): Promise<T> {
  const { signal } = opts;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(value as T);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Puts node:timers/promises' setTimeout on the global timers while `fn`
 * runs (the executor's watchdogs sleep with it; fake-timers leaves it
 * alone), then restores it. ESM imports of a builtin follow its module
 * object only after syncBuiltinESMExports.
 */
function withGlobalSleep(): () => void {
  const original = timersPromises.setTimeout;
  (timersPromises as { setTimeout: unknown }).setTimeout = globalSleep;
  syncBuiltinESMExports();
  return () => {
    (timersPromises as { setTimeout: unknown }).setTimeout = original;
    syncBuiltinESMExports();
  };
}

/** Native turns of the event loop with no virtual timer pending before a run is declared stuck. */
const STUCK_TURNS = 1000;

/** Virtual clock ticks per millisecond: fake-timers counts whole ticks, and links pace bytes in fractions of a millisecond. */
const TICKS_PER_MS = 1000;

/** A delay in ms as Node's timers take it (under 1, or not a number: 1 ms), in ticks. */
function delayTicks(ms: unknown): number {
  const n = Number(ms);
  return Math.round((n >= 1 ? n : 1) * TICKS_PER_MS);
}

/**
 * Puts the fake clock's timers and performance.now on microsecond ticks
 * while keeping their millisecond interface: without this every delay is
 * truncated to whole milliseconds and a paced link loses the fractions of
 * every piece it sends. Returns what restores the fake (millisecond) ones.
 */
function withMicrosecondTicks(clock: ReturnType<typeof FakeTimers.install>): () => void {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = { setTimeout: g.setTimeout, setInterval: g.setInterval, now: performance.now };
  g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => clock.setTimeout(fn, delayTicks(ms), ...args);
  g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => clock.setInterval(fn, delayTicks(ms), ...args);
  performance.now = () => clock.now / TICKS_PER_MS;
  return () => {
    g.setTimeout = saved.setTimeout;
    g.setInterval = saved.setInterval;
    performance.now = saved.now;
  };
}

/**
 * Runs `fn` on a virtual clock starting at 0 ms and returns its result with
 * the virtual time it ended at. Only one virtual run at a time per process:
 * the clock replaces the globals. `fn` must not wait on real I/O.
 */
export async function withVirtualClock<T>(fn: () => Promise<T>): Promise<{ value: T; virtualMs: number }> {
  const clock = FakeTimers.withGlobal(globalThis).install({
    now: 0,
    toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'performance'],
    loopLimit: 1e9,
  });
  const restoreTicks = withMicrosecondTicks(clock);
  const restoreSleep = withGlobalSleep();
  try {
    let settled = false;
    const run = fn().finally(() => (settled = true));
    run.catch(() => undefined); // awaited below
    let idle = 0;
    while (!settled) {
      if (clock.countTimers() > 0) {
        await clock.nextAsync();
        idle = 0;
      } else {
        // Nothing scheduled: let pending promise chains run, then look again.
        await new Promise((r) => realSetImmediate(r));
        if (++idle > STUCK_TURNS) throw new Error('virtual clock: nothing is scheduled but the run has not finished (it waits on something outside the simulation)');
      }
    }
    const value = await run;
    return { value, virtualMs: clock.now / TICKS_PER_MS };
  } finally {
    restoreSleep();
    restoreTicks();
    clock.uninstall();
  }
}

/** A testbed's devices running in this process; call inside withVirtualClock. */
export interface VirtualTestbed extends Pick<OpenTestbed, 'profiles' | 'clients' | 'close'> {
  devices: Map<string, SimDevice>;
}

/**
 * Starts every device of `tb` in this process and connects a client to
 * each, as openTestbed does for real-time devices. A crash fault stops the
 * device; over TCP it also breaks the link (a serial adapter stays). QEMU
 * boards are refused: they only run in real time.
 */
export async function openVirtualTestbed(tb: Testbed): Promise<VirtualTestbed> {
  const boards = tb.devices.filter((d) => d.board);
  if (boards.length) throw new Error(`virtual time runs simulated devices only; ${boards.map((d) => d.id).join(', ')} name a QEMU board`);
  const devices = new Map<string, SimDevice>();
  const links: MockPair[] = [];
  const clients = new Map<string, DeviceClient>();
  const clockUs = () => BigInt(Math.round(performance.now() * 1000));
  for (const spec of tb.devices) {
    const link = mockPair();
    links.push(link);
    const device = new SimDevice({
      spec,
      seed: tb.seed,
      createAgent: (write) => deviceAgent(spec, write, clockUs),
      wake: timerWake,
      onCrash: () => {
        if (spec.link.kind === 'tcp') link.disconnect();
      },
    });
    devices.set(spec.id, device);
    void device.serve(link.b);
  }
  const close = async () => {
    await Promise.allSettled([...clients.values()].map((c) => c.close()));
    for (const d of devices.values()) d.stop();
    for (const l of links) l.disconnect();
  };
  try {
    await Promise.all(
      tb.devices.map(async (spec, i) => {
        clients.set(spec.id, await DeviceClient.connect(links[i].a, { name: spec.id, linkBytesPerSec: spec.link.rate }));
      }),
    );
  } catch (e) {
    await close();
    throw e;
  }
  return {
    profiles: testbedProfiles(tb),
    clients,
    devices,
    close,
  };
}
