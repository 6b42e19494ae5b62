// The experiment spec: which models, device sets, strategies, λ, faults and
// modes to sweep, validated with zod on load (an error names the field), and
// its expansion into runs: the cross product of every axis.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { heterogeneityFactors } from '../plan/synthetic.ts';
import { seededRandom } from '../random.ts';
import { loadTestbed, parseTestbed, type Testbed } from '../sim/testbed.ts';

/** One value or a list of values: a list is an axis of the sweep. */
const axis = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

const positive = z.number().positive();
const unit = z.number().min(0).max(1);

/**
 * Generated devices: `count` devices whose MAC and link rates spread with
 * the heterogeneity level (drawn from the spec's seed), on one kind of link.
 */
const generator = z.strictObject({
  count: axis(z.number().int().min(1).max(1000)),
  /** 0 (identical devices) to 5: MAC rates over [1, 1 + level] x speed, link rates over [1 / (1 + level / 2), 1] x rate (host/plan/synthetic.ts). */
  heterogeneity: axis(z.number().int().min(0).max(5)).default([0]),
  /** Memory budget of every device: bytes or "64K". */
  memory: z.union([z.number().int().positive(), z.string()]),
  /** MAC/s of the slowest device a level allows (all of them at level 0). */
  speed: positive,
  link: z.strictObject({
    kind: z.enum(['pty', 'tcp']).default('pty'),
    /** Bytes per second (a UART at B baud moves B/10). */
    rate: axis(positive),
    latencyMs: z.number().nonnegative().default(0),
  }),
  receiveWindow: z.number().int().min(64).max(65536).optional(),
  energy: z.strictObject({ nJPerMac: z.number().nonnegative(), nJPerByte: z.number().nonnegative(), idleMw: z.number().nonnegative().default(0) }).optional(),
});

const mode = z.enum(['real', 'virtual']);

/** A testbed file or generated devices; `mode` overrides the spec's for these devices. */
const testbedEntry = z.union([
  z.strictObject({ file: z.string(), mode: axis(mode).optional() }),
  z.strictObject({ generate: generator, mode: axis(mode).optional() }),
]);

/** A strategy by name, or with its options (replication). */
const strategy = z.union([
  z.string(),
  z.strictObject({
    name: z.string(),
    replicas: z.number().int().min(1).optional(),
    epsilon: unit.optional(),
  }),
]);

/**
 * One failure injected into `devices` devices: those the plan gives the most
 * fragments (ties by id), so a failure always hits work. Times count from
 * the device's start (its deploy included), as in a testbed's faults;
 * `afterRuns: 0` fails a device at its first RUN, i.e. once deployed.
 */
const injection = z
  .strictObject({
    kind: z.enum(['crash', 'hang', 'slowdown', 'corrupt']),
    devices: z.number().int().min(1),
    atMs: z.number().nonnegative().optional(),
    afterRuns: z.number().int().nonnegative().optional(),
    factor: z.number().min(1).optional(),
    p: unit.optional(),
  })
  .superRefine((f, ctx) => {
    const need = (field: string, ok: boolean, why: string) => ok || ctx.addIssue({ code: 'custom', path: [field], message: why });
    if (f.kind === 'crash') need('atMs', (f.atMs === undefined) !== (f.afterRuns === undefined), 'a crash needs exactly one of atMs and afterRuns');
    if (f.kind === 'hang') need('atMs', f.atMs !== undefined && f.afterRuns === undefined, 'a hang needs atMs (and no afterRuns)');
    if (f.kind === 'slowdown') need('factor', f.factor !== undefined && f.atMs !== undefined, 'a slowdown needs atMs and factor');
    if (f.kind === 'corrupt') need('p', f.p !== undefined, 'a corruption needs p, the probability a frame gets a bit flipped');
  });

