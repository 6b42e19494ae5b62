// The message schema of docs/protocol.md section 2, gateway side: named
// TypeScript types, small-integer CBOR keys on the wire (cbor-x), and zod
// validation of everything decoded. The agent (assembly/agent/) implements
// the same tables by hand; test/agent*.test.ts checks they agree.
import { Encoder } from 'cbor-x';
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** Stable numeric error codes (docs/protocol.md); never renumber. */
export const ErrorCode = {
  BAD_MESSAGE: 1,
  BAD_VERSION: 2,
  UNKNOWN_TYPE: 3,
  TOO_LARGE: 4,
  NO_MEMORY: 5,
  AUTH: 6,
  REPLAY: 7,
  NO_FRAGMENT: 8,
  BAD_FRAGMENT: 9,
  BAD_TRANSFER: 10,
  BUSY: 11,
  KERNEL: 12,
  CANCELLED: 13,
  LIMIT: 14,
  TRAP: 15,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;

export function errorCodeName(code: number): ErrorCodeName | undefined {
  return (Object.keys(ErrorCode) as ErrorCodeName[]).find((k) => ErrorCode[k] === code);
}

/** Op types PROFILE measures, in this order. */
export const PROFILE_OPS = ['conv', 'depthwise', 'fc', 'pool', 'add', 'softmax'] as const;
export type ProfileOp = (typeof PROFILE_OPS)[number];

/** Map keys of the tag fields; the tag must be the last entry (docs section 4). */
export const COUNTER_KEY = 22;
export const TAG_KEY = 23;
export const TAG_BYTES = 32;

const uint = z.number().int().nonnegative().max(0xffffffff);
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected a Uint8Array (Buffer or a Uint8Array view)' });
const digest = bytes.refine((b) => b.length === 32, 'must be 32 bytes');
const tag = bytes.refine((b) => b.length === TAG_BYTES, `must be ${TAG_BYTES} bytes`);
const rates = z.preprocess(
  (v) => (v instanceof Map ? Object.fromEntries(v) : v),
  z.object(Object.fromEntries(PROFILE_OPS.map((op) => [op, uint])) as Record<ProfileOp, typeof uint>),
);

interface FieldSpec {
  key: number;
  schema: z.ZodType;
}

/** One message kind: its wire type, who sends it, and its fields by name. */
function kind<const F extends Record<string, readonly [number, z.ZodType]>>(type: number, fields: F) {
  const named = Object.fromEntries(Object.entries(fields).map(([n, [, s]]) => [n, s])) as {
    [K in keyof F]: F[K][1];
  };
  const keys: Record<string, FieldSpec> = {};
  for (const [name, [key, schema]] of Object.entries(fields)) keys[name] = { key, schema };
  return { type, keys, schema: z.object({ seq: uint, ...named }).strict() };
}

const auth = { counter: [COUNTER_KEY, uint.optional()], tag: [TAG_KEY, tag.optional()] } as const;

/** Messages the gateway sends (requests). */
const requests = {
  HELLO: kind(1, {}),
  PING: kind(2, {}),
  PROFILE: kind(3, { macs: [2, uint.optional()] }),
  LOAD: kind(4, {
    frag: [2, uint],
    offset: [3, uint],
    data: [4, bytes],
    total: [5, uint.optional()],
    digest: [6, digest.optional()],
    arena: [7, uint.optional()],
    ...auth,
  }),
  RUN: kind(5, { frag: [2, uint], offset: [3, uint], data: [4, bytes], total: [5, uint.optional()], ...auth }),
  CANCEL: kind(6, { frag: [2, uint], ...auth }),
  UNLOAD: kind(7, { frag: [2, uint], ...auth }),
  RESET: kind(8, { ...auth }),
} as const;

/** Messages a device sends (replies). */
const replies = {
  HELLO: kind(1, {
    version: [2, uint],
    budget: [3, uint],
    engine: [4, z.string()],
    abi: [5, uint],
    window: [6, uint],
    clockHz: [7, uint],
    keyed: [8, uint],
    authFailures: [9, uint],
    counter: [10, uint],
    badFrames: [11, uint],
    used: [12, uint],
    highWater: [13, uint],
    fragments: [14, z.array(uint)],
    overhead: [15, uint],
  }),
  PING: kind(2, { clock: [2, uint] }),
  PROFILE: kind(3, { rates: [2, rates] }),
  ACK: kind(16, { frag: [2, uint.optional()], next: [3, uint.optional()], done: [4, uint.optional()] }),
  RESULT: kind(17, { frag: [2, uint], data: [3, bytes], highWater: [4, uint], computeUs: [5, uint] }),
  ERROR: kind(18, { code: [2, uint], text: [3, z.string()] }),
} as const;

type Table = Record<string, ReturnType<typeof kind>>;
type MessagesOf<T extends Record<string, { schema: z.ZodType }>> = {
  [K in keyof T & string]: { type: K } & z.infer<T[K]['schema']>;
}[keyof T & string];

export type Request = MessagesOf<typeof requests>;
export type Reply = MessagesOf<typeof replies>;
export type RequestOf<K extends Request['type']> = Extract<Request, { type: K }>;
export type ReplyOf<K extends Reply['type']> = Extract<Reply, { type: K }>;

/** A frame that decoded (CRC good) but is not a message of this protocol. */
export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const cbor = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true, mapsAsObjects: false });

