// The gateway and simulated devices in separate processes over real socat
// PTYs (and one loopback TCP socket): fragments loaded and run bit-exact
// with the oracle, budgets respected, malformed frames survived, and results
// still exact with 1% of frames corrupted by the simulator.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, test as base } from 'vitest';
import { agentOverhead } from '../host/sim/agent-host.ts';
import { DeviceClient, type ClientOptions } from '../host/link/client.ts';
import { encodeFrame, FrameDecoder } from '../host/link/frame.ts';
import { decodeReply, encodeRequest, PROTOCOL_VERSION, type Reply } from '../host/link/messages.ts';
import { openTransport } from '../host/link/open.ts';
import type { Transport } from '../host/link/transport.ts';
import { CRASH_EXIT_CODE } from '../host/sim/device-process.ts';
import { startTestbed, type RunningTestbed } from '../host/sim/launcher.ts';
import { missingSocat } from '../host/sim/pty.ts';
import { insertBox } from '../host/run/boxes.ts';
import { oracle } from '../host/model/oracle.ts';
import { oneOpFragment } from './fixtures/link-fragments.ts';
import { convModel, fullyConnectedModel, randomInputs } from './fixtures/small-models.ts';
import { toolGate } from './tool-gate.ts';

const socat = toolGate(missingSocat());

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
const convTop = { start: [0, 0, 0, 0], end: [1, 6, 12, 16] };
const convBottom = { start: [0, 6, 0, 0], end: [1, 12, 12, 16] };
const fc = fullyConnectedModel({ inShape: [1, 256], units: 24, activation: 'RELU', keepNumDims: false, perChannel: true });
const fcFrag = oneOpFragment(fc, 0, randomInputs(fc)[0], { start: [0, 0], end: [1, 24] });

const test = base.extend<{
  /** Connects a client to a testbed device; closed after the test. */
  connect: (tb: RunningTestbed, id: string, opts?: ClientOptions) => Promise<DeviceClient>;
}>({
  connect: async ({}, use) => {
    const clients: DeviceClient[] = [];
    await use(async (tb, id, opts = {}) => {
      const d = tb.devices.find((x) => x.id === id)!;
      const c = await DeviceClient.connect(await openTransport(d.uri), { name: id, ...opts });
      clients.push(c);
      return c;
    });
    await Promise.all(clients.map((c) => c.close()));
  },
});

