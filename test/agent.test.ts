// The agent (build/agent.wasm) in Node through host/sim/agent-host.ts, spoken
// to with the gateway's codec (host/link): capabilities, LOAD/RUN of real
// fragments checked bit for bit against the oracle, the arena budget, the
// transfer rules, CANCEL/UNLOAD/RESET, and frames that must not hurt it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../host/link/frame.ts';
import { ErrorCode, PROTOCOL_VERSION, type Reply, type ReplyOf } from '../host/link/messages.ts';
import { blobBytes, fragmentDigest } from '../host/abi/fragment-blob.ts';
import { C, KERNEL_ABI_HASH } from '../host/abi/kernel-abi.ts';
import { AgentHost, agentOverhead } from '../host/sim/agent-host.ts';
import { BUDGET, WINDOW, TestGateway, expectReply, test } from './agent-fixture.ts';
import { convBoxFragment, fcFragment, fusedConvPoolFragment } from './agent-fragments.ts';

const align8 = (n: number) => (n + 7) & ~7;

describe('HELLO', () => {
  test('reports the capabilities the host configured and the kernel ABI hash', ({ gateway }) => {
    const h = gateway.hello();
    expect(h).toMatchObject({
      seq: 1, version: PROTOCOL_VERSION, budget: BUDGET, window: WINDOW, engine: 'node', abi: KERNEL_ABI_HASH,
      clockHz: 1_000_000, keyed: 0, authFailures: 0, used: 0, highWater: 0, fragments: [],
    });
    expect(h.overhead).toBeGreaterThan(2 * WINDOW);
  });

  test('PING echoes its seq with the device clock', ({ gateway }) => {
    const r = expectReply(gateway.ask('PING', {}), 'PING');
    expect(r.seq).toBe(1);
    expect(r.clock).toBeGreaterThan(0);
  });
});

