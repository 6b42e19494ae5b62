// Gateway side of docs/protocol.md section 4: HMAC-SHA256 tags, the
// device's session and the strictly increasing counter a keyed device demands
// on every state-changing request.
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { AUTHENTICATED, encodeRequest, TAG_BYTES, type Request } from './messages.ts';

/** HMAC-SHA256 of `data` under `key`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}

const isU32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** Nonce directions of sealed data (docs/protocol.md section 4); TO_HOST seals a route key for a producer's host (section 3). */
export const TO_DEVICE = 0;
export const TO_GATEWAY = 1;
export const TO_HOST = 2;

/** The ChaCha20 key sealed data uses: HMAC-SHA256(device key, "microsplit chacha20"). */
export function sealKey(key: Uint8Array): Uint8Array {
  return hmacSha256(key, new TextEncoder().encode('microsplit chacha20'));
}

/** ChaCha20 (RFC 8439, block counter from 0) of `data` under `key` and the nonce (direction, session, counter). */
export function chacha20(key: Uint8Array, direction: number, session: number, counter: number, data: Uint8Array): Uint8Array {
  // node:crypto's chacha20 IV: the initial block counter (u32 LE), then the 96-bit nonce.
  const cipher = createCipheriv('chacha20', key, u32le(0, direction, session, counter));
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

/**
 * Signs requests for one keyed device in one of its sessions (HELLO
 * `session`). `next` is the counter the next signed request uses; start it
 * above the device's HELLO `counter`.
 */
export class RequestSigner {
  private readonly key: Uint8Array;
  /** Set when LOAD and RUN data are sealed (ChaCha20 under sealKey). */
  private readonly seal?: Uint8Array;
  private counter: number;

  constructor(
    key: Uint8Array,
    readonly session: number,
    lastAccepted = 0,
    sealed = false,
  ) {
    if (key.length < 1 || key.length > 64) throw new RangeError(`device key must be 1..64 bytes, got ${key.length}`);
    if (!isU32(session) || session === 0) throw new RangeError(`device session must be an integer in 1..${0xffffffff}, got ${session}`);
    if (!isU32(lastAccepted) || lastAccepted === 0xffffffff) {
      throw new RangeError(`last accepted counter must be an integer in 0..${0xffffffff - 1}, got ${lastAccepted}`);
    }
    this.key = Uint8Array.from(key);
    this.counter = lastAccepted;
    if (sealed) this.seal = sealKey(this.key);
  }

  get next(): number {
    return this.counter + 1;
  }

  /** The counter of the last signed request. */
  get last(): number {
    return this.counter;
  }

  /**
   * The payload of `msg`: authenticated kinds get the session, the next
   * counter and their tag (over the payload with the tag zeroed; when
   * sealing, over the encrypted data: encrypt-then-MAC); the others are
   * encoded as is.
   */
  encode(msg: Request): Uint8Array {
    if (!AUTHENTICATED.has(msg.type)) return encodeRequest(msg);
    if (this.counter >= 0xffffffff) throw new RangeError('device counter exhausted in this session; restart the device');
    this.counter++;
    const sealed =
      this.seal && (msg.type === 'LOAD' || msg.type === 'RUN')
        ? { sealed: 1, data: chacha20(this.seal, TO_DEVICE, this.session, this.counter, msg.data) }
        : {};
    const payload = encodeRequest({ ...msg, ...sealed, session: this.session, counter: this.counter, tag: new Uint8Array(TAG_BYTES) } as Request);
    payload.set(hmacSha256(this.key, payload), payload.length - TAG_BYTES);
    return payload;
  }
}

/** Little-endian u32s, as the device appends them to what a reply's tag covers. */
function u32le(...ns: number[]): Uint8Array {
  const out = new Uint8Array(4 * ns.length);
  const view = new DataView(out.buffer);
  ns.forEach((n, i) => view.setUint32(4 * i, n, true));
  return out;
}

/** What an ERROR's tag covers after the message: the session and the answered request's counter (0 if it had none). */
export function errorBinding(session: number, counter: number): Uint8Array {
  return u32le(session, counter);
}

/** What a RESULT's tag covers: the session, the counters of the RUN chunks that opened and completed the input, the fragment's digest. */
export function resultBinding(session: number, opened: number, completed: number, digest: Uint8Array): Uint8Array {
  return Uint8Array.from([...u32le(session, opened, completed), ...digest]);
}

/**
 * Checks a keyed device's reply (docs/protocol.md section 4): its tag, the
 * last 32 bytes of the payload, must be HMAC-SHA256(key, payload with them
 * zeroed | binding) for one of the bindings the answered request allows.
 */
export function replyTagValid(key: Uint8Array, payload: Uint8Array, tag: Uint8Array | undefined, bindings: Uint8Array[]): boolean {
  if (!tag || tag.length !== TAG_BYTES || payload.length < 1 + TAG_BYTES) return false;
  const at = payload.length - TAG_BYTES;
  // The decoded tag must be those last bytes: the tag entry ends the map.
  if (!timingSafeEqual(tag, payload.subarray(at))) return false;
  const zeroed = payload.slice();
  zeroed.fill(0, at);
  return bindings.some((b) => timingSafeEqual(createHmac('sha256', key).update(zeroed).update(b).digest(), tag));
}

/** The key a keyed device's forwarded chunks of run `run` are tagged with (docs/protocol.md section 3): HMAC-SHA256(key, "microsplit route" | session | run). */
export function routeKey(key: Uint8Array, session: number, run: number): Uint8Array {
  return hmacSha256(key, Uint8Array.from([...new TextEncoder().encode('microsplit route'), ...u32le(session, run)]));
}

/** The payload of a forwarded RUN chunk (`routed` 1) tagged under a route key, as a producer's host sends it to a keyed consumer. */
export function signRouted(key: Uint8Array, msg: Extract<Request, { type: 'RUN' }>): Uint8Array {
  const payload = encodeRequest({ ...msg, routed: 1, tag: new Uint8Array(TAG_BYTES) });
  payload.set(hmacSha256(key, payload), payload.length - TAG_BYTES);
  return payload;
}
