// A keyed device (docs/protocol.md section 4): LOAD, RUN, CANCEL, UNLOAD and
// RESET need an HMAC-SHA256 tag from the device key and a strictly
// increasing counter; every refusal is counted in HELLO.
import { createHmac, randomBytes } from 'node:crypto';
import { Encoder } from 'cbor-x';
import { describe, expect, test } from 'vitest';
import { encodeFrame } from '../host/link/frame.ts';
import { RequestSigner, hmacSha256, replyTagValid, resultBinding, routeKey, signRouted } from '../host/link/hmac.ts';
import { encodeRequest, ErrorCode, PROTOCOL_VERSION, TAG_BYTES, type Request } from '../host/link/messages.ts';
import { fragmentDigest } from '../host/abi/fragment-blob.ts';
import { TestGateway, expectReply } from './agent-fixture.ts';
import { fcFragment } from './agent-fragments.ts';

const KEY = Uint8Array.from(randomBytes(32));
const SESSION = 5;

function keyed(session = SESSION): { gateway: TestGateway; signer: RequestSigner } {
  const signer = new RequestSigner(KEY, session);
  return { gateway: new TestGateway({ key: KEY, session }, signer), signer };
}

/** A LOAD opening a transfer of the FC fragment, unsigned. */
const loadStart = (f = fcFragment()): Request => ({
  type: 'LOAD', seq: 50, frag: 1, offset: 0, data: f.blob.subarray(0, 300), total: f.blob.length, digest: fragmentDigest(f.blob), arena: f.arena,
});

