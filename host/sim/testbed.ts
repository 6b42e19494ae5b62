// The testbed file: which simulated devices to start, how fast they compute
// and talk, what they may spend, and which failures to inject. JSON,
// validated with zod; every error names the field.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OP_KINDS } from '../model/ir.ts';
import { CONV_1X1, parseBytes, rateOf } from '../plan/profiles.ts';
import { boardClock, boardSpeed } from './board-clock.ts';
import { boardAgentMemory, QEMU_BOARDS, QEMU_RX_WINDOW, type QemuBoardName } from './qemu.ts';
import { wasm3Speed } from './wasm3-speed.ts';

/** Receive window of simulated devices whose testbed entry names none. */
export const DEFAULT_SIM_WINDOW = 4096;

/** Bytes, as a number or a string like "96K" (K = 1024), as device profiles take them. */
const bytes = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    const n = parseBytes(v);
    if (Number.isInteger(n) && n > 0) return n;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: `expected bytes as a positive integer or a string like "96K", got ${JSON.stringify(v)}` });
  return z.NEVER;
});

const rate = z.number().positive();

/** MAC/s per op kind (and CONV_2D_1X1 for 1x1 convolutions, else CONV_2D's); `default` covers kinds not listed. */
const speed = z
  .object({ default: rate })
  .extend(Object.fromEntries([...OP_KINDS, CONV_1X1].map((k) => [k, rate.optional()])) as Record<(typeof OP_KINDS)[number] | typeof CONV_1X1, z.ZodOptional<typeof rate>>)
  .strict();

const link = z
  .object({
    kind: z.enum(['pty', 'tcp']),
    /** Line rate in bytes/s (a UART at B baud, 8N1, moves B/10 bytes/s). */
    rate,
    /** One-way latency added to every delivery, ms. */
    latencyMs: z.number().nonnegative().default(0),
  })
  .strict();

const energy = z
  .object({
    /** Energy per multiply-accumulate, nanojoules. */
    nJPerMac: z.number().nonnegative(),
    /** Energy per byte sent or received on the link, nanojoules. */
    nJPerByte: z.number().nonnegative(),
    /** Power while idle, milliwatts. */
    idleMw: z.number().nonnegative().default(0),
  })
  .strict();

const probability = z.number().min(0).max(1);

const faults = z
  .object({
    /** The device process exits this many ms after start. */
    crashAtMs: z.number().nonnegative().optional(),
    /** The device process exits after answering this many RUNs (0: when its first RUN arrives). */
    crashAfterRuns: z.number().int().nonnegative().optional(),
    /** From this many ms after start the device stays alive but answers nothing. */
    hangAtMs: z.number().nonnegative().optional(),
    /** Each frame, in either direction, is dropped with this probability. */
    dropP: probability.default(0),
    /** Each frame, in either direction, gets one bit flipped with this probability. */
    corruptP: probability.default(0),
    /** From `atMs` on, compute takes `factor` times longer. */
    slowdown: z.object({ atMs: z.number().nonnegative(), factor: z.number().min(1) }).strict().optional(),
  })
  .strict();

const device = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'ids use letters, digits, ".", "_" and "-"'),
    /**
     * Bytes of memory the device gives the agent: its own static data and
     * receive buffers (HELLO's overhead) and the arena for weights,
     * activations and scratch. A board's image must have this much; a board
     * without it gives all the RAM its image leaves (npm run firmware).
     */
    memory: bytes.optional(),
    /** MAC/s of a simulated device (or of a board without clockHz: then a guess, the board runs as fast as the host lets it). */
    speed: speed.optional(),
    /**
     * A QEMU board's core clock, Hz: the board runs at 1e9 / 2^n instructions
     * per second of wall time (the nearest such rate: board-clock.ts) and its
     * MAC/s are that over the measured instructions per MAC (instr-per-mac.ts).
     */
    clockHz: z.number().positive().optional(),
    link,
    /** The agent's receive window (largest frame it accepts). Default: DEFAULT_SIM_WINDOW; boards: the firmware's. */
    receiveWindow: bytes.optional(),
    energy: energy.optional(),
    faults: faults.optional(),
    /** Run this device as firmware on a QEMU board instead of agent.wasm in Node (host/sim/qemu.ts). */
    board: z.enum(Object.keys(QEMU_BOARDS) as [QemuBoardName, ...QemuBoardName[]]).optional(),
    /**
     * "wasm3": the agent runs under the wasm3 interpreter (in the device
     * process, or the board's wasm3 firmware image; agent-wasm3.wasm, built
     * for size, since wasm3 keeps compiled code in RAM), and `speed` is read as
     * the chip's through wasm2c: the device computes that divided by the
     * measured wasm3/wasm2c ratio (wasm3-speed.ts). Absent: Node's own
     * WebAssembly, or the board's wasm2c image, at `speed`.
     */
    engine: z.enum(['wasm3']).optional(),
    /** A device key (hex) to provision: the device then requires HMAC tags; its session at each start is random. */
    keyHex: z
      .string()
      .regex(/^([0-9a-fA-F]{2})+$/, 'expected hex bytes')
      .optional(),
    /** A key file written by `microsplit provision`; the device counts its boots in `<keyFile>.boot`, its sessions. */
    keyFile: z.string().min(1).optional(),
  })
  .strict()
  .refine((d) => !(d.keyHex && d.keyFile), { message: 'give keyHex or keyFile, not both', path: ['keyFile'] })
  .refine((d) => !(d.board && d.keyHex), { message: 'a board is keyed through keyFile (its key region counts its boots)', path: ['keyHex'] })
  .superRefine((d, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (d.clockHz === undefined) {
      if (!d.speed) issue('speed', d.board ? 'a board needs clockHz (its core clock) or speed' : 'required');
      return;
    }
    if (!d.board) return issue('clockHz', 'only a QEMU board has a clock; a simulated device takes speed');
    if (d.speed) return issue('speed', "give clockHz or speed, not both: a board's MAC/s come from its clock and the measured instructions per MAC");
    const cpu = (QEMU_BOARDS as Record<string, { cpu: string } | undefined>)[d.board]?.cpu;
    if (!cpu) return issue('board', `unknown board ${d.board}; known: ${Object.keys(QEMU_BOARDS).join(', ')}`);
    try {
      boardSpeed(cpu, d.engine ?? 'wasm2c', boardClock(d.clockHz).hz);
    } catch (e) {
      issue('clockHz', (e as Error).message);
    }
  })
  .transform((d) => (d.engine === 'wasm3' && d.speed ? { ...d, speed: wasm3Speed(d.speed) } : d));

