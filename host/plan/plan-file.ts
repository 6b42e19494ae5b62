// The plan file: everything the executor needs to deploy and run a model
// across devices, versioned and validated with zod. Self-sufficient: it
// names the model by hash, lists the devices with their budgets, and spells
// out every fragment's ops, boxes, tiles, replicas and predicted times.
//
// Boxes are half-open [start, end) per axis of the tensor, except for
// FULLY_CONNECTED: its output boxes are in the [batches, units] view and its
// input tiles in the [batches, depth] view (as the oracle and kernels take
// them).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { SPLIT_MODES } from '../abi/ops/descriptor.ts';
import type { Graph } from '../model/ir.ts';
import { DeviceProfileSchema, zodLine } from './profiles.ts';

export const PLAN_FORMAT = 'microsplit-plan';
export const PLAN_VERSION = 1;

const int = z.number().int().nonnegative();
const seconds = z.number().nonnegative().finite();
const BoxSchema = z.strictObject({ start: z.array(int), end: z.array(int) });
const TensorBoxSchema = z.strictObject({ tensor: int, box: BoxSchema });

export const FragmentSchema = z.strictObject({
  id: z.string().min(1),
  stage: int,
  /** Ops in execution order; `tiles` aligns with the op's inputs (null: constant or absent). */
  ops: z.array(z.strictObject({ op: int, out: BoxSchema, tiles: z.array(BoxSchema.nullable()) })).min(1),
  /** Tiles the gateway sends (halo included): the first op's activation inputs. */
  inputs: z.array(TensorBoxSchema),
  /** The box the device returns. */
  output: TensorBoxSchema,
  /** Device ids running it: more than one = replicas, the first valid result wins. */
  devices: z.array(z.string()).min(1),
  /**
   * Routes of its output box (DISNET's mesh, host/plan/routes.ts): bytes
   * [outOffset, outOffset + bytes) of the box go straight to the device of
   * fragment `to`, at `inOffset` of that fragment's input. Whatever no route
   * carries travels through the gateway; the gateway always gets the box too.
   */
  forwards: z.array(z.strictObject({ to: z.string().min(1), outOffset: int, bytes: z.number().int().positive(), inOffset: int })).default([]),
  macs: int,
  paramBytes: int,
  activationBytes: int,
  inBytes: int,
  outBytes: int,
  predicted: z.strictObject({ start: seconds, end: seconds }),
});

export const StageSchema = z.strictObject({
  index: int,
  ops: z.array(int).min(1),
  /** 'gateway': a copy the gateway performs itself (RESHAPE, float QUANTIZE, DEQUANTIZE); no fragments. */
  where: z.enum(['devices', 'gateway']),
  split: z.enum(SPLIT_MODES),
  fragments: z.array(FragmentSchema),
  predicted: z.strictObject({ start: seconds, end: seconds }),
});

export const MemorySchema = z.strictObject({
  device: z.string(),
  budget: int,
  reserved: int,
  paramBytes: int,
  activationBytes: int,
  peak: int,
  regions: z.array(z.strictObject({ fragment: z.string(), what: z.string(), offset: int, size: int })),
});

export const PlanSchema = z
  .strictObject({
    format: z.literal(PLAN_FORMAT),
    version: z.literal(PLAN_VERSION),
    model: z.strictObject({ name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
    strategy: z.strictObject({
      name: z.string(),
      lambda: z.number().min(0).max(1),
      epsilon: z.number().min(0).max(1).nullable(),
      replicas: z.number().int().positive().nullable(),
    }),
    devices: z.array(DeviceProfileSchema).min(1),
    stages: z.array(StageSchema),
    memory: z.array(MemorySchema),
    /** Per device: fragments held, predicted busy seconds (transfers + compute) and energy (active + idle). */
    usage: z.array(z.strictObject({ device: z.string(), fragments: int, busyS: seconds, energyJ: z.number().nonnegative() })),
    predicted: z.strictObject({ makespanS: seconds, energyJ: z.number().nonnegative(), objective: z.number(), lowerBoundS: seconds }),
  })
  .superRefine((p, ctx) => {
    const ids = new Set(p.devices.map((d) => d.id));
    p.stages.forEach((s, si) =>
      s.fragments.forEach((f, fi) =>
        f.devices.forEach((d) => {
          if (!ids.has(d)) ctx.addIssue({ code: 'custom', path: ['stages', si, 'fragments', fi, 'devices'], message: `unknown device "${d}"` });
        }),
      ),
    );
    const fragments = new Set(p.stages.flatMap((s) => s.fragments.map((f) => f.id)));
    p.stages.forEach((s, si) =>
      s.fragments.forEach((f, fi) =>
        f.forwards.forEach((r, ri) => {
          if (!fragments.has(r.to)) ctx.addIssue({ code: 'custom', path: ['stages', si, 'fragments', fi, 'forwards', ri, 'to'], message: `unknown fragment "${r.to}"` });
        }),
      ),
    );
  });

export type Plan = z.output<typeof PlanSchema>;
export type PlanFragment = z.output<typeof FragmentSchema>;
export type PlanStage = z.output<typeof StageSchema>;

/** Ids of the devices that run some fragment of the plan, in the plan's device order (others stay idle). */
export function planDevices(plan: Plan): string[] {
  const used = new Set(plan.stages.flatMap((s) => s.fragments.flatMap((f) => f.devices)));
  return plan.devices.map((d) => d.id).filter((id) => used.has(id));
}

export function parsePlan(json: unknown, where = 'plan'): Plan {
  const r = PlanSchema.safeParse(json);
  if (!r.success) throw new Error(zodLine(where, r.error));
  return r.data;
}

export function readPlan(path: string): Plan {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read the plan (${(e as Error).message})`);
  }
  return parsePlan(json, path);
}

export function writePlan(path: string, plan: Plan): void {
  writeFileSync(path, JSON.stringify(PlanSchema.parse(plan), null, 1) + '\n');
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Identity of a graph without its file: structure, quantization and constant bytes. */
export function graphHash(g: Graph): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ ops: g.ops, inputs: g.inputs, outputs: g.outputs }));
  for (const t of g.tensors) {
    h.update(JSON.stringify({ shape: t.shape, dtype: t.dtype, quant: t.quant ?? null }));
    if (t.data) h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}
