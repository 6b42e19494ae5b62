// Gateway side of docs/protocol.md section 4: HMAC-SHA256 tags, the
// device's session and the strictly increasing counter a keyed device demands
// on every state-changing request.
import { createHmac } from 'node:crypto';
import { AUTHENTICATED, encodeRequest, TAG_BYTES, type Request } from './messages.ts';

/** HMAC-SHA256 of `data` under `key`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}

const isU32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/**
 * Signs requests for one keyed device in one of its sessions (HELLO
 * `session`). `next` is the counter the next signed request uses; start it
 * above the device's HELLO `counter`.
 */
export class RequestSigner {
  private readonly key: Uint8Array;
  private counter: number;

  constructor(
    key: Uint8Array,
    readonly session: number,
    lastAccepted = 0,
  ) {
    if (key.length < 1 || key.length > 64) throw new RangeError(`device key must be 1..64 bytes, got ${key.length}`);
    if (!isU32(session) || session === 0) throw new RangeError(`device session must be an integer in 1..${0xffffffff}, got ${session}`);
    if (!isU32(lastAccepted) || lastAccepted === 0xffffffff) {
      throw new RangeError(`last accepted counter must be an integer in 0..${0xffffffff - 1}, got ${lastAccepted}`);
    }
    this.key = Uint8Array.from(key);
    this.counter = lastAccepted;
  }

  get next(): number {
    return this.counter + 1;
  }

  /**
   * The payload of `msg`: authenticated kinds get the session, the next
   * counter and their tag (over the payload with the tag zeroed); the others
   * are encoded as is.
   */
  encode(msg: Request): Uint8Array {
    if (!AUTHENTICATED.has(msg.type)) return encodeRequest(msg);
    if (this.counter >= 0xffffffff) throw new RangeError('device counter exhausted in this session; restart the device');
    this.counter++;
    const payload = encodeRequest({ ...msg, session: this.session, counter: this.counter, tag: new Uint8Array(TAG_BYTES) } as Request);
    payload.set(hmacSha256(this.key, payload), payload.length - TAG_BYTES);
    return payload;
  }
}