export const testbedSchema = z
  .object({
    name: z.string().optional(),
    /** Seed for the failure-injection random numbers, so runs repeat. */
    seed: z.number().int().default(1),
    devices: z.array(device).min(1),
    /**
     * Direct links between devices (DISNET's mesh): each group's devices
     * reach each other at `rate` bytes/s and `latencyMs` one way, and forward
     * output boxes to each other over loopback TCP. Pairs in no group talk
     * through the gateway. Only simulated TCP devices, each in one group; a
     * keyed device forwards only to keyed ones (docs/protocol.md section 3).
     */
    mesh: z
      .array(z.object({ devices: z.array(z.string()).min(2), rate, latencyMs: z.number().nonnegative().default(0) }).strict())
      .optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const grouped = new Set<string>();
    t.mesh?.forEach((m, gi) =>
      m.devices.forEach((id, k) => {
        const issue = (message: string) => ctx.addIssue({ code: 'custom', path: ['mesh', gi, 'devices', k], message });
        const d = t.devices.find((x) => x.id === id);
        if (!d) return issue(`unknown device ${id}`);
        if (grouped.has(id)) return issue(`device ${id} is in two mesh groups`);
        grouped.add(id);
        if (d.link.kind !== 'tcp' || d.board) issue(`device ${id} is not a simulated TCP device: serial links and boards stay star`);
      }),
    );
  })
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    t.devices.forEach((d, i) => {
      if (d.memory === undefined && (!d.board || d.engine === 'wasm3'))
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'memory'], message: 'required (only a wasm2c board may leave it out, to give all its RAM)' });
      if (seen.has(d.id)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'id'], message: `duplicate device id ${d.id}` });
      seen.add(d.id);
    });
  })
  // A board given no memory gives its agent all the RAM its image leaves (from its link map).
  .transform((t) => ({ ...t, devices: t.devices.map((d) => ({ ...d, memory: d.memory ?? boardAgentMemory(d.board!) })) }));

export type Testbed = z.output<typeof testbedSchema>;
export type DeviceSpec = Testbed['devices'][number];
export type FaultSpec = NonNullable<DeviceSpec['faults']>;

/** The mesh group of device `id`: the direct link it forwards over, and its peers. */
export function meshOf(t: Pick<Testbed, 'mesh'>, id: string): { rate: number; latencyMs: number; peers: string[] } | undefined {
  const m = t.mesh?.find((x) => x.devices.includes(id));
  return m && { rate: m.rate, latencyMs: m.latencyMs, peers: m.devices.filter((x) => x !== id) };
}

/** The receive window the device's agent is given: a board's is built into its firmware. */
export function deviceWindow(spec: DeviceSpec): number {
  return spec.board ? QEMU_RX_WINDOW : (spec.receiveWindow ?? DEFAULT_SIM_WINDOW);
}

/**
 * MAC/s per op kind: a simulated device's stated speed, or a board's clock
 * (as QEMU really runs it) over the measured instructions per MAC.
 */
export function deviceSpeed(spec: DeviceSpec): { default: number } & Partial<Record<(typeof OP_KINDS)[number] | typeof CONV_1X1, number>> {
  if (spec.speed) return spec.speed;
  const cpu = (QEMU_BOARDS as Record<string, { cpu: string }>)[spec.board!].cpu;
  return boardSpeed(cpu, spec.engine ?? 'wasm2c', boardClock(spec.clockHz!).hz);
}

/** MAC/s of `spec` for a speed key (an op kind, or CONV_2D_1X1). */
export function macRate(spec: DeviceSpec, key: string): number {
  return rateOf(deviceSpeed(spec), key);
}

/** Validates a testbed object; throws one line naming the first bad field. */
export function parseTestbed(value: unknown, source = 'testbed'): Testbed {
  const r = testbedSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.length ? issue.path.join('.') : '(top level)';
  throw new Error(`${source}: ${path}: ${issue.message}`);
}

/** Reads and validates a testbed JSON file. */
export function loadTestbed(file: string): Testbed {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read testbed ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`testbed ${file} is not valid JSON: ${(e as Error).message}`);
  }
  return parseTestbed(json, file);
}
