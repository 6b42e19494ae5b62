// DeviceClient against the real agent (build/agent.wasm through agent-host)
// inside a simulated device, in this process over the in-memory link: the
// handshake, LOAD/RUN chunking and go-back-N under dropped and corrupted
// frames, device errors, keys, cancellation, and a device of another version.
import * as fcheck from 'fast-check';
import { describe, expect, test as base } from 'vitest';
import { DeviceClient, DeviceError, type ClientOptions } from '../host/link/client.ts';
import { encodeFrame, FrameDecoder } from '../host/link/frame.ts';
import { decodeReply, decodeRequest, encodeReply, PROTOCOL_VERSION, type Reply } from '../host/link/messages.ts';
import { mockPair, type MockPair } from '../host/link/mock.ts';
import { chunks, mapReads, type Transport } from '../host/link/transport.ts';
import { FrameSplitter } from '../host/sim/splitter.ts';
import { KERNEL_ABI_HASH } from '../host/abi/kernel-abi.ts';
import { AgentHost, agentOverhead } from '../host/sim/agent-host.ts';
import { deviceKey } from '../host/sim/device-process.ts';
import { SimDevice } from '../host/sim/device.ts';
import { parseTestbed, type DeviceSpec } from '../host/sim/testbed.ts';
import { oneOpFragment, transferFragment } from './fixtures/link-fragments.ts';
import { convModel, fullyConnectedModel, randomInputs } from './fixtures/small-models.ts';

type SpecPatch = Partial<Omit<DeviceSpec, 'link' | 'faults'>> & { faults?: object; link?: object };

function spec(patch: SpecPatch = {}): DeviceSpec {
  const base = { id: 'dev', memory: 48 * 1024, speed: { default: 1e12 }, link: { kind: 'pty', rate: 1e9 }, receiveWindow: 1024 };
  return parseTestbed({ devices: [{ ...base, ...patch }] }).devices[0];
}

interface Simulated {
  /** The device: the real agent behind the simulator's link model. */
  sim: SimDevice;
  spec: DeviceSpec;
  /** The device's mock link: the gateway uses `a`. */
  link: MockPair;
  /** Resolves with the reason when a crash fault fires. */
  crashed: Promise<string>;
}

interface Fixtures {
  /** Starts a simulated device on the far end of a fresh mock link; stopped after the test. */
  simulate: (patch?: SpecPatch) => Simulated;
  /** A simulated device with a DeviceClient connected to it; both closed after the test. */
  device: (patch?: SpecPatch, opts?: ClientOptions) => Promise<Simulated & { client: DeviceClient }>;
}

const test = base.extend<Fixtures>({
  simulate: async ({}, use) => {
    const started: Simulated[] = [];
    await use((patch = {}) => {
      const s = spec(patch);
      const link = mockPair();
      let onCrash!: (reason: string) => void;
      const crashed = new Promise<string>((r) => (onCrash = r));
      const sim = new SimDevice({
        spec: s,
        seed: 7,
        onCrash,
        createAgent: (write) =>
          new AgentHost({ memory: s.memory, window: s.receiveWindow!, write, ...deviceKey(s) }),
      });
      void sim.serve(link.b);
      const d = { sim, spec: s, link, crashed };
      started.push(d);
      return d;
    });
    for (const d of started) {
      d.sim.stop();
      await d.link.b.close();
    }
  },
  device: async ({ simulate }, use) => {
    const clients: DeviceClient[] = [];
    await use(async (patch = {}, opts = {}) => {
      const d = simulate(patch);
      const client = await DeviceClient.connect(d.link.a, { name: d.spec.id, ackTimeoutMs: 200, requestTimeoutMs: 200, resultTimeoutMs: 2000, ...opts });
      clients.push(client);
      return { ...d, client };
    });
    for (const c of clients) await c.close();
  },
});

const conv = convModel({
  kind: 'CONV_2D',
  inShape: [1, 12, 12, 8],
  kernel: [3, 3],
  channels: 16,
  stride: [1, 1],
  dilation: [1, 1],
  padding: 'SAME',
  activation: 'RELU6',
});
const convInput = randomInputs(conv)[0];
// Rows 3..9, channels 4..12 of the output: a tile with a halo and a weight slice.
const convFrag = oneOpFragment(conv, 0, convInput, { start: [0, 3, 0, 4], end: [1, 9, 12, 12] });