describe('a keyed device', () => {
  test('runs a signed LOAD and RUN, and reports itself keyed', () => {
    const { gateway } = keyed();
    const f = fcFragment();
    expectReply(gateway.load(1, f.blob, f.arena), 'ACK');
    const result = expectReply(gateway.run(1, f.input).at(-1)!, 'RESULT');
    expect(result.data).toEqual(new Uint8Array(f.expected));
    const h = gateway.hello();
    expect(h).toMatchObject({ keyed: 1, authFailures: 0, session: SESSION });
    expect(h.counter).toBeGreaterThan(1);
  });

  test('refuses a LOAD without a tag', () => {
    const { gateway } = keyed();
    const r = expectReply(gateway.feed(encodeFrame(encodeRequest(loadStart())))[0], 'ERROR');
    expect(r).toMatchObject({ seq: 50, code: ErrorCode.AUTH });
    expect(gateway.hello()).toMatchObject({ authFailures: 1, used: 0 });
  });

  test('refuses a LOAD tagged with another key', () => {
    const { gateway } = keyed();
    const other = new RequestSigner(Uint8Array.from(randomBytes(32)), SESSION);
    const r = expectReply(gateway.feed(encodeFrame(other.encode(loadStart())))[0], 'ERROR');
    expect(r).toMatchObject({ code: ErrorCode.AUTH, text: 'tag does not match the device key' });
    expect(gateway.hello()).toMatchObject({ authFailures: 1, used: 0 });
  });

  test('refuses a replayed LOAD, and a counter that went back', () => {
    const { gateway } = keyed();
    const signed = encodeFrame(new RequestSigner(KEY, SESSION, 10).encode(loadStart()));
    expectReply(gateway.feed(signed)[0], 'ACK');
    const replay = expectReply(gateway.feed(signed)[0], 'ERROR');
    expect(replay).toMatchObject({ code: ErrorCode.REPLAY, text: 'counter 11 is not above the last accepted 11' });
    const older = expectReply(gateway.feed(encodeFrame(new RequestSigner(KEY, SESSION, 3).encode(loadStart())))[0], 'ERROR');
    expect(older.code).toBe(ErrorCode.REPLAY);
    expect(gateway.hello()).toMatchObject({ authFailures: 2, counter: 11 });
  });

  test('refuses a LOAD and a RUN recorded before a restart: the new session makes them REPLAY', () => {
    const f = fcFragment();
    const before = keyed(SESSION);
    const load = encodeFrame(
      before.gateway.payload('LOAD', { frag: 1, offset: 0, data: f.blob.subarray(0, 300), total: f.blob.length, digest: fragmentDigest(f.blob), arena: f.arena }),
    );
    expectReply(before.gateway.feed(load)[0], 'ACK');
    expectReply(before.gateway.load(1, f.blob, f.arena), 'ACK');
    const run = encodeFrame(before.gateway.payload('RUN', { frag: 1, offset: 0, data: f.input.subarray(0, 200), total: f.input.length }));
    expect(before.gateway.feed(run)[0].type).toBe('ACK');
    // The restarted device: same key, the next boot's session, counters from 0 again.
    const after = keyed(SESSION + 1);
    for (const frame of [load, run]) {
      const r = expectReply(after.gateway.feed(frame)[0], 'ERROR');
      expect(r).toMatchObject({ code: ErrorCode.REPLAY, text: `session ${SESSION} is not this boot's ${SESSION + 1}` });
    }
    expect(after.gateway.hello()).toMatchObject({ session: SESSION + 1, counter: 0, authFailures: 2, fragments: [] });
  });

  test('tags RESULT, ERROR and HELLO over the reply and what identifies the request (checked with node:crypto)', () => {
    const { gateway, signer } = keyed();
    const f = fcFragment();
    expectReply(gateway.load(1, f.blob, f.arena), 'ACK');
    const replies = gateway.run(1, f.input, 200);
    // One ACK per chunk, then the RESULT.
    const opened = signer.last - (replies.length - 1) + 1;
    expectReply(replies.at(-1)!, 'RESULT');
    const u32 = (...ns: number[]) => Buffer.concat(ns.map((n) => Buffer.from(Uint32Array.of(n).buffer)));
    const expectTag = (payload: Uint8Array, bind: Uint8Array) => {
      const zeroed = payload.slice();
      zeroed.fill(0, payload.length - TAG_BYTES);
      expect(payload.subarray(payload.length - TAG_BYTES)).toEqual(new Uint8Array(createHmac('sha256', KEY).update(zeroed).update(bind).digest()));
    };
    expectTag(gateway.payloads.at(-1)!, Buffer.concat([u32(SESSION, opened, signer.last), fragmentDigest(f.blob)]));
    expectReply(gateway.ask('UNLOAD', { frag: 9 }), 'ERROR');
    expectTag(gateway.payloads.at(-1)!, u32(SESSION, signer.last));
    const nonce = Uint8Array.from(randomBytes(16));
    expect(expectReply(gateway.ask('HELLO', { nonce }), 'HELLO').tag).toBeDefined();
    expectTag(gateway.payloads.at(-1)!, nonce);
    const long = expectReply(gateway.ask('HELLO', { nonce: new Uint8Array(33) }), 'ERROR');
    expect(long).toMatchObject({ code: ErrorCode.BAD_MESSAGE, text: 'HELLO nonce of 33 bytes; at most 32' });
  });

  test('refuses a request without a session', () => {
    const { gateway } = keyed();
    const payload = encodeRequest({ ...loadStart(), counter: 1, tag: new Uint8Array(TAG_BYTES) } as Request);
    payload.set(hmacSha256(KEY, payload), payload.length - TAG_BYTES);
    const r = expectReply(gateway.feed(encodeFrame(payload))[0], 'ERROR');
    expect(r).toMatchObject({ code: ErrorCode.REPLAY, text: 'this device is keyed: the request needs its session' });
  });

  test('refuses a tag that is not the last field, even when it is right', () => {
    const { gateway } = keyed();
    // Tag computed over a map where it comes before the counter: the device only accepts the tag last.
    const msg = new Map<number, unknown>([[0, 4], [1, 1], [2, 1], [3, 64], [4, new Uint8Array(4)], [23, new Uint8Array(TAG_BYTES)], [22, 5]]);
    const body = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true, mapsAsObjects: false }).encode(msg);
    const payload = Uint8Array.of(PROTOCOL_VERSION, ...body);
    // The tag bytes sit before the counter entry's two bytes (key 22, value 5).
    payload.set(hmacSha256(KEY, payload), payload.length - 2 - TAG_BYTES);
    const r = expectReply(gateway.feed(encodeFrame(payload))[0], 'ERROR');
    expect(r.code).toBe(ErrorCode.AUTH);
  });

  test.each([
    ['truncated (31 bytes)', 31],
    ['oversized (33 bytes)', 33],
  ])('refuses a LOAD whose tag is %s, with one clear error', (_, n) => {
    const { gateway } = keyed();
    // Session and counter right, the tag last: only its length is wrong.
    const msg = new Map<number, unknown>([[0, 4], [1, 50], [2, 1], [3, 0], [4, new Uint8Array(4)], [5, 4], [21, SESSION], [22, 1], [23, new Uint8Array(n)]]);
    const payload = Uint8Array.of(PROTOCOL_VERSION, ...new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true, mapsAsObjects: false }).encode(msg));
    payload.set(hmacSha256(KEY, payload).subarray(0, n), payload.length - n);
    const r = expectReply(gateway.feed(encodeFrame(payload))[0], 'ERROR');
    expect(r).toMatchObject({ seq: 50, code: ErrorCode.AUTH, text: 'this device is keyed: the request needs a 32-byte tag as its last field' });
    expect(gateway.hello()).toMatchObject({ authFailures: 1, used: 0 });
  });

  test.each(['RUN', 'CANCEL', 'UNLOAD', 'RESET'] as const)('refuses an unsigned %s', (type) => {
    const { gateway } = keyed();
    const body = type === 'RUN' ? { frag: 1, offset: 0, data: new Uint8Array(1), total: 1 } : type === 'RESET' ? {} : { frag: 1 };
    const r = expectReply(gateway.feed(encodeFrame(encodeRequest({ type, seq: 3, ...body } as never)))[0], 'ERROR');
    expect(r.code).toBe(ErrorCode.AUTH);
  });

  test('answers HELLO, PING and PROFILE without a tag', () => {
    const { gateway } = keyed();
    expect(gateway.feed(encodeFrame(encodeRequest({ type: 'PING', seq: 1 })))[0].type).toBe('PING');
    expect(gateway.hello().authFailures).toBe(0);
  });
});

