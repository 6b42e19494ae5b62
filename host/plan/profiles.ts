// Device profiles: what the planner knows about each device (budget, speed per
// op kind, link to the gateway, energy figures, failure probability). Read from
// JSON and validated with zod; every error is one line naming the field.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeKind } from '../abi/ops/table.ts';
import { OP_KINDS, type OpKind } from '../model/ir.ts';

/** "96K", "1.5M", "65536" or a number -> bytes (K = 1024). */
export function parseBytes(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)[iI]?[bB]?\s*$/.exec(v);
  if (!m) throw new Error(`bad byte size "${v}" (expected e.g. 65536, 64K or 1M)`);
  const mult = m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1024 : 1024 * 1024;
  return Math.round(Number(m[1]) * mult);
}

const bytes = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    const n = parseBytes(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`byte size must be a positive integer, got ${v}`);
    return n;
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
const positive = z.number().positive().finite();
const nonNegative = z.number().nonnegative().finite();

/**
 * Op kinds a device may compute, each with its own optional MAC/s: those with
 * a kernel in the op table (QUANTIZE for its int8 -> int8 requantization;
 * RESHAPE and DEQUANTIZE are the gateway's).
 */
export const DEVICE_OP_KINDS: readonly OpKind[] = OP_KINDS.filter((k) => describeKind(k).opcode !== undefined);

/**
 * The speed key of 1x1 convolutions. Their kernel has no window to walk, so
 * it runs at its own instructions per MAC (on the Cortex-M4 about
 * 4.0 + 43 / input depth: 9.4 at 8 channels, 4.7 at 64, 4.3 at 128, against
 * 4.4 for a 3x3 over 16; npm run bench:firmware); a device may state its rate apart.
 */
export const CONV_1X1 = 'CONV_2D_1X1';
/** What a device's MAC/s are keyed by: its op kinds, and 1x1 convolutions apart from the others. */
export type SpeedKey = OpKind | typeof CONV_1X1;
export const SPEED_KEYS: readonly SpeedKey[] = [...DEVICE_OP_KINDS, CONV_1X1];

/** The speed key of an op of `kind` with a kh x kw window (kinds without one: 0 x 0). */
export function speedKey<K extends string>(kind: K, kh: number, kw: number): K | typeof CONV_1X1 {
  return kind === 'CONV_2D' && kh === 1 && kw === 1 ? CONV_1X1 : kind;
}

/** A rate from MAC/s keyed by speed key: a 1x1 convolution not given takes the convolutions' rate, anything else not given the default. */
export function rateOf(rates: { default: number } & Partial<Record<string, number>>, key: string): number {
  return rates[key] ?? (key === CONV_1X1 ? rates.CONV_2D : undefined) ?? rates.default;
}

export const DeviceProfileSchema = z.strictObject({
  id: z.string().min(1),
  /** Devices of one kind are interchangeable; used to suggest "one more of kind X". */
  kind: z.string().min(1).optional(),
  budget: bytes,
  /** Part of the budget the agent keeps for itself (frame buffers, receive window). */
  reservedBytes: z.number().int().nonnegative().default(0),
  /** MAC/s: `default` for every op kind, overridden per speed key (an op kind, or CONV_2D_1X1). */
  macPerSec: z.strictObject({ default: positive }).catchall(positive),
  link: z.strictObject({
    bytesPerSec: positive,
    latencyS: nonNegative,
    /**
     * The device's receive window W (wire bytes of unacknowledged chunks).
     * Given, a transfer to the device moves at most W bytes per chunk round
     * trip; absent, at the line rate.
     */
    windowBytes: z.number().int().positive().optional(),
  }),
  /**
   * Direct links to other devices (DISNET's mesh), by device id: the rate
   * and latency of a forward from this device to that one. A pair not listed
   * talks through the gateway (two hops on the devices' own links).
   */
  peers: z.record(z.string(), z.strictObject({ bytesPerSec: positive, latencyS: nonNegative })).optional(),
  /**
   * Fixed seconds of every RUN beyond its bytes and MACs: the gateway's and
   * the device's handling of the request and its RESULT (measured by an empty
   * RUN, host/run/measure-links.ts).
   */
  runOverheadS: nonNegative.default(0),
  /**
   * Seconds of the gateway's own work per RUN on this device (encoding and
   * writing its chunks, reading and decoding its acknowledgements and
   * RESULT), measured as the gateway's CPU time per probe RUN. The gateway
   * does one such piece of work at a time: RUNs sent together queue for it.
   */
  gatewayS: nonNegative.default(0),
  energy: z.strictObject({
    joulesPerMac: nonNegative,
    joulesPerByteSent: nonNegative,
    joulesPerByteReceived: nonNegative,
    idleWatts: nonNegative,
  }),
  failureProb: z.number().min(0).max(1).default(0),
});
export type DeviceProfile = z.output<typeof DeviceProfileSchema>;

export const DeviceSetSchema = z
  .strictObject({ devices: z.array(DeviceProfileSchema).min(1) })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.devices.forEach((d, i) => {
      if (seen.has(d.id)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'id'], message: `duplicate device id "${d.id}"` });
      seen.add(d.id);
      for (const peer of Object.keys(d.peers ?? {}))
        if (!s.devices.some((o) => o.id === peer && o.id !== d.id))
          ctx.addIssue({ code: 'custom', path: ['devices', i, 'peers', peer], message: `a direct link to "${peer}", which is not another device of this set` });
      for (const k of Object.keys(d.macPerSec))
        if (k !== 'default' && !(SPEED_KEYS as readonly string[]).includes(k))
          ctx.addIssue({ code: 'custom', path: ['devices', i, 'macPerSec', k], message: `unknown op kind "${k}" (speed keys: ${SPEED_KEYS.join(', ')})` });
    });
  });

/** One line: the first zod issue with its path. */
export function zodLine(where: string, err: z.ZodError): string {
  const i = err.issues[0];
  const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return `${where}: ${path || '(root)'}: ${i.message}`;
}

export function parseDevices(json: unknown, where = 'devices'): DeviceProfile[] {
  const r = DeviceSetSchema.safeParse(json);
  if (!r.success) throw new Error(zodLine(where, r.error));
  return r.data.devices;
}

export function loadDevices(path: string): DeviceProfile[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${path}: cannot read the device file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseDevices(json, path);
}

export function macRate(d: DeviceProfile, key: SpeedKey): number {
  return rateOf(d.macPerSec, key);
}

/** Budget left for fragments once the agent's own share is taken. */
export function usableBytes(d: DeviceProfile): number {
  return d.budget - d.reservedBytes;
}

/**
 * The device `inspect --budget` counts in: only its budget matters for
 * whether a plan fits. The planner falls back on copies of it (with the
 * smallest usable budget of a set) so that `inspect`'s count holds for any set.
 */
export function referenceDevice(budget: number, id = 'dev'): DeviceProfile {
  return {
    id,
    kind: undefined,
    budget,
    reservedBytes: 0,
    runOverheadS: 0,
    gatewayS: 0,
    macPerSec: { default: 10e6 },
    link: { bytesPerSec: 1e6, latencyS: 0.001 },
    energy: { joulesPerMac: 1e-9, joulesPerByteSent: 5e-8, joulesPerByteReceived: 3e-8, idleWatts: 0.01 },
    failureProb: 0,
  };
}