const fc = fullyConnectedModel({ inShape: [2, 300], units: 40, activation: 'NONE', keepNumDims: false, perChannel: true });
const fcFrag = oneOpFragment(fc, 0, randomInputs(fc)[0], { start: [0, 10], end: [2, 30] });

describe('DeviceClient with a simulated device in-process', () => {
  test('connects with HELLO and reports the capabilities', async ({ device }) => {
    const { client, spec: s } = await device();
    expect(client.info).toMatchObject({ version: PROTOCOL_VERSION, budget: s.memory - agentOverhead(1024), overhead: agentOverhead(1024), engine: 'node', window: 1024, keyed: 0, fragments: [] });
    expect((await client.ping()).rttMs).toBeGreaterThanOrEqual(0);
  });

  test('checks the kernel ABI when asked: the agent matches this gateway, another hash is refused', async ({ device }) => {
    const { client } = await device({}, { expectAbi: KERNEL_ABI_HASH });
    expect(client.info.abi).toBe(KERNEL_ABI_HASH);
    await expect(device({}, { expectAbi: 0x1234 })).rejects.toThrow(
      `dev: device kernel ABI hash 0x${KERNEL_ABI_HASH.toString(16)} differs from this gateway's 0x1234`,
    );
  });

  test.for([
    ['conv rows 3..9 x channels 4..12', convFrag],
    ['FC units 10..30 of 2 batches', fcFrag],
  ] as const)('LOAD in window-sized chunks, RUN, and get the oracle bytes: %s', async ([, frag], { device }) => {
    const { client, spec: s } = await device();
    const progress: number[] = [];
    await client.load(5, frag.blob, { arena: frag.arena, digest: frag.digest, onProgress: (p) => progress.push(p.sent) });
    expect(progress.at(-1)).toBe(frag.blob.length);
    expect(progress.length).toBeGreaterThan(frag.blob.length / 1024);
    const r = await client.run(5, frag.input);
    expect(r.output).toEqual(frag.expected);
    expect(r.highWater).toBeGreaterThanOrEqual(frag.blob.length + frag.arena);
    expect(r.highWater).toBeLessThanOrEqual(client.info.budget);
    expect((await client.hello()).fragments).toEqual([5]);
  });

  test('stays bit-exact over 20 RUNs when 10% of frames each way are dropped and 10% corrupted', async ({ device }) => {
    const { client, sim } = await device({ faults: { dropP: 0.1, corruptP: 0.1 } }, { retries: 30 });
    await client.load(1, convFrag.blob, { arena: convFrag.arena, digest: convFrag.digest });
    for (let i = 0; i < 20; i++) expect((await client.run(1, convFrag.input)).output).toEqual(convFrag.expected);
    const { in: toAgent, out: toGateway } = sim.faultCounts;
    expect(Math.min(toAgent.dropped, toAgent.corrupted, toGateway.dropped, toGateway.corrupted)).toBeGreaterThan(0);
    expect(client.stats.retransmits).toBeGreaterThan(0);
    expect(client.stats.badFrames).toBeGreaterThan(0);
    // Resent frames are counted apart, as part of what went out: each is at least a frame's minimum size.
    expect(client.stats.bytesRetransmitted).toBeGreaterThanOrEqual(client.stats.retransmits * 8);
    expect(client.stats.bytesRetransmitted).toBeLessThan(client.stats.bytesOut);
  });

  test('refuses an over-budget LOAD with the bytes asked and free', async ({ device }) => {
    const { client } = await device({ memory: agentOverhead(1024) + 1024 });
    const err = await client.load(2, convFrag.blob, { arena: convFrag.arena, digest: convFrag.digest }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).code).toBe('NO_MEMORY');
    expect((err as Error).message).toBe(
      `dev: LOAD fragment 2: NO_MEMORY: LOAD fragment 2 needs ${convFrag.blob.length + convFrag.arena} bytes, 1024 free (budget 1024)`,
    );
  });

  test('names the device and fragment when a RUN targets nothing loaded', async ({ device }) => {
    const { client } = await device();
    await expect(client.run(77, new Uint8Array(10))).rejects.toThrow(/^dev: RUN fragment 77: NO_FRAGMENT: /);
  });

  test('fails the handshake with a device hung from the start', async ({ device }) => {
    await expect(device({ faults: { hangAtMs: 0 } }, { connectTimeoutMs: 300 })).rejects.toThrow('dev: no HELLO reply within 300 ms');
  });

  test('gives up a LOAD when its time budget is spent and the device stops answering', async ({ device }) => {
    const { client } = await device({ faults: { hangAtMs: 200 } }, { minTransferMs: 300, ackTimeoutMs: 50, linkBytesPerSec: 1e6 });
    await new Promise((r) => setTimeout(r, 250));
    await expect(client.load(1, convFrag.blob, { arena: convFrag.arena, digest: convFrag.digest })).rejects.toThrow(
      /^dev: LOAD fragment 1: not acknowledged within its budget of 0\.3 s \(\d+ bytes at 1000000 bytes\/s; device has 0 of \d+ bytes\)$/,
    );
    // The timer backed off instead of resending every 50 ms.
    expect(client.stats.timeouts).toBeLessThanOrEqual(3);
  });

  test('cancels a RUN through an AbortSignal', async ({ device }) => {
    // Slow compute (1000 MAC/s) keeps the RESULT back long enough to abort.
    const { client } = await device({ speed: { default: 1000 } });
    await client.load(3, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    const ac = new AbortController();
    const run = client.run(3, fcFrag.input, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(run).rejects.toMatchObject({ code: 'CANCELED' });
  });

  test('a RUN queued behind another settles at its own deadline or abort, and is never sent', async ({ device }) => {
    const { client } = await device({ speed: { default: 1000 } });
    await client.load(3, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    let inputSent!: () => void;
    const sent = new Promise<void>((r) => (inputSent = r));
    // 12000 MACs at 1000 MAC/s: the first RUN's RESULT is held for 12 s.
    const first = client.run(3, fcFrag.input, { onProgress: (p) => p.sent === p.total && inputSent() });
    let firstSettled = false;
    const firstOutcome = first.then(
      () => (firstSettled = true),
      (e: Error) => ((firstSettled = true), e.message),
    );
    await sent;
    const framesBefore = client.stats.framesOut;
    await expect(client.run(3, fcFrag.input, { timeoutMs: 50 })).rejects.toThrow('dev: RUN fragment 3: no RESULT within 50 ms');
    const ac = new AbortController();
    const aborted = client.run(3, fcFrag.input, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'CANCELED' });
    expect(client.stats.framesOut).toBe(framesBefore);
    expect(firstSettled).toBe(false);
    await client.close();
    expect(await firstOutcome).toBe('dev: connection closed');
  });

  test('times out a RUN at its deadline', async ({ device }) => {
    const { client } = await device({ speed: { default: 1000 } });
    await client.load(3, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    await expect(client.run(3, fcFrag.input, { timeoutMs: 100 })).rejects.toThrow('dev: RUN fragment 3: no RESULT within 100 ms');
  });
});

/**
 * The gateway's view of `t` with the first `count` device replies matching
 * `drop` removed, as if their frames were lost on the wire.
 */
function losing(t: Transport, drop: (r: Reply) => boolean, count = 1): Transport {
  const split = new FrameSplitter(1 << 20);
  const decoder = new FrameDecoder({ maxPayload: 1 << 20 });
  let left = count;
  return mapReads(t, (chunk) => {
    const kept = split.push(chunk).filter((frame) => {
      const [payload] = decoder.push(frame);
      if (left > 0 && payload && drop(decodeReply(payload))) {
        left--;
        return false;
      }
      return true;
    });
    return Buffer.concat(kept);
  });
}

describe('transfers of any size through any window, over a lossy link', () => {
  // Each case: a fresh device with this window and fault rate; a tensor of
  // this size goes out as a RUN input in chunks; the answer must be exact.
  test('property: RUN results equal the oracle for random windows, sizes and loss', async ({ simulate }) => {
    await fcheck.assert(
      fcheck.asyncProperty(
        fcheck.constantFrom(128, 256, 1024, 4096),
        fcheck.integer({ min: 1, max: 200 }).map((k) => k * 16),
        fcheck.constantFrom(0, 0.02, 0.05),
        fcheck.integer({ min: 1, max: 1000 }),
        async (window, bytes, p, seed) => {
          const frag = transferFragment(bytes, seed);
          const d = simulate({ receiveWindow: window, memory: 64 * 1024, faults: { dropP: p, corruptP: p } });
          const client = await DeviceClient.connect(d.link.a, { name: 'prop', helloIntervalMs: 50, ackTimeoutMs: 100, resultTimeoutMs: 300, requestTimeoutMs: 100, retries: 40 });
          try {
            await client.load(1, frag.blob, { arena: frag.arena, digest: frag.digest });
            expect((await client.run(1, frag.input)).output).toEqual(frag.expected);
          } finally {
            await client.close();
          }
        },
      ),
      { numRuns: 15, seed: 20261123 },
    );
  });
});

describe('a run several senders fill (docs/protocol.md section 3), over a lossy link', () => {
  // The gateway's own ranges go out as one stream, each chunk counted from its
  // range's start; ranges it expects other devices to forward never come here,
  // so after the wait it sends them too. The answer must be exact.
  test('property: RUN results equal the oracle for random windows, sizes, loss and forwarded ranges', async ({ simulate }) => {
    await fcheck.assert(
      fcheck.asyncProperty(
        fcheck.constantFrom(256, 1024, 4096),
        fcheck.integer({ min: 4, max: 200 }).map((k) => k * 16),
        fcheck.constantFrom(0, 0.05),
        fcheck.array(fcheck.double({ min: 0, max: 1, noNaN: true }), { minLength: 0, maxLength: 6 }),
        fcheck.integer({ min: 1, max: 1000 }),
        async (window, bytes, p, cuts, seed) => {
          const frag = transferFragment(bytes, seed);
          // Every other piece between sorted cut points is "forwarded" by some other device.
          const points = [...new Set(cuts.map((c) => Math.floor(c * bytes)))].sort((a, b) => a - b);
          const edges = [0, ...points, bytes];
          const forwarded = edges.slice(0, -1).flatMap((s, i) => (i % 2 === 1 && edges[i + 1] > s ? [{ offset: s, bytes: edges[i + 1] - s }] : []));
          const d = simulate({ receiveWindow: window, memory: 64 * 1024, faults: { dropP: p, corruptP: p } });
          const client = await DeviceClient.connect(d.link.a, { name: 'prop', helloIntervalMs: 50, ackTimeoutMs: 100, resultTimeoutMs: 300, requestTimeoutMs: 100, retries: 40 });
          try {
            await client.load(1, frag.blob, { arena: frag.arena, digest: frag.digest });
            const r = await client.run(1, frag.input, { mesh: { run: seed, forwarded, waitMs: 20 } });
            expect(r.output).toEqual(frag.expected);
          } finally {
            await client.close();
          }
        },
      ),
      { numRuns: 15, seed: 20261208 },
    );
  });
});

describe('a round trip longer than the acknowledgement timer', () => {
  // The cause of a LOAD given up at 7,852 of 21,568 bytes under CPU
  // starvation. The round trip grew past the timer, and the timer could not
  // follow: an ACK arriving after its chunk's timer fired answered a chunk
  // the go-back had superseded, or a resent one, and neither was taken as a
  // sample; the timeout did not back off. Every expiry resent the window,
  // lengthening the queue on a slow line. And a late copy of the first chunk
  // makes the device start the transfer over: the gateway kept sending from
  // its own count, which the device refused for good, until 8 timeouts
  // without progress gave the transfer up ("device has" the gateway's count,
  // not the device's). Here the round trip is 2 s against a 200 ms timer,
  // and the copies of the first chunk reach the device after the originals.
  test('the timer backs off, learns the round trip from the late ACKs, follows the device when it starts over, and the LOAD completes', async ({ simulate }) => {
    const { link } = simulate({ link: { kind: 'pty', rate: 1e6, latencyMs: 1000 }, receiveWindow: 8192 });
    const client = await DeviceClient.connect(link.a, { name: 'dev', ackTimeoutMs: 200, requestTimeoutMs: 5000, resultTimeoutMs: 10_000 });
    const big = oneOpFragment(fc, 0, randomInputs(fc)[0], { start: [0, 0], end: [2, 40] });
    await client.load(1, big.blob, { arena: big.arena, digest: big.digest });
    // Expiries at 200, 600 and 1400 ms (200, 400, 800: backing off) before
    // the first ACK at about 2000 ms; then a timeout of about three round
    // trips. The bound leaves room for a loaded machine's own pauses.
    expect(client.stats.timeouts).toBeGreaterThanOrEqual(1);
    expect(client.stats.timeouts).toBeLessThanOrEqual(5);
    expect((await client.run(1, big.input)).output).toEqual(big.expected);
    await client.close();
  });
});

describe('recovery from lost replies', () => {
  test('a lost RESULT: the RUN is sent again and answered', async ({ simulate }) => {
    const { link } = simulate();
    const client = await DeviceClient.connect(losing(link.a, (r) => r.type === 'RESULT'), { name: 'dev', resultTimeoutMs: 200 });
    await client.load(1, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    const sentBefore = client.stats.framesOut;
    expect((await client.run(1, fcFrag.input)).output).toEqual(fcFrag.expected);
    // Two full transfers of the input went out.
    expect(client.stats.framesOut - sentBefore).toBeGreaterThanOrEqual(2 * Math.ceil(fcFrag.input.length / 500));
    await client.close();
  });

  test('a lost final ACK of a LOAD: the device has closed the transfer, the LOAD starts over and commits', async ({ simulate }) => {
    const { link } = simulate();
    const client = await DeviceClient.connect(losing(link.a, (r) => r.type === 'ACK' && r.done === 1), { name: 'dev', ackTimeoutMs: 100 });
    await client.load(1, convFrag.blob, { arena: convFrag.arena, digest: convFrag.digest });
    expect(client.stats.retransmits).toBeGreaterThan(0);
    expect((await client.hello()).fragments).toEqual([1]);
    expect((await client.run(1, convFrag.input)).output).toEqual(convFrag.expected);
    await client.close();
  });
});

describe('a device still computing when the RUN is resent', () => {
  test('answers BUSY to the resend; the first attempt\'s RESULT is taken', async () => {
    const { a, b } = mockPair();
    const hello = {
      version: 3, budget: 65536, engine: 'node', abi: 0, window: 1024, clockHz: 1e6,
      keyed: 0, authFailures: 0, counter: 0, badFrames: 0, used: 0, highWater: 0, fragments: [7], overhead: 0, mesh: 0, session: 0,
    };
    // A scripted device: acknowledges the first RUN, is still computing when
    // the gateway gives up waiting and resends, then delivers the RESULT.
    const device = (async () => {
      const dec = new FrameDecoder({ maxPayload: 4096 });
      let firstSeq: number | undefined;
      const reply = (m: Reply) => b.write(encodeFrame(encodeReply(m)));
      for await (const bytes of chunks(b)) {
        for (const p of dec.push(bytes)) {
          const req = decodeRequest(p);
          if (req.type === 'HELLO') await reply({ type: 'HELLO', seq: req.seq, ...hello });
          if (req.type !== 'RUN') continue;
          if (firstSeq === undefined) {
            firstSeq = req.seq;
            await reply({ type: 'ACK', seq: req.seq, frag: 7, next: req.data.length, done: 1 });
          } else {
            await reply({ type: 'ERROR', seq: req.seq, code: 11, text: 'RUN fragment 7 is computing' });
            setTimeout(() => void reply({ type: 'RESULT', seq: firstSeq!, frag: 7, data: Uint8Array.of(1, 2, 3), highWater: 10, computeUs: 5 }), 20);
          }
        }
      }
    })().catch(() => undefined);
    const client = await DeviceClient.connect(a, { name: 'slow', resultTimeoutMs: 100 });
    const r = await client.run(7, Uint8Array.of(9, 9));
    expect([...r.output]).toEqual([1, 2, 3]);
    await client.close();
    await device;
  });
});

describe('device state and link events', () => {
  test('PROFILE reports MAC/s for every op type', async ({ device }) => {
    const { client } = await device();
    const rates = await client.profile(4096);
    expect(Object.keys(rates).sort()).toEqual(['add', 'conv', 'depthwise', 'fc', 'pool', 'softmax']);
    expect(Object.values(rates).every((r) => r > 0)).toBe(true);
  });

  test('UNLOAD frees one fragment and RESET all of them', async ({ device }) => {
    const { client } = await device();
    await client.load(1, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    await client.load(2, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    expect((await client.hello()).fragments.sort()).toEqual([1, 2]);
    await client.unload(1);
    expect((await client.hello()).fragments).toEqual([2]);
    await client.reset();
    const after = await client.hello();
    expect(after.fragments).toEqual([]);
    expect(after.used).toBe(0);
  });

  test('emits disconnect and rejects the pending RUN when the link breaks', async ({ simulate }) => {
    const { link: pair } = simulate({ speed: { default: 1000 } });
    const client = await DeviceClient.connect(pair.a, { name: 'cable' });
    await client.load(1, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    const events: string[] = [];
    client.on('disconnect', (e) => events.push(e.message));
    const run = expect(client.run(1, fcFrag.input)).rejects.toMatchObject({ code: 'DISCONNECTED' });
    setTimeout(() => pair.disconnect(), 30);
    await run;
    expect(events).toEqual(['cable: link lost: mock://a: disconnected: link broken']);
    expect(client.isOpen).toBe(false);
    await expect(client.ping()).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });

  test('close() rejects what is pending with "connection closed"', async ({ device }) => {
    const { client } = await device({ speed: { default: 1000 } });
    await client.load(1, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    const run = expect(client.run(1, fcFrag.input)).rejects.toThrow('dev: connection closed');
    setTimeout(() => void client.close(), 30);
    await run;
  });
});

describe('simulated device faults and speed', () => {
  test("charges a RUN its MACs at the op kind's rate, times the slowdown factor once it applies", async ({ device }) => {
    // 2 batches x 20 units x 300 deep = 12000 MACs at 1.2 M MAC/s = 10 ms; x 3 after the slowdown.
    const { client, sim } = await device({ speed: { default: 1e9, FULLY_CONNECTED: 1.2e6 }, faults: { slowdown: { atMs: 0, factor: 3 } } });
    await client.load(6, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    expect(sim.computeMs(6)).toBeCloseTo(30, 6);
    expect(sim.computeMs(99)).toBe(0);
  });

  test('crashes at the stated time', async ({ simulate }) => {
    expect(await simulate({ faults: { crashAtMs: 20 } }).crashed).toBe('crash fault at 20 ms');
  });
});

describe('keyed devices', () => {
  const keyHex = '00112233445566778899aabbccddeeff';

  test('signs LOAD and RUN with the key and counter', async ({ device }) => {
    const { client } = await device({ keyHex }, { key: Buffer.from(keyHex, 'hex') });
    expect(client.info.keyed).toBe(1);
    await client.load(4, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    expect((await client.run(4, fcFrag.input)).output).toEqual(fcFrag.expected);
    expect((await client.hello()).authFailures).toBe(0);
  });

  test('refuses to send unsigned LOADs to a keyed device', async ({ device }) => {
    const { client } = await device({ keyHex });
    await expect(client.load(4, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest })).rejects.toThrow(
      'dev: LOAD fragment 4: the device is keyed and refuses unsigned LOAD; connect with its key',
    );
  });

  test('refuses a device that says it is not keyed when the gateway has a key', async ({ simulate }) => {
    const { link } = simulate({});
    await expect(DeviceClient.connect(link.a, { name: 'dev', key: Buffer.from(keyHex, 'hex') })).rejects.toThrow(
      'dev: the gateway has a key for this device, but the device says it is not keyed; provision it (microsplit provision) or connect without a key',
    );
  });

  test('refuses, at the handshake, a device holding another key: its HELLO tag does not verify', async ({ simulate }) => {
    const { link } = simulate({ keyHex });
    await expect(DeviceClient.connect(link.a, { name: 'dev', key: Buffer.from('ffeeddccbbaa99887766554433221100', 'hex') })).rejects.toMatchObject({
      code: 'FORGED',
    });
  });
});

describe('protocol version', () => {
  test('refuses an old agent, naming both versions', async () => {
    const { a, b } = mockPair();
    // An agent of protocol version 2 (no forwarded inputs): answers every HELLO with a version-2 frame.
    const fake = (async () => {
      const dec = new FrameDecoder({ maxPayload: 4096 });
      for await (const bytes of chunks(b)) {
        for (const p of dec.push(bytes)) {
          const req = decodeRequest(p);
          const reply = encodeReply({
            type: 'HELLO', seq: req.seq, version: 2, budget: 1, engine: 'node', abi: 0, window: 1024, clockHz: 1e6,
            keyed: 0, authFailures: 0, counter: 0, badFrames: 0, used: 0, highWater: 0, fragments: [], overhead: 0, mesh: 0, session: 0,
          });
          reply[0] = 2;
          await b.write(encodeFrame(reply));
        }
      }
    })().catch(() => undefined); // ends when the client hangs up
    await expect(DeviceClient.connect(a, { name: 'old' })).rejects.toThrow(
      'old: device speaks protocol version 2; this side speaks version 3 (the device is older: rebuild its agent and reflash it)',
    );
    await fake;
  });

  test('times out the handshake with a clear error when nothing answers', async () => {
    const { a, b } = mockPair();
    await expect(DeviceClient.connect(a, { name: 'silent', connectTimeoutMs: 300 })).rejects.toThrow(
      'silent: no HELLO reply within 300 ms (is a device on this link?)',
    );
    await b.close();
  });
});