describe('an unkeyed device', () => {
  test('refuses sealed data: it has no key to open it', () => {
    const gateway = new TestGateway({});
    const f = fcFragment();
    const r = expectReply(gateway.ask('LOAD', { frag: 1, offset: 0, data: f.blob.subarray(0, 100), total: f.blob.length, digest: fragmentDigest(f.blob), arena: f.arena, sealed: 1 }), 'ERROR');
    expect(r).toMatchObject({ code: ErrorCode.BAD_MESSAGE, text: 'sealed data needs a keyed device' });
  });

  test('ignores tags and counters', () => {
    const gateway = new TestGateway({}, new RequestSigner(KEY, SESSION));
    const f = fcFragment();
    expectReply(gateway.load(1, f.blob, f.arena), 'ACK');
    expect(gateway.hello()).toMatchObject({ keyed: 0, counter: 0 });
  });
});

describe('a keyed device, chunks another device forwarded (docs/protocol.md section 3)', () => {
  /** Opens run `run` of the FC fragment with the gateway's signed chunk of bytes [0, 32), and returns the signed RUN's counter. */
  function openRun(gateway: TestGateway, signer: RequestSigner, f: ReturnType<typeof fcFragment>, run: number): number {
    expectReply(gateway.load(1, f.blob, f.arena), 'ACK');
    const ack = expectReply(gateway.feed(encodeFrame(signer.encode({ type: 'RUN', seq: 60, frag: 1, offset: 0, data: f.input.subarray(0, 32), total: 64, run })))[0], 'ACK');
    expect(ack).toMatchObject({ next: 32, done: 0 });
    return signer.last;
  }
  const rest = (f: ReturnType<typeof fcFragment>, run: number) => ({ type: 'RUN' as const, seq: 0x80000001, frag: 1, offset: 32, data: f.input.subarray(32), total: 64, from: 32, run });

  test('take a chunk tagged under the run\'s route key; its RESULT binds the gateway\'s opening counter and no completing one', () => {
    const { gateway, signer } = keyed();
    const f = fcFragment();
    const opened = openRun(gateway, signer, f, 9);
    const replies = gateway.feed(encodeFrame(signRouted(routeKey(KEY, SESSION, 9), rest(f, 9))));
    const result = expectReply(replies.at(-1)!, 'RESULT');
    expect(result.data).toEqual(new Uint8Array(f.expected));
    expect(replyTagValid(KEY, gateway.payloads.at(-1)!, result.tag, [resultBinding(SESSION, opened, 0, fragmentDigest(f.blob))])).toBe(true);
  });

  test.each([
    ['forged: tagged under another key', () => routeKey(Uint8Array.from(randomBytes(32)), SESSION, 9), 9, 'tag does not match the route key of run 9'],
    ['of another run', () => routeKey(KEY, SESSION, 8), 9, 'tag does not match the route key of run 9'],
    ['of another session (recorded before a restart)', () => routeKey(KEY, SESSION + 1, 9), 9, 'tag does not match the route key of run 9'],
    ['tagged under the device key itself', () => KEY, 9, 'tag does not match the route key of run 9'],
  ])('refuse a chunk %s, and the input stays incomplete', (_, key, run, text) => {
    const { gateway, signer } = keyed();
    const f = fcFragment();
    openRun(gateway, signer, f, 9);
    const r = expectReply(gateway.feed(encodeFrame(signRouted(key(), rest(f, run))))[0], 'ERROR');
    expect(r).toMatchObject({ code: ErrorCode.AUTH, text });
    expect(gateway.hello().authFailures).toBe(1);
    // The gateway's own chunk still completes the run.
    const done = gateway.feed(encodeFrame(signer.encode({ type: 'RUN', seq: 61, frag: 1, offset: 32, data: f.input.subarray(32), total: 64, from: 32, run: 9 })));
    expect(expectReply(done.at(-1)!, 'RESULT').data).toEqual(new Uint8Array(f.expected));
  });

  test('refuse an untagged forwarded chunk and a sealed one', () => {
    const { gateway, signer } = keyed();
    const f = fcFragment();
    openRun(gateway, signer, f, 9);
    const untagged = expectReply(gateway.feed(encodeFrame(encodeRequest({ ...rest(f, 9), routed: 1 })))[0], 'ERROR');
    expect(untagged).toMatchObject({ code: ErrorCode.AUTH, text: 'this device is keyed: a forwarded chunk needs a 32-byte tag as its last field' });
    const sealed = expectReply(gateway.feed(encodeFrame(encodeRequest({ ...rest(f, 9), routed: 1, sealed: 1 })))[0], 'ERROR');
    expect(sealed).toMatchObject({ code: ErrorCode.BAD_MESSAGE, text: 'a forwarded chunk is not sealed' });
  });
});
