// The message schema of docs/protocol.md section 2, gateway side: named
// TypeScript types, small-integer CBOR keys on the wire (cbor-x), and zod
// validation of everything decoded. The tables come from spec/abi.json
// (abi.generated.ts), as the agent's keys do; test/agent*.test.ts checks
// the two sides talk.
import { Encoder } from 'cbor-x';
import { z } from 'zod';

import { ERROR_CODES, PROFILE_OPS, PROTOCOL_VERSION, REQUESTS, REPLIES, COMMON_KEYS } from '../abi/abi.generated.ts';

export { PROTOCOL_VERSION, PROFILE_OPS };

/** Stable numeric error codes (docs/protocol.md); never renumber. */
export const ErrorCode = ERROR_CODES;
export type ErrorCodeName = keyof typeof ErrorCode;

export function errorCodeName(code: number): ErrorCodeName | undefined {
  return (Object.keys(ErrorCode) as ErrorCodeName[]).find((k) => ErrorCode[k] === code);
}

export type ProfileOp = (typeof PROFILE_OPS)[number];

/** Map keys of the tag fields; the tag must be the last entry (docs section 4). */
export const COUNTER_KEY = REQUESTS.LOAD.fields.counter.key;
export const TAG_KEY = REQUESTS.LOAD.fields.tag.key;
export const TAG_BYTES = 32;

const uint = z.number().int().nonnegative().max(0xffffffff);
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected a Uint8Array (Buffer or a Uint8Array view)' });
const rates = z.preprocess(
  (v) => (v instanceof Map ? Object.fromEntries(v) : v),
  z.object(Object.fromEntries(PROFILE_OPS.map((op) => [op, uint])) as Record<ProfileOp, typeof uint>),
);

/** The zod schema of each field type of the spec. */
const SCHEMAS = {
  uint,
  text: z.string(),
  bytes,
  bytes32: bytes.refine((b) => b.length === 32, 'must be 32 bytes'),
  'uint[]': z.array(uint),
  rates,
};
type Schemas = typeof SCHEMAS;

interface SpecField {
  readonly key: number;
  readonly type: keyof Schemas;
  readonly optional: boolean;
}
type FieldSchema<F extends SpecField> = F['optional'] extends true ? z.ZodOptional<Schemas[F['type']]> : Schemas[F['type']];

interface FieldSpec {
  key: number;
  schema: z.ZodType;
}

/** One message kind of the generated tables: its wire type and its fields by name, with zod schemas. */
function kind<const F extends Record<string, SpecField>>(m: { readonly type: number; readonly fields: F }) {
  const keys: Record<string, FieldSpec> = {};
  const named: Record<string, z.ZodType> = {};
  for (const [name, f] of Object.entries(m.fields)) {
    const s: z.ZodType = f.optional ? SCHEMAS[f.type].optional() : SCHEMAS[f.type];
    keys[name] = { key: f.key, schema: s };
    named[name] = s;
  }
  const schema = z.object({ seq: uint, ...(named as { [K in keyof F]: FieldSchema<F[K]> }) }).strict();
  return { type: m.type, keys, schema };
}

type Kinds<T extends Record<string, { readonly type: number; readonly fields: Record<string, SpecField> }>> = {
  [K in keyof T]: ReturnType<typeof kind<T[K]['fields']>>;
};
function kinds<T extends Record<string, { readonly type: number; readonly fields: Record<string, SpecField> }>>(table: T): Kinds<T> {
  return Object.fromEntries(Object.entries(table).map(([n, m]) => [n, kind(m)])) as Kinds<T>;
}

/** Messages the gateway sends (requests). */
const requests = kinds(REQUESTS);

/** Messages a device sends (replies). */
const replies = kinds(REPLIES);

type Table = Record<string, { type: number; keys: Record<string, FieldSpec>; schema: z.ZodType }>;
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
    [COMMON_KEYS.type, spec.type],
    [COMMON_KEYS.seq, msg.seq],
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
      `${peer} speaks protocol version ${payload[0]}; this side speaks version ${PROTOCOL_VERSION}` +
        (payload[0] < PROTOCOL_VERSION ? ` (the ${peer} is older: ${peer === 'device' ? 'rebuild its agent and reflash it' : 'update it'})` : ''),
    );
  }
  let map: unknown;
  try {
    map = cbor.decode(payload.subarray(1));
  } catch (e) {
    throw new ProtocolError(ErrorCode.BAD_MESSAGE, `message is not valid CBOR: ${(e as Error).message}`);
  }
  if (!(map instanceof Map)) throw new ProtocolError(ErrorCode.BAD_MESSAGE, 'message is not a CBOR map');
  const typeNum = map.get(COMMON_KEYS.type);
  const entry = Object.entries(table).find(([, k]) => k.type === typeNum);
  if (!entry) throw new ProtocolError(ErrorCode.UNKNOWN_TYPE, `unknown message type ${String(typeNum)}`);
  const [name, spec] = entry;
  const raw: Record<string, unknown> = { seq: map.get(COMMON_KEYS.seq) };
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
export const AUTHENTICATED: ReadonlySet<Request['type']> = new Set(
  (Object.keys(REQUESTS) as Request['type'][]).filter((k) => REQUESTS[k].authenticated),
);