describe('LOAD then RUN gives the oracle bytes', () => {
  const fragments = [convBoxFragment(), fusedConvPoolFragment(), fcFragment()];

  test.for(fragments.map((f) => [f.name, f] as const))('%s', ([, f], { gateway }) => {
    const ack = expectReply(gateway.load(7, f.blob, f.arena), 'ACK');
    expect(ack).toMatchObject({ frag: 7, next: f.blob.length, done: 1 });
    const replies = gateway.run(7, f.input, 100);
    const result = expectReply(replies.at(-1)!, 'RESULT');
    expect(Buffer.from(result.data).equals(Buffer.from(f.expected))).toBe(true);
    expect(result.run).toBeUndefined();
    expect(replies.slice(0, -1).every((r) => r.type === 'ACK')).toBe(true);
    // Blob and activation region are the whole arena use, and stay within the budget.
    const used = align8(f.blob.length) + align8(f.arena);
    expect(result.highWater).toBe(used);
    expect(gateway.agent.arenaUsed).toBe(used);
    expect(result.highWater).toBeLessThanOrEqual(BUDGET);
  });

  test('host-planned offsets anywhere in the activation region give the same bytes', ({ gateway }) => {
    fc.assert(
      fc.property(fc.nat(200), fc.nat(200), fc.boolean(), (a, b, outFirst) => {
        // Input (64 bytes) and output (10 bytes) at 4-aligned offsets that do not overlap.
        const [inOffset, outOffset] = outFirst ? [4 * b + 12 + 4 * a, 4 * b] : [4 * a, 4 * a + 64 + 4 * b];
        const f = fcFragment(inOffset, outOffset);
        expectReply(gateway.load(3, f.blob, f.arena), 'ACK');
        const result = expectReply(gateway.run(3, f.input).at(-1)!, 'RESULT');
        expect(Buffer.from(result.data).equals(Buffer.from(f.expected))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  test('three fragments stay loaded side by side and each runs again', ({ gateway }) => {
    fragments.forEach((f, i) => expectReply(gateway.load(i, f.blob, f.arena), 'ACK'));
    expect(gateway.hello().fragments.sort()).toEqual([0, 1, 2]);
    fragments.forEach((f, i) => {
      const result = expectReply(gateway.run(i, f.input).at(-1)!, 'RESULT');
      expect(Buffer.from(result.data).equals(Buffer.from(f.expected))).toBe(true);
    });
  });

  test('UNLOAD of a fragment in the middle compacts the others, which still run', ({ gateway }) => {
    fragments.forEach((f, i) => expectReply(gateway.load(i, f.blob, f.arena), 'ACK'));
    expectReply(gateway.ask('UNLOAD', { frag: 1 }), 'ACK');
    const [a, , c] = fragments;
    expect(gateway.agent.arenaUsed).toBe(align8(a.blob.length) + align8(c.blob.length) + align8(Math.max(a.arena, c.arena)));
    for (const [id, f] of [[0, a], [2, c]] as const) {
      const result = expectReply(gateway.run(id, f.input).at(-1)!, 'RESULT');
      expect(Buffer.from(result.data).equals(Buffer.from(f.expected))).toBe(true);
    }
  });
});

describe('fragment blobs', () => {
  it.each([convBoxFragment(), fusedConvPoolFragment(), fcFragment()].map((f) => [f.name, f] as const))('blobBytes predicts the packed size of %s', (_, f) => {
    const dv = new DataView(f.blob.buffer, f.blob.byteOffset);
    const records = Array.from({ length: dv.getUint32(4, true) }, (_, i) => dv.getUint32(32 + 16 * i + 4, true));
    expect(blobBytes(records)).toBe(f.blob.length);
  });
});

describe('the arena budget', () => {
  test('a LOAD over the budget is refused with the bytes asked and free', () => {
    const f = fcFragment();
    const gateway = new TestGateway({ arena: 4096 });
    const r = expectReply(gateway.ask('LOAD', { frag: 1, offset: 0, data: new Uint8Array(0), total: 5000, digest: new Uint8Array(32), arena: 100 }), 'ERROR');
    expect(r.code).toBe(ErrorCode.NO_MEMORY);
    expect(r.text).toBe(`LOAD fragment 1 needs ${5000 + 104} bytes, 4096 free (budget 4096)`);
    // A fragment that fits still loads, and the refusal left nothing behind.
    expectReply(gateway.load(2, f.blob, f.arena), 'ACK');
    const used = align8(f.blob.length) + align8(f.arena);
    const r2 = expectReply(gateway.ask('LOAD', { frag: 3, offset: 0, data: new Uint8Array(0), total: 4000, digest: new Uint8Array(32), arena: 80 }), 'ERROR');
    expect(r2.text).toBe(`LOAD fragment 3 needs ${4000 + align8(80) - align8(f.arena)} bytes, ${4096 - used} free (budget 4096)`);
    expect(gateway.agent.highWater).toBe(used);
  });

  test.for([
    ['a total near 2^32', 0xfffffff9, 100, 0x100000000 + 104],
    ['an arena near 2^32', 100, 0xffffffff, 104 + 0x100000000],
  ] as const)('a LOAD asking for %s is refused, not wrapped around', ([, total, arena, need], { gateway }) => {
    const r = expectReply(gateway.ask('LOAD', { frag: 1, offset: 0, data: new Uint8Array(0), total, digest: new Uint8Array(32), arena }), 'ERROR');
    expect(r).toMatchObject({ code: ErrorCode.NO_MEMORY, text: `LOAD fragment 1 needs ${need > 0xffffffff ? 'more than 4294967295' : need} bytes, ${BUDGET} free (budget ${BUDGET})` });
    expect(gateway.hello().used).toBe(0);
  });

  test('the arena is the memory the host gives less the overhead HELLO reports, for any byte count', () => {
    const memory = 70_001; // not a whole number of pages
    const agent = new AgentHost({ memory, window: WINDOW, write: () => {} });
    const g = new TestGateway({ arena: memory - agentOverhead(WINDOW) });
    const h = g.hello();
    expect(h.overhead).toBe(agent.overhead);
    expect(h.budget + h.overhead).toBe(memory);
    expect(g.agent.memoryBytes).toBe(2 * 65536); // whole pages; the agent uses the first `memory` bytes
    // The whole arena can be taken, and not one byte more.
    const r = expectReply(g.ask('LOAD', { frag: 1, offset: 0, data: new Uint8Array(0), total: h.budget + 1, digest: new Uint8Array(32), arena: 0 }), 'ERROR');
    expect(r.text).toBe(`LOAD fragment 1 needs ${align8(h.budget + 1)} bytes, ${h.budget} free (budget ${h.budget})`);
  });

  test('init refuses a memory its buffers leave no arena in', () => {
    expect(() => new AgentHost({ memory: agentOverhead(WINDOW), window: WINDOW, write: () => {} })).toThrow(/must leave an arena in \d+ bytes/);
  });
});

describe('transfers', () => {
  test('a chunk out of order is answered with the current next and not stored (go-back-N)', ({ gateway }) => {
    const f = fcFragment();
    const digest = fragmentDigest(f.blob);
    expectReply(gateway.ask('LOAD', { frag: 4, offset: 0, data: f.blob.subarray(0, 100), total: f.blob.length, digest, arena: f.arena }), 'ACK');
    const skip = expectReply(gateway.ask('LOAD', { frag: 4, offset: 200, data: f.blob.subarray(200, 300) }), 'ACK');
    expect(skip).toMatchObject({ next: 100, done: 0 });
    for (let offset = 100; offset < f.blob.length; offset += 500) {
      const ack = expectReply(gateway.ask('LOAD', { frag: 4, offset, data: f.blob.subarray(offset, offset + 500) }), 'ACK');
      expect(ack.next).toBe(Math.min(f.blob.length, offset + 500));
    }
    expect(gateway.hello().fragments).toEqual([4]);
  });

  test('an input from several senders (a run) completes in any interleaving, each sender go-back-N from its own start', ({ gateway }) => {
    const f = convBoxFragment();
    gateway.load(2, f.blob, f.arena);
    const n = f.input.length;
    // Three senders: [0, a) the gateway, [a, b) and [b, n) two forwarding devices.
    const a = Math.floor(n / 3);
    const b = Math.floor((2 * n) / 3);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 60, maxLength: 60 }), fc.integer({ min: 1, max: 1 << 30 }), (order, run) => {
        const ranges = [
          [0, a],
          [a, b],
          [b, n],
        ];
        const sent = ranges.map(([s]) => s);
        const replies: Reply[] = [];
        const step = (k: number) => {
          const [from, end] = ranges[k];
          if (sent[k] >= end) return;
          const data = f.input.subarray(sent[k], Math.min(end, sent[k] + 40));
          const got = gateway.send('RUN', { frag: 2, offset: sent[k], data, total: n, from, run });
          replies.push(...got);
          sent[k] += data.length;
          // The ACK counts from the sender's own start: its bytes so far, and beyond its end only what others sent.
          const ack = expectReply(got[0], 'ACK');
          if (sent[k] < end) expect(ack.next).toBe(sent[k]);
          else expect(ack.next).toBeGreaterThanOrEqual(end);
        };
        order.forEach(step);
        while (sent.some((x, k) => x < ranges[k][1])) [0, 1, 2].forEach(step);
        const result = expectReply(replies.at(-1)!, 'RESULT');
        expect(Buffer.from(result.data).equals(Buffer.from(f.expected))).toBe(true);
        // The RESULT names the run it answers, whichever sender's chunk completed it.
        expect(result.run).toBe(run);
        expect(replies.filter((r) => r.type === 'RESULT')).toHaveLength(1);
      }),
      { numRuns: 30 },
    );
  });

  test('a run chunk that skips ahead of its sender is not stored; a chunk of another run with total opens a new input', ({ gateway }) => {
    const f = fcFragment();
    gateway.load(5, f.blob, f.arena);
    const ack = (r: Reply) => expectReply(r, 'ACK');
    expect(ack(gateway.ask('RUN', { frag: 5, offset: 40, data: f.input.subarray(40, 50), total: 64, from: 32, run: 7 }))).toMatchObject({ next: 32, done: 0 });
    expect(ack(gateway.ask('RUN', { frag: 5, offset: 32, data: f.input.subarray(32), total: 64, from: 32, run: 7 }))).toMatchObject({ next: 64, done: 0 });
    // Run 8 opens anew: run 7's bytes no longer count.
    expect(ack(gateway.ask('RUN', { frag: 5, offset: 0, data: f.input.subarray(0, 32), total: 64, run: 8 }))).toMatchObject({ next: 32, done: 0 });
    const replies = gateway.send('RUN', { frag: 5, offset: 32, data: f.input.subarray(32), total: 64, from: 32, run: 8 });
    expect(Buffer.from(expectReply(replies.at(-1)!, 'RESULT').data).equals(Buffer.from(f.expected))).toBe(true);
  });

  test('a blob whose digest differs is discarded, never committed', ({ gateway }) => {
    const f = fcFragment();
    const bad = f.blob.slice();
    bad[bad.length - 1] ^= 1;
    const r = expectReply(gateway.load(5, bad, f.arena, 600, fragmentDigest(f.blob)), 'ERROR');
    expect(r.code).toBe(ErrorCode.BAD_FRAGMENT);
    expect(r.text).toMatch(/SHA-256/);
    expect(gateway.hello()).toMatchObject({ fragments: [], used: 0 });
  });

  test.for([
    ['a wrong magic', (b: DataView) => b.setUint32(0, 0x12345678, true), /bad magic/],
    ['an output outside the activation region', (b: DataView) => b.setUint32(16, 1 << 20, true), /output outside/],
    // Above 2^31: an offset must not pass the bounds check by widening to a negative number.
    ['a call block output offset of 0xfffffff0', (b: DataView) => b.setUint32(b.getUint32(40, true) + 4 * C.OUT, 0xfffffff0, true), /output outside/],
    ['a record size word that disagrees', (b: DataView) => b.setUint32(b.getUint32(32, true) + 12, 300, true), /op 0 record size/],
  ] as const)('a blob with %s is refused naming it', ([, corrupt, message], { gateway }) => {
    const f = fcFragment();
    const blob = f.blob.slice();
    corrupt(new DataView(blob.buffer));
    const r = expectReply(gateway.load(6, blob, f.arena), 'ERROR');
    expect(r.code).toBe(ErrorCode.BAD_FRAGMENT);
    expect(r.text).toMatch(message);
  });

  test('a chunk with no transfer open, and a RUN of an unknown fragment, are refused', ({ gateway }) => {
    expect(expectReply(gateway.ask('LOAD', { frag: 1, offset: 64, data: new Uint8Array(4) }), 'ERROR').code).toBe(ErrorCode.BAD_TRANSFER);
    expect(expectReply(gateway.ask('RUN', { frag: 9, offset: 0, data: new Uint8Array(4), total: 4 }), 'ERROR').code).toBe(ErrorCode.NO_FRAGMENT);
  });

  test('a RUN whose total differs from the fragment input is refused', ({ gateway }) => {
    const f = fcFragment();
    gateway.load(1, f.blob, f.arena);
    const r = expectReply(gateway.ask('RUN', { frag: 1, offset: 0, data: f.input, total: 63 }), 'ERROR');
    expect(r).toMatchObject({ code: ErrorCode.BAD_TRANSFER, text: 'RUN input of 63 bytes; fragment 1 takes 64' });
  });

  test('a LOAD replacing a fragment drops the input being received for the old one', ({ gateway }) => {
    const [old, replacement] = [fcFragment(), convBoxFragment()];
    gateway.load(1, old.blob, old.arena);
    expectReply(gateway.ask('RUN', { frag: 1, offset: 0, data: old.input.subarray(0, 32), total: 64 }), 'ACK');
    expectReply(gateway.load(1, replacement.blob, replacement.arena), 'ACK');
    expect(expectReply(gateway.ask('RUN', { frag: 1, offset: 32, data: old.input.subarray(32) }), 'ERROR').code).toBe(ErrorCode.BAD_TRANSFER);
    const result = expectReply(gateway.run(1, replacement.input).at(-1)!, 'RESULT');
    expect(Buffer.from(result.data).equals(Buffer.from(replacement.expected))).toBe(true);
    expect(gateway.hello().fragments).toEqual([1]);
  });

  test('CANCEL between the ops of a fused stage stops it: no RESULT', ({ gateway }) => {
    const f = fusedConvPoolFragment();
    gateway.load(1, f.blob, f.arena);
    // Feed the whole input without polling, step one op, then cancel.
    gateway.agent.feed(encodeFrame(gateway.payload('RUN', { frag: 1, offset: 0, data: f.input, total: f.input.length })));
    expect(gateway.agent.poll()).toBe(true);
    const replies = gateway.send('CANCEL', { frag: 1 });
    expect(replies.map((r) => r.type)).toEqual(['ACK', 'ACK']);
    expect(gateway.feed(new Uint8Array(0))).toEqual([]);
    // The fragment is still loaded and runs again.
    expect(expectReply(gateway.run(1, f.input).at(-1)!, 'RESULT').data).toEqual(new Uint8Array(f.expected));
  });

  test('RESET frees everything and restarts the high-water mark', ({ gateway }) => {
    const f = convBoxFragment();
    expectReply(gateway.load(1, f.blob, f.arena), 'ACK');
    expect(gateway.hello().highWater).toBe(align8(f.blob.length) + align8(f.arena));
    expectReply(gateway.ask('RESET', {}), 'ACK');
    expect(gateway.hello()).toMatchObject({ used: 0, fragments: [], highWater: 0 });
  });
});

describe('PROFILE', () => {
  test('measures every op type through the kernels', ({ gateway }) => {
    const r = expectReply(gateway.ask('PROFILE', { macs: 20_000 }), 'PROFILE');
    for (const rate of Object.values(r.rates)) expect(rate).toBeGreaterThan(0);
    expect(gateway.hello().used).toBe(0);
  });

  test('rates an op 0 when the free arena cannot hold its benchmark, and leaves loaded fragments intact', () => {
    const f = fcFragment();
    const used = align8(f.blob.length) + align8(f.arena);
    const gateway = new TestGateway({ arena: used + 1024 });
    expectReply(gateway.load(1, f.blob, f.arena), 'ACK');
    const r = expectReply(gateway.ask('PROFILE', { macs: 1000 }), 'PROFILE');
    expect(r.rates.fc).toBe(0);
    expect(r.rates.softmax).toBeGreaterThan(0);
    const result = expectReply(gateway.run(1, f.input).at(-1)!, 'RESULT');
    expect(Buffer.from(result.data).equals(Buffer.from(f.expected))).toBe(true);
  });
});

describe('frames that must not hurt the agent', () => {
  const ping = (g: TestGateway) => encodeFrame(g.payload('PING', {}));

  test.for([
    ['a wrong CRC', (f: Uint8Array) => { f[2] ^= 0x40; return f; }],
    ['a truncated frame', (f: Uint8Array) => Uint8Array.of(...f.subarray(0, 3), 0)],
    ['line noise shorter than the window', () => Uint8Array.of(...new Uint8Array(500).fill(0x55), 0)],
  ] as const)('%s is dropped silently and counted', ([, mangle], { gateway }) => {
    expect(gateway.feed(mangle(ping(gateway)))).toEqual([]);
    expect(gateway.hello().badFrames).toBe(1);
  });

  test('a frame longer than the window gets ERROR TOO_LARGE, then frames decode again', ({ gateway }) => {
    const big = encodeFrame(gateway.payload('LOAD', { frag: 1, offset: 0, data: new Uint8Array(WINDOW) }));
    const r = expectReply(gateway.feed(big)[0], 'ERROR');
    expect(r).toMatchObject({ seq: 0, code: ErrorCode.TOO_LARGE });
    expect(expectReply(gateway.feed(ping(gateway))[0], 'PING').seq).toBe(2);
  });

  test('a frame of another protocol version gets ERROR BAD_VERSION', ({ gateway }) => {
    const payload = gateway.payload('PING', {});
    payload[0] = 9;
    const r = expectReply(gateway.feed(encodeFrame(payload))[0], 'ERROR');
    expect(r).toMatchObject({ code: ErrorCode.BAD_VERSION, text: `frame speaks protocol version 9; this device speaks ${PROTOCOL_VERSION}` });
  });

  test.for([
    ['not a map', [0x83, 1, 2, 3]],
    ['a map without seq', [0xa1, 0x00, 0x02]],
    ['a float value', [0xa2, 0x00, 0x02, 0x01, 0xf9, 0x3c, 0x00]],
    ['an indefinite-length string', [0xa2, 0x00, 0x02, 0x01, 0x5f, 0xff]],
    ['a string longer than the frame', [0xa2, 0x00, 0x02, 0x01, 0x59, 0xff, 0xff]],
    ['a map claiming more entries than bytes', [0xbb, 0, 0, 0, 1, 0, 0, 0, 0]],
  ] as const)('a message that is %s gets ERROR BAD_MESSAGE', ([, cbor], { gateway }) => {
    const r = expectReply(gateway.feed(encodeFrame(Uint8Array.of(PROTOCOL_VERSION, ...cbor)))[0], 'ERROR');
    expect(r.code).toBe(ErrorCode.BAD_MESSAGE);
  });

  test('an unknown message type gets ERROR UNKNOWN_TYPE with its seq', ({ gateway }) => {
    const r = expectReply(gateway.feed(encodeFrame(Uint8Array.of(PROTOCOL_VERSION, 0xa2, 0x00, 0x0c, 0x01, 0x05)))[0], 'ERROR');
    expect(r).toMatchObject({ seq: 5, code: ErrorCode.UNKNOWN_TYPE, text: 'unknown message type 12' });
  });
});
