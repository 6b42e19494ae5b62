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

export const DeviceProfileSchema = z.strictObject({
  id: z.string().min(1),
  /** Devices of one kind are interchangeable; used to suggest "one more of kind X". */
  kind: z.string().min(1).optional(),
  budget: bytes,
  /** Part of the budget the agent keeps for itself (frame buffers, receive window). */
  reservedBytes: z.number().int().nonnegative().default(0),
  /** MAC/s: `default` for every op kind, overridden per kind. */
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
   * Fixed seconds of every RUN beyond its bytes and MACs: the gateway's and
   * the device's handling of the request and its RESULT (measured by an empty
   * RUN, host/run/measure-links.ts).
   */
  runOverheadS: nonNegative.default(0),
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
      for (const k of Object.keys(d.macPerSec))
        if (k !== 'default' && !(DEVICE_OP_KINDS as readonly string[]).includes(k))
          ctx.addIssue({ code: 'custom', path: ['devices', i, 'macPerSec', k], message: `unknown op kind "${k}"` });
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

export function macRate(d: DeviceProfile, kind: OpKind): number {
  return d.macPerSec[kind] ?? d.macPerSec.default;
}

/** Budget left for fragments once the agent's own share is taken. */
export function usableBytes(d: DeviceProfile): number {
  return d.budget - d.reservedBytes;
}
