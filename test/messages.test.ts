// The message schema (host/link/messages.ts): round trips of every kind,
// the exact bytes of small messages (worked out from RFC 8949 by hand), and
// decoding errors that name what is wrong in one line.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RequestSigner } from '../host/link/hmac.ts';
import {
  decodeReply, decodeRequest, encodeReply, encodeRequest, ErrorCode, PROTOCOL_VERSION, ProtocolError, TAG_BYTES, type Reply, type Request,
} from '../host/link/messages.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);

const REQUESTS: [string, Request][] = [
  ['HELLO', { type: 'HELLO', seq: 1 }],
  ['PING', { type: 'PING', seq: 2 }],
  ['PROFILE with a MAC count', { type: 'PROFILE', seq: 3, macs: 100000 }],
  ['first LOAD chunk', { type: 'LOAD', seq: 4, frag: 9, offset: 0, data: bytes(0, 1, 0), total: 3, digest: new Uint8Array(32).fill(7), arena: 4096 }],
  ['later LOAD chunk', { type: 'LOAD', seq: 5, frag: 9, offset: 3, data: bytes(255) }],
  ['RUN', { type: 'RUN', seq: 6, frag: 0xffffffff, offset: 0, data: new Uint8Array(300), total: 300 }],
  ['CANCEL', { type: 'CANCEL', seq: 7, frag: 1 }],
  ['UNLOAD', { type: 'UNLOAD', seq: 8, frag: 1 }],
  ['RESET', { type: 'RESET', seq: 9 }],
];

const REPLIES: [string, Reply][] = [
  ['HELLO', {
    type: 'HELLO', seq: 1, version: 3, budget: 65536, engine: 'wasm2c', abi: 0xdeadbeef, window: 1024, clockHz: 1e6, keyed: 1,
    authFailures: 2, counter: 77, badFrames: 3, used: 100, highWater: 200, fragments: [1, 2], overhead: 5000, mesh: 0, session: 9,
  }],
  ['PING', { type: 'PING', seq: 2, clock: 123456789 }],
  ['PROFILE', { type: 'PROFILE', seq: 3, rates: { conv: 1, depthwise: 2, fc: 3, pool: 4, add: 5, softmax: 6 } }],
  ['ACK', { type: 'ACK', seq: 4, frag: 9, next: 600, done: 0 }],
  ['RESULT', { type: 'RESULT', seq: 5, frag: 9, data: bytes(1, 2, 3), highWater: 4096, computeUs: 17 }],
  ['ERROR', { type: 'ERROR', seq: 6, code: 5, text: 'LOAD fragment 1 needs 5104 bytes, 4096 free (budget 4096)' }],
];

describe('round trips', () => {
  it.each(REQUESTS)('request %s', (_, msg) => {
    expect(decodeRequest(encodeRequest(msg))).toEqual(msg);
  });
  it.each(REPLIES)('reply %s', (_, msg) => {
    expect(decodeReply(encodeReply(msg))).toEqual(msg);
  });
});

describe('bytes on the wire', () => {
  it('PING seq 1: version, then map {0: 2, 1: 1}', () => {
    expect(encodeRequest({ type: 'PING', seq: 1 })).toEqual(bytes(PROTOCOL_VERSION, 0xa2, 0x00, 0x02, 0x01, 0x01));
  });
  it('LOAD: keys ascending, data as a plain byte string, seq 300 in two bytes', () => {
    expect(encodeRequest({ type: 'LOAD', seq: 300, frag: 1, offset: 2, data: bytes(0, 9) })).toEqual(
      bytes(PROTOCOL_VERSION, 0xa5, 0x00, 0x04, 0x01, 0x19, 0x01, 0x2c, 0x02, 0x01, 0x03, 0x02, 0x04, 0x42, 0x00, 0x09),
    );
  });
  it('a Buffer is sent as a plain byte string', () => {
    const p = encodeRequest({ type: 'RUN', seq: 1, frag: 1, offset: 0, data: Buffer.from([0xff, 2]) });
    expect(p.subarray(-3)).toEqual(bytes(0x42, 0xff, 0x02));
  });
  it('an Int8Array is refused (cbor-x would tag it): pass a Uint8Array view', () => {
    expect(() => encodeRequest({ type: 'RUN', seq: 1, frag: 1, offset: 0, data: Int8Array.of(-1) as unknown as Uint8Array })).toThrow(
      'RUN: field data: expected a Uint8Array (Buffer or a Uint8Array view)',
    );
  });
});