/** The axes a sweep may set; each is crossed with the others. */
const axes = {
  /** Model files (.tflite or .msb), relative to the spec file. */
  models: axis(z.string()),
  testbeds: z.array(testbedEntry).min(1),
  strategies: axis(strategy),
  lambda: axis(unit),
  /** Each entry is one fault scenario: a list of injections (empty: none). */
  faults: z.array(z.array(injection)).min(1),
};

export const experimentSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'names use letters, digits, ".", "_" and "-"'),
  /** Seeds the inputs and the testbeds' fault streams. */
  seed: z.number().int().default(1),
  models: axes.models.optional(),
  testbeds: axes.testbeds.optional(),
  strategies: axes.strategies.default(['microsplit']),
  lambda: axes.lambda.default([0]),
  faults: axes.faults.default([[]]),
  /**
   * Several cross products in one spec (one per figure, say): each sweep
   * sets some axes, the others come from the top level. The runs are their
   * union; a run two sweeps share runs once.
   */
  sweeps: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        models: axes.models.optional(),
        testbeds: axes.testbeds.optional(),
        strategies: axes.strategies.optional(),
        lambda: axes.lambda.optional(),
        faults: axes.faults.optional(),
      }),
    )
    .min(1)
    .optional(),
  /** Distinct seeded random inputs, used in turn by the repetitions. */
  inputs: z.number().int().min(1).default(1),
  /** Inferences per run; measured_ms is their median (and p95). */
  repetitions: z.number().int().min(1).default(3),
  /** 'real': devices in their own processes over PTYs/TCP, or QEMU boards; 'virtual': in process on a virtual clock. */
  mode: axis(mode).default(['virtual']),
  /** A run still going after this long is stopped and its row says so. */
  runTimeoutS: positive.default(600),
}).superRefine((spec, ctx) => {
  for (const [k, sw] of (spec.sweeps ?? [{}]).entries())
    for (const field of ['models', 'testbeds'] as const)
      if (!sw[field] && !spec[field])
        ctx.addIssue({ code: 'custom', path: spec.sweeps ? ['sweeps', k, field] : [field], message: `${field} is required (here or at the top level)` });
});

export type ExperimentSpec = z.output<typeof experimentSchema>;
export type Injection = z.output<typeof injection>;
export type Generator = z.output<typeof generator>;

/** Where a run's devices come from, after expansion. */
export type DeviceSource =
  | { kind: 'file'; file: string }
  | { kind: 'generated'; count: number; heterogeneity: number; rate: number; base: Omit<Generator, 'count' | 'heterogeneity' | 'link'> & { link: { kind: 'pty' | 'tcp'; latencyMs: number } } };

/** One run: every parameter it was made from (all of them go into its CSV row). */
export interface RunSpec {
  id: string;
  experiment: string;
  mode: 'real' | 'virtual';
  model: string;
  devices: DeviceSource;
  strategy: string;
  replicas?: number;
  epsilon?: number;
  lambda: number;
  faults: Injection[];
  inputs: number;
  repetitions: number;
  seed: number;
  timeoutS: number;
}

/** Validates a parsed spec; throws one line naming the first bad field. */
export function parseExperiment(value: unknown, source = 'experiment'): ExperimentSpec {
  const r = experimentSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.length ? issue.path.join('.') : '(top level)';
  throw new Error(`${source}: ${path}: ${issue.message}`);
}

