// A man in the middle between the gateway and keyed simulated devices
// (docs/protocol.md section 4): RESULT, ERROR and HELLO carry tags over the
// reply and the request they answer, so rewritten, swapped, replayed and
// injected replies are refused, counted, and fail the operation (a device
// failure the executor re-dispatches); their bytes are never returned.
import { afterEach, describe, expect, test } from 'vitest';
import { DeviceClient, type DeviceError } from '../host/link/client.ts';
import { encodeReply, type Reply, type ReplyOf, type Request, type RequestOf } from '../host/link/messages.ts';
import { mockPair } from '../host/link/mock.ts';
import type { Transport } from '../host/link/transport.ts';
import { AgentHost } from '../host/sim/agent-host.ts';
import { deviceKey } from '../host/sim/device-process.ts';
import { SimDevice } from '../host/sim/device.ts';
import { parseTestbed } from '../host/sim/testbed.ts';
import { oneOpFragment } from './fixtures/link-fragments.ts';
import { flipByte, manInTheMiddle, type ManInTheMiddle, type Tamper } from './fixtures/mitm.ts';
import { fullyConnectedModel, randomInputs } from './fixtures/small-models.ts';
import { bytes, mnistCase } from './e2e-fixture.ts';
import { deployModel } from '../host/run/session.ts';
import { testbedProfiles } from '../host/run/testbed-profiles.ts';

const fc = fullyConnectedModel({ inShape: [1, 256], units: 24, activation: 'RELU', keepNumDims: false, perChannel: true });
const [x] = randomInputs(fc, 1);
const [y] = randomInputs(fc, 2);
const fragX = oneOpFragment(fc, 0, x, { start: [0, 0], end: [1, 24] });
const fragY = oneOpFragment(fc, 0, y, { start: [0, 0], end: [1, 24] });
/** Another blob under the same fragment id: the first half of the units. */
const fragHalf = oneOpFragment(fc, 0, x, { start: [0, 0], end: [1, 12] });
const KEY_A = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const KEY_B = 'f0e0d0c0b0a090807060504030201000f0e0d0c0b0a090807060504030201000';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

/** A keyed simulated device; returns the gateway's end of its link. */
function device(keyHex: string, id = 'dev', window = 1024): Transport {
  const s = parseTestbed({ devices: [{ id, memory: 64 * 1024, speed: { default: 1e12 }, link: { kind: 'pty', rate: 1e9 }, receiveWindow: window, keyHex }] }).devices[0];
  const link = mockPair();
  const sim = new SimDevice({ spec: s, seed: 1, createAgent: (write) => new AgentHost({ memory: s.memory, window, write, ...deviceKey(s) }) });
  void sim.serve(link.b);
  stops.push(async () => {
    sim.stop();
    await link.b.close();
  });
  return link.a;
}

async function connect(t: Transport, keyHex: string, name = 'dev'): Promise<DeviceClient> {
  const c = await DeviceClient.connect(t, { name, key: Buffer.from(keyHex, 'hex'), requestTimeoutMs: 300, ackTimeoutMs: 300, resultTimeoutMs: 3000 });
  stops.unshift(() => c.close());
  return c;
}

/** Applies `change` to the n-th RESULT (0-based) and passes everything else. */
const onResult =
  (n: number, change: (payload: Uint8Array, r: Reply) => Uint8Array[]): Tamper =>
  (p, r) => {
    if (r.type !== 'RESULT') return [p];
    return n-- === 0 ? change(p, r) : [p];
  };

