// Instructions per MAC of each op kind on each board CPU and firmware engine,
// as `npm run bench:firmware -- --json` measures them (QEMU -icount shift=0
// counts instructions). The figures live in instr-per-mac.json under the
// benchmark's own JSON keys; `npm run bench:firmware -- --write-table`
// rewrites that file from a run, so the planner's board speeds and the
// simulator's wasm3 ratio come from one measurement, never typed in.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { OpKind } from '../model/ir.ts';
import type { CONV_1X1 } from '../plan/profiles.ts';

/** The speed keys the benchmark measures (conv: a 3x3 window; conv1x1: 1x1), and the short name its JSON keys use. */
export const MEASURED_KINDS = { CONV_2D: 'conv', CONV_2D_1X1: 'conv1x1', DEPTHWISE_CONV_2D: 'dw', FULLY_CONNECTED: 'fc' } as const satisfies Partial<Record<OpKind | typeof CONV_1X1, string>>;
type MeasuredKind = keyof typeof MEASURED_KINDS;
/** Board CPUs measured, and the prefix of their keys (the M4 came first and has none). */
export const MEASURED_CPUS = { 'Cortex-M4': '', 'Cortex-M3': 'm3_' } as const;
export type MeasuredCpu = keyof typeof MEASURED_CPUS;
export const ENGINES = ['wasm2c', 'wasm3'] as const;
export type BoardEngine = (typeof ENGINES)[number];

export const TABLE_FILE = new URL('./instr-per-mac.json', import.meta.url);

/** The benchmark's JSON key for one figure, e.g. instr_per_mac_conv, wasm3_instr_per_mac_dw, m3_instr_per_mac_fc. */
export function benchKey(cpu: MeasuredCpu, engine: BoardEngine, kind: MeasuredKind): string {
  return `${MEASURED_CPUS[cpu]}${engine === 'wasm3' ? 'wasm3_' : ''}instr_per_mac_${MEASURED_KINDS[kind]}`;
}

/** Every key the table holds: each CPU x engine x measured kind. */
export function tableKeys(): string[] {
  return (Object.keys(MEASURED_CPUS) as MeasuredCpu[]).flatMap((cpu) => ENGINES.flatMap((e) => (Object.keys(MEASURED_KINDS) as MeasuredKind[]).map((k) => benchKey(cpu, e, k))));
}

const tableSchema = z.object({ source: z.string() }).catchall(z.number().positive());
type Table = z.infer<typeof tableSchema>;

let table: Table | undefined;
/** The committed table (read once). */
export function instrTable(): Table {
  table ??= tableSchema.parse(JSON.parse(readFileSync(TABLE_FILE, 'utf8')));
  return table;
}

/**
 * Instructions per MAC per speed key for a CPU and engine; kinds not
 * measured (pooling, softmax, ...) take the 3x3 conv figure. Undefined when
 * the CPU was never measured.
 */
export function instrPerMac(cpu: string, engine: BoardEngine): ({ default: number } & Record<MeasuredKind, number>) | undefined {
  if (!(cpu in MEASURED_CPUS)) return undefined;
  const t = instrTable();
  const per = (k: MeasuredKind) => {
    const v = t[benchKey(cpu as MeasuredCpu, engine, k)];
    if (typeof v !== 'number') throw new Error(`${TABLE_FILE.pathname} has no ${benchKey(cpu as MeasuredCpu, engine, k)}: rewrite it with npm run bench:firmware -- --write-table`);
    return v;
  };
  const out = { CONV_2D: per('CONV_2D'), CONV_2D_1X1: per('CONV_2D_1X1'), DEPTHWISE_CONV_2D: per('DEPTHWISE_CONV_2D'), FULLY_CONNECTED: per('FULLY_CONNECTED') };
  return { default: out.CONV_2D, ...out };
}