describe.skipIf(socat.skip)(`testbeds/four.json: three devices on PTYs, one on TCP${socat.note}`, () => {
  let tb: RunningTestbed;
  beforeAll(async () => {
    socat.check();
    tb = await startTestbed('testbeds/four.json');
  });
  afterAll(() => tb?.stop());

  it('starts every device on the link kind its entry names', () => {
    expect(tb.devices.map((d) => [d.id, d.uri.startsWith('/dev/pts/') ? 'pty' : d.uri.startsWith('tcp://127.0.0.1:') ? 'tcp' : d.uri])).toEqual([
      ['pty-a', 'pty'],
      ['pty-b', 'pty'],
      ['pty-c', 'pty'],
      ['tcp-d', 'tcp'],
    ]);
    expect(tb.links).toBe("links: socat PTYs (3), loopback TCP (1); simulated links paced to each device's stated rate");
  });

  test('HELLO, LOAD conv halves and an FC fragment on three PTY devices, RUN: every RESULT equals the oracle', async ({ connect }) => {
    const [a, b, c] = await Promise.all(['pty-a', 'pty-b', 'pty-c'].map((id) => connect(tb, id)));
    // The memory the testbed gives each agent is its overhead plus the arena HELLO reports.
    expect([a, b, c].map((x) => x.info.budget + x.info.overhead)).toEqual([83, 79, 61].map((k) => k * 1024));
    expect([a, b, c].map((x) => x.info.overhead)).toEqual([4096, 2048, 1024].map(agentOverhead));
    expect([a.info.window, b.info.window, c.info.window]).toEqual([4096, 2048, 1024]);
    const top = oneOpFragment(conv, 0, convInput, convTop);
    const bottom = oneOpFragment(conv, 0, convInput, convBottom);
    const work: [DeviceClient, ReturnType<typeof oneOpFragment>][] = [
      [a, top],
      [b, bottom],
      [c, fcFrag],
    ];
    const results = await Promise.all(
      work.map(async ([client, f]) => {
        await client.load(1, f.blob, { arena: f.arena, digest: f.digest });
        return client.run(1, f.input);
      }),
    );
    results.forEach((r, i) => {
      expect(r.output).toEqual(work[i][1].expected);
      expect(r.highWater).toBeGreaterThanOrEqual(work[i][1].blob.length + work[i][1].arena);
      expect(r.highWater).toBeLessThanOrEqual(work[i][0].info.budget);
    });
    // The two halves stitch into the whole layer as the oracle computes it.
    const whole = new Int8Array(12 * 12 * 16);
    insertBox(whole, [1, 12, 12, 16], convTop, new Int8Array(results[0].output.buffer, results[0].output.byteOffset, results[0].output.length));
    insertBox(whole, [1, 12, 12, 16], convBottom, new Int8Array(results[1].output.buffer, results[1].output.byteOffset, results[1].output.length));
    const [expected] = await oracle.runAll(conv, [convInput]).then((all) => conv.outputs.map((id) => all[id]!));
    expect(whole).toEqual(expected);
  });

  test('refuses an over-budget LOAD with the exact bytes', async ({ connect }) => {
    const c = await connect(tb, 'pty-c');
    await c.reset();
    const arena = 60000;
    await expect(c.load(9, fcFrag.blob, { arena, digest: fcFrag.digest })).rejects.toThrow(
      `pty-c: LOAD fragment 9: NO_MEMORY: LOAD fragment 9 needs ${fcFrag.blob.length + arena} bytes, ${c.info.budget} free (budget ${c.info.budget})`,
    );
  });

  test('answers truncated, oversized, wrong-CRC, wrong-version and malformed frames with ERROR or silence, and keeps working', async ({ connect }) => {
    const raw = await openTransport(tb.devices.find((d) => d.id === 'pty-b')!.uri);
    try {
      const hello = encodeFrame(encodeRequest({ type: 'HELLO', seq: 1 }));
      const badCrc = hello.slice();
      badCrc[3] ^= 0x40;
      const wrongVersion = encodeRequest({ type: 'PING', seq: 2 });
      wrongVersion[0] = 7;
      const notCbor = Uint8Array.of(PROTOCOL_VERSION, 0xff, 0xfe);
      const oversized = new Uint8Array(2048 + 100).fill(0x55);
      oversized[oversized.length - 1] = 0;
      const replies = await exchange(raw, [
        hello.subarray(0, 5), // truncated: its delimiter comes with the next frame's
        Uint8Array.of(0),
        badCrc,
        oversized,
        encodeFrame(wrongVersion),
        encodeFrame(notCbor),
        encodeFrame(encodeRequest({ type: 'PING', seq: 99 })),
      ], 99);
      expect(replies.map((r) => (r.type === 'ERROR' ? `ERROR ${r.code} seq ${r.seq}` : `${r.type} seq ${r.seq}`))).toEqual([
        'ERROR 4 seq 0', // TOO_LARGE
        'ERROR 2 seq 0', // BAD_VERSION
        'ERROR 1 seq 0', // BAD_MESSAGE
        'PING seq 99',
      ]);
    } finally {
      await raw.close();
    }
    const b = await connect(tb, 'pty-b');
    expect(b.info.badFrames).toBeGreaterThanOrEqual(2);
    expect(tb.devices.find((d) => d.id === 'pty-b')!.pid).toBeGreaterThan(0);
  });

  test('LOAD and RUN over loopback TCP', async ({ connect }) => {
    const d = await connect(tb, 'tcp-d');
    await d.load(2, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    expect((await d.run(2, fcFrag.input)).output).toEqual(fcFrag.expected);
  });
});

/** Writes raw frames, then reads replies until the one with seq `untilSeq`. */
async function exchange(t: Transport, frames: Uint8Array[], untilSeq: number): Promise<Reply[]> {
  const dec = new FrameDecoder({ maxPayload: 1 << 16 });
  const replies: Reply[] = [];
  // The device may not have seen our side open yet: PING until it answers, then start clean.
  for (;;) {
    await t.write(encodeFrame(encodeRequest({ type: 'PING', seq: 7 })));
    const got = await Promise.race([t.read(), new Promise<null>((r) => setTimeout(() => r(null), 200))]);
    if (got && dec.push(got).some((p) => decodeReply(p).seq === 7)) break;
  }
  for (const f of frames) await t.write(f);
  for (;;) {
    for (const p of dec.push(await t.read())) {
      const r = decodeReply(p);
      if (r.seq === 7 && r.type === 'PING') continue;
      replies.push(r);
      if (r.seq === untilSeq) return replies;
    }
  }
}

describe.skipIf(socat.skip)(`failure injection over PTYs${socat.note}`, () => {
  let tb: RunningTestbed;
  beforeAll(async () => {
    socat.check();
    tb = await startTestbed({
      seed: 11,
      devices: [
        { id: 'noisy', memory: '64K', speed: { default: 1e9 }, link: { kind: 'pty', rate: 1e7 }, receiveWindow: 1024, faults: { corruptP: 0.01 } },
        { id: 'crashy', memory: '64K', speed: { default: 1e9 }, link: { kind: 'pty', rate: 1e7 }, faults: { crashAfterRuns: 1 } },
      ],
    });
  });
  afterAll(() => tb?.stop());

  test('with 1% of frames corrupted both ways, 100 RUNs are all bit-exact', async ({ connect }) => {
    const c = await connect(tb, 'noisy', { ackTimeoutMs: 300, resultTimeoutMs: 500, requestTimeoutMs: 300 });
    const f = oneOpFragment(conv, 0, convInput, { start: [0, 0, 0, 0], end: [1, 12, 12, 16] });
    await c.load(1, f.blob, { arena: f.arena, digest: f.digest });
    for (let i = 0; i < 100; i++) expect((await c.run(1, f.input)).output).toEqual(f.expected);
    // The corruption did happen: the gateway saw bad frames or had to resend.
    expect(c.stats.badFrames + c.stats.retransmits).toBeGreaterThan(0);
  });

  test('a device that crashes after one RUN: the next RUN fails in bounded time naming it', async ({ connect }) => {
    const c = await connect(tb, 'crashy', { ackTimeoutMs: 100, minTransferMs: 500, linkBytesPerSec: 1e6, resultTimeoutMs: 300 });
    await c.load(1, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
    expect((await c.run(1, fcFrag.input)).output).toEqual(fcFrag.expected);
    expect(await tb.devices.find((d) => d.id === 'crashy')!.exited).toBe(CRASH_EXIT_CODE);
    await expect(c.run(1, fcFrag.input)).rejects.toThrow(/^crashy: RUN fragment 1: not acknowledged within its budget of 0\.5 s/);
  });
});

describe('devices from elsewhere (the `extra` hook, e.g. QEMU boards for `sim --qemu N`)', () => {
  it('are listed with the testbed and stopped with it', async () => {
    let stopped = 0;
    const tb = await startTestbed(
      { devices: [{ id: 'solo', memory: '32K', speed: { default: 1e9 }, link: { kind: 'tcp', rate: 1e7 } }] },
      { extra: async () => [{ id: 'board-0', uri: '/dev/pts/999', exited: new Promise(() => undefined), stop: async () => void stopped++ }] },
    );
    expect(tb.devices.map((d) => [d.id, d.engine])).toEqual([
      ['solo', 'node'],
      ['board-0', 'qemu'],
    ]);
    expect(tb.links).toBe("links: loopback TCP (1), QEMU board PTYs (1); simulated links paced to each device's stated rate");
    await tb.stop();
    await tb.stop();
    expect(stopped).toBe(1);
    await tb.devices[0].exited;
    expect(() => process.kill(tb.devices[0].pid!, 0)).toThrow(); // the device process is gone
  });
});

describe('without socat', () => {
  it('serves PTY devices on loopback TCP, paced the same, and says so in one line', async ({ onTestFinished }) => {
    const path = process.env.PATH;
    const empty = mkdtempSync(join(tmpdir(), 'microsplit-nopath-'));
    process.env.PATH = empty; // no socat on it; device processes start from process.execPath
    let tb: RunningTestbed;
    try {
      tb = await startTestbed({
        devices: [
          { id: 'p', memory: '64K', speed: { default: 1e9 }, link: { kind: 'pty', rate: 1e7 } },
          { id: 't', memory: '64K', speed: { default: 1e9 }, link: { kind: 'tcp', rate: 1e7 } },
        ],
      });
    } finally {
      process.env.PATH = path;
      rmSync(empty, { recursive: true });
    }
    onTestFinished(() => tb.stop());
    expect(tb.devices.map((d) => [d.id, d.link, d.uri.startsWith('tcp://127.0.0.1:')])).toEqual([
      ['p', 'tcp', true],
      ['t', 'tcp', true],
    ]);
    expect(tb.links).toBe(
      "links: loopback TCP (2); simulated links paced to each device's stated rate; socat not found, so the 1 PTY device is on loopback TCP (install socat for PTYs)",
    );
    const c = await DeviceClient.connect(await openTransport(tb.devices[0].uri), { name: 'p' });
    try {
      await c.load(1, fcFrag.blob, { arena: fcFrag.arena, digest: fcFrag.digest });
      expect((await c.run(1, fcFrag.input)).output).toEqual(fcFrag.expected);
    } finally {
      await c.close();
    }
  });
});