describe('a man in the middle on a keyed link', () => {
  test('a RESULT whose output bytes were rewritten is refused, counted, and fails the RUN', async () => {
    let flipped = false;
    const c = await connect(
      manInTheMiddle(
        device(KEY_A),
        onResult(0, (p, r) => {
          flipped = true;
          // The output box's first byte.
          return [flipByte(p, Buffer.from(p).indexOf(Buffer.from((r as ReplyOf<'RESULT'>).data)))];
        }),
      ).transport,
      KEY_A,
    );
    await c.load(1, fragX.blob, { arena: fragX.arena, digest: fragX.digest });
    await expect(c.run(1, fragX.input)).rejects.toMatchObject({ code: 'FORGED' });
    expect(flipped).toBe(true);
    expect(c.stats.forgedReplies).toBe(1);
    // The next RUN, untouched, is exact.
    expect((await c.run(1, fragX.input)).output).toEqual(fragX.expected);
  });

  test('a RESULT recorded earlier and replayed for a later RUN (seq rewritten) is refused', async () => {
    let recorded: Reply | undefined;
    const c = await connect(
      manInTheMiddle(device(KEY_A), (p, r) => {
        if (r.type !== 'RESULT') return [p];
        if (!recorded) {
          recorded = r;
          return [p];
        }
        return [encodeReply({ ...recorded, seq: r.seq })];
      }).transport,
      KEY_A,
    );
    await c.load(1, fragX.blob, { arena: fragX.arena, digest: fragX.digest });
    expect((await c.run(1, fragX.input)).output).toEqual(fragX.expected);
    await expect(c.run(1, fragY.input)).rejects.toMatchObject({ code: 'FORGED' });
    expect(c.stats.forgedReplies).toBe(1);
  });

  test('RESULTs swapped between two devices are refused on both', async () => {
    // The first RESULT is held until the other link's comes; then each goes to the other link.
    const held: { a?: Uint8Array; b?: Uint8Array } = {};
    const mitm: { a?: ManInTheMiddle; b?: ManInTheMiddle } = {};
    const swap =
      (mine: 'a' | 'b', theirs: 'a' | 'b'): Tamper =>
      (p, r) => {
        if (r.type !== 'RESULT') return [p];
        held[mine] = p;
        const other = held[theirs];
        if (!other) return [];
        mitm[theirs]!.inject(p);
        return [other];
      };
    mitm.a = manInTheMiddle(device(KEY_A, 'a'), swap('a', 'b'));
    mitm.b = manInTheMiddle(device(KEY_B, 'b'), swap('b', 'a'));
    const a = await connect(mitm.a.transport, KEY_A, 'a');
    const b = await connect(mitm.b.transport, KEY_B, 'b');
    await Promise.all([a.load(1, fragX.blob, { arena: fragX.arena, digest: fragX.digest }), b.load(1, fragY.blob, { arena: fragY.arena, digest: fragY.digest })]);
    const settled = await Promise.allSettled([a.run(1, fragX.input), b.run(1, fragY.input)]);
    expect(settled.map((s) => s.status === 'rejected' && (s.reason as DeviceError).code)).toEqual(['FORGED', 'FORGED']);
    expect([a.stats.forgedReplies, b.stats.forgedReplies]).toEqual([1, 1]);
  });

  test.each([
    ['without a tag', undefined],
    ['with a made-up tag', new Uint8Array(32).fill(7)],
  ])('an injected RESULT %s is refused; the real one is never mixed in', async (_, tag) => {
    let armed = false;
    let injected = false;
    const c = await connect(
      manInTheMiddle(device(KEY_A), (p, r) => {
        // Ahead of the ACK that completes the RUN's input: a RESULT of the attacker's choosing.
        if (armed && r.type === 'ACK' && r.done === 1 && !injected) {
          injected = true;
          const fake = encodeReply({ type: 'RESULT', seq: r.seq, frag: 1, data: new Uint8Array(fragX.expected.length).fill(1), highWater: 0, computeUs: 0, ...(tag && { tag }) });
          return [fake, p];
        }
        return [p];
      }).transport,
      KEY_A,
    );
    await c.load(1, fragX.blob, { arena: fragX.arena, digest: fragX.digest });
    armed = true;
    await expect(c.run(1, fragX.input)).rejects.toMatchObject({ code: 'FORGED' });
    expect(injected).toBe(true);
    expect(c.stats.forgedReplies).toBe(1);
  });

  test.each([
    ['truncated to 31 bytes', -1],
    ['grown to 33 bytes', 1],
  ])('a copy of the RESULT with its tag %s is dropped as malformed; the genuine RESULT is used', async (_, change) => {
    /** The payload with its tag's byte-string head (0x58 0x20, before the last 32 bytes) resized by `change`. */
    const resized = (p: Uint8Array) => {
      const q = Uint8Array.from([...p.subarray(0, p.length + Math.min(change, 0)), ...(change > 0 ? [7] : [])]);
      expect([...q.subarray(p.length - 34, p.length - 32)]).toEqual([0x58, 32]);
      q[p.length - 33] = 32 + change;
      return q;
    };
    const c = await connect(manInTheMiddle(device(KEY_A), onResult(0, (p) => [resized(p), p])).transport, KEY_A);
    await c.load(1, fragX.blob, { arena: fragX.arena, digest: fragX.digest });
    expect((await c.run(1, fragX.input)).output).toEqual(fragX.expected);
    expect(c.stats).toMatchObject({ badReplies: 1, forgedReplies: 0 });
  });

  test('a forged ERROR is refused; a HELLO of an earlier handshake replayed later is refused', async () => {
    let firstHello: Reply | undefined;
    let replay = false;
    const c = await connect(
      manInTheMiddle(device(KEY_A), (p, r) => {
        if (r.type === 'HELLO') {
          firstHello ??= r;
          return [replay ? encodeReply({ ...firstHello, seq: r.seq }) : p];
        }
        if (r.type === 'ACK' && r.done === 1) return [encodeReply({ type: 'ERROR', seq: r.seq, code: 9, text: 'forged', tag: new Uint8Array(32) })];
        return [p];
      }).transport,
      KEY_A,
    );
    await expect(c.load(1, fragX.blob, { arena: fragX.arena, digest: fragX.digest })).rejects.toMatchObject({ code: 'FORGED' });
    replay = true;
    await expect(c.hello()).rejects.toMatchObject({ code: 'FORGED' });
    expect(c.stats.forgedReplies).toBe(2);
  });

  test('forged ACKs claiming a LOAD committed leave the old blob on the device: its RESULT is refused, not taken for the new one', async () => {
    let swallow = false;
    const mitm: ManInTheMiddle = manInTheMiddle(
      device(KEY_A),
      (p) => [p],
      (p, m) => {
        if (!swallow || m.type !== 'LOAD') return [p];
        // The chunk never reaches the device; the gateway hears that it did.
        const end = m.offset + m.data.length;
        mitm.inject(encodeReply({ type: 'ACK', seq: m.seq, frag: m.frag, next: end, done: end === fragHalf.blob.length ? 1 : 0 }));
        return [];
      },
    );
    const c = await connect(mitm.transport, KEY_A);
    await c.load(1, fragX.blob, { arena: fragX.arena, digest: fragX.digest });
    swallow = true;
    await c.load(1, fragHalf.blob, { arena: fragHalf.arena, digest: fragHalf.digest });
    await expect(c.run(1, fragHalf.input)).rejects.toMatchObject({ code: 'FORGED' });
    expect(c.stats.forgedReplies).toBe(1);
  });

  test("forged ACKs splicing a RUN's input from chunks of two RUNs: the RESULT of the spliced input is refused", async () => {
    // A 512-byte window: each 256-byte input crosses in several chunks.
    let phase: 'x' | 'y' | undefined;
    const runChunks = { x: 0, y: 0 };
    const results: Uint8Array[] = [];
    const mitm: ManInTheMiddle = manInTheMiddle(
      device(KEY_A, 'dev', 512),
      (p, r) => {
        if (r.type === 'RESULT') results.push(r.data);
        return [p];
      },
      (p, m) => {
        if (m.type === 'CANCEL') {
          // The gateway gives up on RUN x; the device never hears it, so x's first chunk stays open there.
          mitm.inject(encodeReply({ type: 'ACK', seq: m.seq, frag: m.frag, next: 0, done: 0 }));
          return [];
        }
        if (m.type !== 'RUN' || !phase) return [p];
        runChunks[phase]++;
        const keep = phase === 'x' ? m.offset === 0 : m.offset > 0;
        if (keep) return [p];
        // Dropped on the way; the gateway hears that the device took it.
        const end = m.offset + m.data.length;
        mitm.inject(encodeReply({ type: 'ACK', seq: m.seq, frag: m.frag, next: end, done: 0 }));
        return [];
      },
    );
    const c = await connect(mitm.transport, KEY_A);
    await c.load(1, fragX.blob, { arena: fragX.arena, digest: fragX.digest });
    phase = 'x';
    // x's first chunk reaches the device, its others are swallowed: no RESULT, the RUN times out.
    await expect(c.run(1, fragX.input, { timeoutMs: 500 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    phase = 'y';
    // y's first chunk is swallowed, its others complete x's open input on the device: x's head, y's tail.
    await expect(c.run(1, fragY.input)).rejects.toMatchObject({ code: 'FORGED' });
    expect(runChunks.x).toBeGreaterThan(1);
    expect(runChunks.y).toBeGreaterThan(1);
    // The device did compute on the spliced input: an output that is neither x's nor y's.
    expect(results).toHaveLength(1);
    expect([fragX.expected, fragY.expected].map((e) => Buffer.from(e).equals(Buffer.from(results[0])))).toEqual([false, false]);
    expect(c.stats.forgedReplies).toBe(1);
  });

  test('a device holding another key fails the handshake with one clear error', async () => {
    await expect(connect(device(KEY_B), KEY_A)).rejects.toThrow(
      /^dev: HELLO for request 1 refused: its tag does not verify for the request it answers .*holds another key\)$/,
    );
  });
});

describe('sealed payloads (ChaCha20 under the tag)', () => {
  test('an encrypted LOAD and RUN give the exact output, and neither the blob, the input nor the output crosses the link in clear', async () => {
    const sent: Request[] = [];
    const received: Reply[] = [];
    const mitm = manInTheMiddle(
      device(KEY_A),
      (p, r) => (received.push(r), [p]),
      (p, m) => (sent.push(m), [p]),
    );
    const c = await DeviceClient.connect(mitm.transport, { name: 'dev', key: Buffer.from(KEY_A, 'hex'), encrypt: true });
    stops.unshift(() => c.close());
    await c.load(1, fragX.blob, { arena: fragX.arena, digest: fragX.digest });
    expect((await c.run(1, fragX.input)).output).toEqual(fragX.expected);
    const onWire = (type: string) => Buffer.concat(sent.filter((m) => m.type === type).map((m) => (m as RequestOf<'LOAD'>).data));
    const load = onWire('LOAD');
    const run = onWire('RUN');
    expect(load.length).toBe(fragX.blob.length);
    expect(run.length).toBe(fragX.input.length);
    expect(load.equals(Buffer.from(fragX.blob))).toBe(false);
    expect(run.equals(Buffer.from(fragX.input))).toBe(false);
    const result = received.find((r) => r.type === 'RESULT') as ReplyOf<'RESULT'>;
    expect(result.sealed).toBe(1);
    expect(Buffer.from(result.data).equals(Buffer.from(fragX.expected))).toBe(false);
    expect(sent.filter((m) => m.type === 'LOAD' || m.type === 'RUN').every((m) => (m as RequestOf<'RUN'>).sealed === 1)).toBe(true);
  });

  test('a sealed RESULT with one ciphertext bit flipped is refused, not decrypted into a wrong output', async () => {
    const c = await DeviceClient.connect(
      manInTheMiddle(device(KEY_A), onResult(0, (p, r) => [flipByte(p, Buffer.from(p).indexOf(Buffer.from((r as ReplyOf<'RESULT'>).data)))])).transport,
      { name: 'dev', key: Buffer.from(KEY_A, 'hex'), encrypt: true },
    );
    stops.unshift(() => c.close());
    await c.load(1, fragX.blob, { arena: fragX.arena, digest: fragX.digest });
    await expect(c.run(1, fragX.input)).rejects.toMatchObject({ code: 'FORGED' });
    expect((await c.run(1, fragX.input)).output).toEqual(fragX.expected);
  });
});

describe('the executor over keyed devices, one behind a man in the middle', () => {
  test('every RESULT of the attacked device is refused; its fragments are re-dispatched and the outputs equal the oracle', async () => {
    const { graph, inputs, expected } = await mnistCase(3);
    const tb = parseTestbed({
      devices: ['a', 'b'].map((id) => ({ id, memory: '256K', speed: { default: 1e9 }, link: { kind: 'pty', rate: 1e8 }, receiveWindow: 4096, keyHex: id === 'a' ? KEY_A : KEY_B })),
    });
    const profiles = testbedProfiles(tb);
    // Once deployed, the attacker rewrites the first output byte of every RESULT on the attacked link.
    let attack: string | undefined;
    const clients = new Map<string, DeviceClient>();
    for (const s of tb.devices) {
      const t = manInTheMiddle(device(s.keyHex!, s.id), (p, r) => {
        if (attack !== s.id || r.type !== 'RESULT') return [p];
        return [flipByte(p, Buffer.from(p).indexOf(Buffer.from(r.data)))];
      }).transport;
      clients.set(s.id, await connect(t, s.keyHex!, s.id));
    }
    const log: string[] = [];
    const { executor } = await deployModel(graph, { profiles, clients }, { strategy: 'microsplit', log: (l) => log.push(l) });
    // The device doing the work is attacked; the other has room to take it over.
    attack = executor.plan.stages[0].fragments[0].devices[0];
    for (const [i, x] of inputs.entries()) expect(bytes((await executor.infer([x], i)).outputs[0])).toEqual(expected[i]);
    expect(clients.get(attack)!.stats.forgedReplies).toBeGreaterThan(0);
    expect([...executor.unhealthy]).toEqual([attack]);
    expect(log.some((l) => / re-dispatched to /.test(l)), log.join('\n')).toBe(true);
  }, 60_000);
});