function encodeWith(table: Table, msg: { type: string; seq: number } & Record<string, unknown>): Uint8Array {
  const spec = table[msg.type];
  if (!spec) throw new ProtocolError(ErrorCode.UNKNOWN_TYPE, `cannot encode message type ${msg.type} in this direction`);
  const { type: _type, ...fields } = msg;
  const checked = spec.schema.safeParse(fields);
  if (!checked.success) throw new ProtocolError(ErrorCode.BAD_MESSAGE, `${msg.type}: ${formatIssue(checked.error)}`);
  const entries: [number, unknown][] = [
    [0, spec.type],
    [1, msg.seq],
  ];
  for (const [name, { key }] of Object.entries(spec.keys)) {
    let v = fields[name];
    if (v === undefined) continue;
    if (name === 'rates') v = new Map(Object.entries(v as object));
    entries.push([key, v]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  const body = cbor.encode(new Map(entries));
  const payload = new Uint8Array(body.length + 1);
  payload[0] = PROTOCOL_VERSION;
  payload.set(body, 1);
  return payload;
}

function decodeWith(table: Table, payload: Uint8Array, peer: string): { type: string } & Record<string, unknown> {
  if (payload.length < 2) throw new ProtocolError(ErrorCode.BAD_MESSAGE, `frame of ${payload.length} bytes is too short`);
  if (payload[0] !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      ErrorCode.BAD_VERSION,
      `${peer} speaks protocol version ${payload[0]}; this side speaks version ${PROTOCOL_VERSION}`,
    );
  }
  let map: unknown;
  try {
    map = cbor.decode(payload.subarray(1));
  } catch (e) {
    throw new ProtocolError(ErrorCode.BAD_MESSAGE, `message is not valid CBOR: ${(e as Error).message}`);
  }
  if (!(map instanceof Map)) throw new ProtocolError(ErrorCode.BAD_MESSAGE, 'message is not a CBOR map');
  const typeNum = map.get(0);
  const entry = Object.entries(table).find(([, k]) => k.type === typeNum);
  if (!entry) throw new ProtocolError(ErrorCode.UNKNOWN_TYPE, `unknown message type ${String(typeNum)}`);
  const [name, spec] = entry;
  const raw: Record<string, unknown> = { seq: map.get(1) };
  for (const [field, { key }] of Object.entries(spec.keys)) {
    const v = map.get(key);
    if (v !== undefined) raw[field] = v;
  }
  const checked = spec.schema.safeParse(raw);
  if (!checked.success) throw new ProtocolError(ErrorCode.BAD_MESSAGE, `${name}: ${formatIssue(checked.error)}`);
  return { type: name, ...(checked.data as object) };
}

function formatIssue(err: z.ZodError): string {
  const i = err.issues[0];
  return `field ${i.path.join('.') || '(message)'}: ${i.message}`;
}

/** Payload (version byte + CBOR) of a gateway request; frame it with encodeFrame. */
export function encodeRequest(msg: Request): Uint8Array {
  return encodeWith(requests, msg);
}

/** Payload of a device reply (used by tests and tools that play the device). */
export function encodeReply(msg: Reply): Uint8Array {
  return encodeWith(replies, msg);
}

/** Decodes and validates a device's reply; throws ProtocolError with one clear line. */
export function decodeReply(payload: Uint8Array): Reply {
  return decodeWith(replies, payload, 'device') as Reply;
}

/** Decodes and validates a gateway request (the device's view, for tests and tools). */
export function decodeRequest(payload: Uint8Array): Request {
  return decodeWith(requests, payload, 'gateway') as Request;
}

/** Requests a keyed device refuses without a counter and tag. */
export const AUTHENTICATED: ReadonlySet<Request['type']> = new Set(['LOAD', 'RUN', 'CANCEL', 'UNLOAD', 'RESET']);