/** Reads and validates a spec file; its paths are relative to `baseDir`, its folder. */
export function loadExperiment(file: string): { spec: ExperimentSpec; baseDir: string } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read experiment ${file}: ${(e as Error).message}`);
  }
  return { spec: parseExperiment(json, file), baseDir: dirname(file) };
}

/** A path from the spec, against the spec's folder. */
export const specPath = (baseDir: string, p: string) => (isAbsolute(p) ? p : join(baseDir, p));

/** Every device set of the spec, each with the modes it runs in. */
function sources(spec: ExperimentSpec): { devices: DeviceSource; modes: RunSpec['mode'][] }[] {
  return spec.testbeds!.flatMap((t) => {
    const modes = t.mode ?? spec.mode;
    if ('file' in t) return [{ devices: { kind: 'file', file: t.file } as DeviceSource, modes }];
    const { count, heterogeneity, link, ...rest } = t.generate;
    return count.flatMap((n) =>
      heterogeneity.flatMap((h) =>
        link.rate.map((rate) => ({
          devices: { kind: 'generated', count: n, heterogeneity: h, rate, base: { ...rest, link: { kind: link.kind, latencyMs: link.latencyMs } } } as DeviceSource,
          modes,
        })),
      ),
    );
  });
}

/** A run's id: a hash of its parameters, so it is the same in every shard, order and resumed sweep. */
function runId(r: Omit<RunSpec, 'id'>): string {
  return createHash('sha256').update(JSON.stringify(r)).digest('hex').slice(0, 12);
}

/**
 * Every run of the spec: the cross product of its axes, in a fixed order.
 * Paths stay as the spec writes them (relative to its folder), so run ids
 * do not depend on where the repository lies.
 */
export function expandRuns(spec: ExperimentSpec): RunSpec[] {
  const runs = new Map<string, RunSpec>();
  for (const sweep of spec.sweeps ?? [{}]) {
    const merged = { ...spec, ...Object.fromEntries(Object.entries(sweep).filter(([k]) => k !== 'name')) } as ExperimentSpec;
    for (const r of crossProduct(merged)) if (!runs.has(r.id)) runs.set(r.id, r);
  }
  return [...runs.values()];
}

function crossProduct(spec: ExperimentSpec): RunSpec[] {
  const runs: RunSpec[] = [];
  for (const model of spec.models!)
    for (const { devices, modes } of sources(spec))
      for (const mode of modes)
        for (const s of spec.strategies)
          for (const lambda of spec.lambda)
            for (const faults of spec.faults) {
              const st = typeof s === 'string' ? { name: s } : s;
              const r: Omit<RunSpec, 'id'> = {
                experiment: spec.name,
                mode,
                model,
                devices,
                strategy: st.name,
                ...(st.replicas !== undefined ? { replicas: st.replicas } : {}),
                ...(st.epsilon !== undefined ? { epsilon: st.epsilon } : {}),
                lambda,
                faults,
                inputs: spec.inputs,
                repetitions: spec.repetitions,
                seed: spec.seed,
                timeoutS: spec.runTimeoutS,
              };
              runs.push({ id: runId(r), ...r });
            }
  return runs;
}

/** Runs of shard `index` of `count` (1-based): every count-th run. */
export function shardOf(runs: RunSpec[], index: number, count: number): RunSpec[] {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 1 || index > count)
    throw new Error(`--shard must be i/n with 1 <= i <= n, got ${index}/${count}`);
  return runs.filter((_, k) => k % count === index - 1);
}

/** The testbed a run's devices come from. */
export function testbedOf(src: DeviceSource, seed: number, baseDir: string): Testbed {
  if (src.kind === 'file') return loadTestbed(specPath(baseDir, src.file));
  // The planner benchmarks' definition of a level, from the run's seed.
  const rand = seededRandom(seed);
  const spread = Array.from({ length: src.count }, () => heterogeneityFactors(src.heterogeneity, rand));
  const width = String(src.count).length;
  return parseTestbed(
    {
      name: `${src.count} devices, heterogeneity ${src.heterogeneity}, ${src.base.link.kind} at ${src.rate} B/s`,
      seed,
      devices: spread.map((f, i) => ({
        id: `d${String(i).padStart(width, '0')}`,
        memory: src.base.memory,
        speed: { default: Math.round(src.base.speed * f.speed) },
        link: { kind: src.base.link.kind, rate: Math.round(src.rate / f.rateDivisor), latencyMs: src.base.link.latencyMs },
        ...(src.base.receiveWindow ? { receiveWindow: src.base.receiveWindow } : {}),
        ...(src.base.energy ? { energy: src.base.energy } : {}),
      })),
    },
    'generated testbed',
  );
}