describe('decoding errors', () => {
  const fail = (payload: Uint8Array) => {
    try {
      decodeReply(payload);
    } catch (e) {
      return e as ProtocolError;
    }
    throw new Error('decoded');
  };

  it('another protocol version is refused naming both versions', () => {
    const e = fail(bytes(PROTOCOL_VERSION + 1, 0xa0));
    expect(e.code).toBe(ErrorCode.BAD_VERSION);
    expect(e.message).toBe(`device speaks protocol version ${PROTOCOL_VERSION + 1}; this side speaks version ${PROTOCOL_VERSION}`);
  });
  it.each([
    ['not CBOR', bytes(PROTOCOL_VERSION, 0x5f), ErrorCode.BAD_MESSAGE, /not valid CBOR/],
    ['not a map', bytes(PROTOCOL_VERSION, 0x01), ErrorCode.BAD_MESSAGE, /not a CBOR map/],
    ['an unknown type', bytes(PROTOCOL_VERSION, 0xa2, 0x00, 0x09, 0x01, 0x01), ErrorCode.UNKNOWN_TYPE, /unknown message type 9/],
    ['a missing field', bytes(PROTOCOL_VERSION, 0xa2, 0x00, 0x02, 0x01, 0x01), ErrorCode.BAD_MESSAGE, /PING: field clock/],
    ['a field of the wrong type', bytes(PROTOCOL_VERSION, 0xa3, 0x00, 0x02, 0x01, 0x01, 0x02, 0x61, 0x78), ErrorCode.BAD_MESSAGE, /PING: field clock/],
    ['a request where a reply is due', encodeRequest({ type: 'RESET', seq: 1 }), ErrorCode.UNKNOWN_TYPE, /unknown message type 8/],
  ])('%s is refused in one line', (_, payload, code, message) => {
    const e = fail(payload);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(e.message).not.toMatch(/\n/);
  });
  it('encoding an invalid message names the field', () => {
    expect(() => encodeRequest({ type: 'LOAD', seq: 1, frag: -1, offset: 0, data: bytes() })).toThrow(/LOAD: field frag/);
  });
});

describe('RequestSigner', () => {
  const key = bytes(...Array.from({ length: 20 }, (_, i) => i + 1));

  it('appends session, counter and tag to authenticated requests: the tag is HMAC-SHA256 of the payload with the tag zeroed', () => {
    const signer = new RequestSigner(key, 7, 41);
    const p = signer.encode({ type: 'CANCEL', seq: 1, frag: 3 });
    const msg = decodeRequest(p);
    expect(msg).toMatchObject({ type: 'CANCEL', session: 7, counter: 42 });
    const zeroed = p.slice();
    zeroed.fill(0, p.length - TAG_BYTES);
    expect(p.subarray(p.length - TAG_BYTES)).toEqual(new Uint8Array(createHmac('sha256', key).update(zeroed).digest()));
    expect(signer.next).toBe(43);
  });

  it('leaves HELLO, PING and PROFILE as they are', () => {
    expect(new RequestSigner(key, 1).encode({ type: 'HELLO', seq: 1 })).toEqual(encodeRequest({ type: 'HELLO', seq: 1 }));
  });

  it.each([[new Uint8Array(0)], [new Uint8Array(65)]])('refuses a key of %s bytes', (k) => {
    expect(() => new RequestSigner(k, 1)).toThrow(/device key must be 1..64 bytes/);
  });

  it('refuses session 0: a keyed device always has a session', () => {
    expect(() => new RequestSigner(key, 0)).toThrow(/session must be an integer in 1\.\./);
  });
});
