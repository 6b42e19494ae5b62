// The report's charts as declarative Vega-Lite specs over the CSV rows: each
// picks the rows it can draw and says, in a sentence, what is missing when
// there are none. Every axis has a title with its unit; every chart says
// how many runs it draws.
import type { TopLevelSpec } from 'vega-lite';
import type { CsvRow } from './csv.ts';

export interface Tables {
  results: CsvRow[];
  devices: CsvRow[];
  trace: CsvRow[];
  stages: CsvRow[];
}

export interface Chart {
  id: string;
  title: string;
  /** What it shows and which runs; shown under the chart. */
  note: string;
  /** The spec, or why it cannot be drawn from these rows. */
  spec?: TopLevelSpec;
  missing?: string;
}

type Datum = Record<string, string | number>;

const num = (v: string | undefined) => (v === undefined || v === '' ? NaN : Number(v));
const has = (r: CsvRow, col: string) => Number.isFinite(num(r[col]));

/** Rows with numbers in `cols`, those columns as numbers. */
function numeric(rows: CsvRow[], cols: string[]): Datum[] {
  return rows.filter((r) => cols.every((c) => has(r, c))).map((r) => ({ ...r, ...Object.fromEntries(cols.map((c) => [c, num(r[c])])) }));
}

/** The strategy as a series label: its replication spelled out. */
const series = (r: CsvRow) => r.strategy + (r.replicas ? ` x${r.replicas}` : '') + (r.epsilon ? ` ε=${r.epsilon}` : '');

const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`;

const WIDTH = 420;
const HEIGHT = 240;

function lineChart(data: Datum[], x: { field: string; title: string }, y: { field: string; title: string }, logX = false): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    height: HEIGHT,
    data: { values: data },
    encoding: {
      x: { field: x.field, type: 'quantitative', title: x.title, scale: logX ? { type: 'log' } : { zero: false } },
      color: { field: 'series', type: 'nominal', title: 'strategy' },
    },
    layer: [
      // The spread of the runs behind each point (other parameters varied), then their mean.
      { mark: { type: 'errorband', extent: 'ci', opacity: 0.15 }, encoding: { y: { field: y.field, type: 'quantitative', title: y.title } } },
      { mark: { type: 'line', point: true }, encoding: { y: { aggregate: 'mean', field: y.field, type: 'quantitative', title: y.title } } },
    ],
  } as TopLevelSpec;
}

/** Runs without injected faults that measured something (the sweeps' baseline). */
function clean(rows: CsvRow[]): CsvRow[] {
  return rows.filter((r) => r.faults === 'none' && has(r, 'measured_ms'));
}

function versus(
  id: string,
  title: string,
  rows: CsvRow[],
  x: { field: string; title: string },
  y: { field: string; title: string },
  what: string,
  opts: { logX?: boolean; needSpread?: boolean } = {},
): Chart {
  const data: Datum[] = numeric(rows, [x.field, y.field]).map((d) => ({ ...d, series: series(d as CsvRow) }));
  const xs = new Set(data.map((d) => d[x.field]));
  if (!data.length) return { id, title, note: '', missing: `No run has both ${x.field} and ${y.field}: ${what}` };
  if (opts.needSpread !== false && xs.size < 2)
    return { id, title, note: '', missing: `Every run has the same ${x.field} (${[...xs][0]}): ${what}` };
  return { id, title, note: `${runs(data.length)}; the line is the mean per strategy, the band its 95% confidence interval over the other parameters.`, spec: lineChart(data, x, y, opts.logX) };
}

/** The run the per-run charts (timeline, memory, bytes) show: fault-free, most fragments. */
export function showcaseRun(t: Tables): CsvRow | undefined {
  const frags = new Map<string, number>();
  for (const r of t.trace) frags.set(r.run_id, (frags.get(r.run_id) ?? 0) + 1);
  const candidates = t.results.filter((r) => frags.has(r.run_id));
  const ranked = [...clean(candidates), ...candidates];
  return ranked.sort((a, b) => Number(clean([b]).length) - Number(clean([a]).length) || (frags.get(b.run_id) ?? 0) - (frags.get(a.run_id) ?? 0))[0];
}

function gantt(t: Tables, run: CsvRow | undefined): Chart {
  const id = 'gantt';
  const title = 'Timeline of one inference per device: predicted beside measured';
  if (!run) return { id, title, note: '', missing: 'No run has a trace (details/trace.csv): every run failed before its first inference.' };
  const rows = t.trace.filter((r) => r.run_id === run.run_id);
  const data = rows.flatMap((r) => [
    { device: r.device, fragment: r.fragment, which: 'predicted', start: num(r.predicted_start_ms), end: num(r.predicted_end_ms), outcome: 'plan' },
    { device: r.device, fragment: r.fragment, which: `measured (${run.mode} time)`, start: num(r.start_ms), end: num(r.end_ms), outcome: r.outcome },
  ]);
  return {
    id,
    title,
    note: `Run ${run.run_id}: ${run.model} on ${run.devices} devices (${run.testbed}), ${series(run)}, ${run.mode} time; first inference, ${rows.length} fragment runs.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: WIDTH + 120,
      height: { step: 26 },
      data: { values: data },
      mark: { type: 'bar', cornerRadius: 2 },
      encoding: {
        y: { field: 'device', type: 'nominal', title: 'device' },
        yOffset: { field: 'which', type: 'nominal' },
        x: { field: 'start', type: 'quantitative', title: 'time since the inference started (ms)' },
        x2: { field: 'end' },
        color: { field: 'which', type: 'nominal', title: 'times' },
        tooltip: [{ field: 'fragment' }, { field: 'start', title: 'start (ms)' }, { field: 'end', title: 'end (ms)' }, { field: 'outcome' }],
      },
    } as TopLevelSpec,
  };
}

function memory(t: Tables, run: CsvRow | undefined): Chart {
  const id = 'memory';
  const title = 'Memory per device: high-water mark, plan peak and budget';
  const rows = run ? t.devices.filter((r) => r.run_id === run.run_id) : [];
  if (!run || !rows.length) return { id, title, note: '', missing: 'No device rows (details/devices.csv) for a completed run.' };
  const data = rows.flatMap((r) => [
    { device: r.device, what: '1 high-water (device)', kib: num(r.high_water) / 1024 },
    { device: r.device, what: '2 plan peak', kib: num(r.plan_peak) / 1024 },
    { device: r.device, what: '3 budget', kib: num(r.budget) / 1024 },
  ]);
  return {
    id,
    title,
    note: `Run ${run.run_id} (${run.devices} devices, ${series(run)}): the device's own high-water mark never above the plan's peak, the peak never above the budget.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: { step: 14 },
      height: HEIGHT,
      data: { values: data },
      mark: 'bar',
      encoding: {
        x: { field: 'device', type: 'nominal', title: 'device' },
        xOffset: { field: 'what', type: 'nominal' },
        y: { field: 'kib', type: 'quantitative', title: 'memory (KiB)' },
        color: { field: 'what', type: 'nominal', title: 'bytes' },
      },
    } as TopLevelSpec,
  };
}

function bytesPerStage(t: Tables, run: CsvRow | undefined): Chart {
  const id = 'bytes';
  const title = 'Bytes on the links per layer (stage) and inference';
  const rows = run ? t.stages.filter((r) => r.run_id === run.run_id) : [];
  if (!run || !rows.length) return { id, title, note: '', missing: 'No stage rows (details/stages.csv) for a completed run.' };
  const data = rows.flatMap((r) => [
    { stage: `${r.stage}: ${r.layers}`, direction: 'to the devices (tiles with halo)', kib: num(r.bytes_to_devices) / 1024 },
    { stage: `${r.stage}: ${r.layers}`, direction: 'back (output boxes)', kib: num(r.bytes_from_devices) / 1024 },
  ]);
  return {
    id,
    title,
    note: `Run ${run.run_id}: tensor payload per stage (a stage may fuse layers); framing and acknowledgements add to it (the run's total wire bytes: ${run.bytes_on_wire} B per inference).`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: WIDTH,
      height: { step: 22 },
      data: { values: data },
      mark: 'bar',
      encoding: {
        y: { field: 'stage', type: 'nominal', title: 'stage: layers', sort: null },
        x: { field: 'kib', type: 'quantitative', title: 'bytes per inference (KiB)', stack: 'zero' },
        color: { field: 'direction', type: 'nominal', title: 'direction' },
      },
    } as TopLevelSpec,
  };
}

function predictedVsMeasured(t: Tables): Chart {
  const id = 'predicted';
  const title = 'Predicted vs measured latency, every run';
  const data = numeric(t.results, ['predicted_ms', 'measured_ms']);
  if (!data.length) return { id, title, note: '', missing: 'No run has both predicted_ms and measured_ms (every run failed).' };
  const max = Math.max(...data.map((d) => Math.max(d.predicted_ms as number, d.measured_ms as number)));
  return {
    id,
    title,
    note: `${runs(data.length)}; the line is measured = predicted, so the distance from it is the cost model's error.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: WIDTH,
      height: WIDTH,
      layer: [
        { data: { values: [{ a: 0, b: 0 }, { a: max, b: max }] }, mark: { type: 'line', color: '#999', strokeDash: [4, 4] }, encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } },
        {
          data: { values: data },
          mark: { type: 'point', filled: true },
          encoding: {
            x: { field: 'predicted_ms', type: 'quantitative', title: 'predicted latency (ms)' },
            y: { field: 'measured_ms', type: 'quantitative', title: 'measured latency, median (ms)' },
            color: { field: 'mode', type: 'nominal', title: 'mode' },
            shape: { field: 'strategy', type: 'nominal', title: 'strategy' },
            tooltip: [{ field: 'run_id' }, { field: 'strategy' }, { field: 'devices' }, { field: 'cost_model_error' }],
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/** Parameter columns that, with the strategy, make a series whose device count varies. */
const SERIES_KEY = ['experiment', 'mode', 'model', 'testbed', 'heterogeneity', 'link_kind', 'link_rate', 'device_memory', 'device_speed', 'strategy', 'replicas', 'epsilon', 'lambda', 'faults'];

/**
 * Speedup over the fewest devices of the same series (every other
 * parameter equal): DeepThings' figure. A series with one device count has
 * no speedup to show.
 */
function speedup(rows: CsvRow[]): Chart {
  const id = 'speedup-devices';
  const title = 'Speedup vs number of devices (over the fewest devices of the same setup)';
  const groups = new Map<string, Datum[]>();
  for (const d of numeric(rows, ['devices', 'measured_ms'])) {
    const key = SERIES_KEY.map((k) => d[k]).join('|');
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  const data: Datum[] = [];
  for (const g of groups.values()) {
    if (new Set(g.map((d) => d.devices)).size < 2) continue;
    const fewest = g.reduce((a, b) => ((b.devices as number) < (a.devices as number) ? b : a));
    for (const d of g) data.push({ ...d, series: series(d as CsvRow), speedup: (fewest.measured_ms as number) / (d.measured_ms as number), baseline: fewest.devices });
  }
  if (!data.length) return { id, title, note: '', missing: 'No setup was run with more than one device count (all other parameters equal): sweep a device count to draw it.' };
  return {
    id,
    title,
    note: `${runs(data.length)}; each point is the latency on the fewest devices of its setup divided by its own.`,
    spec: lineChart(data, { field: 'devices', title: 'devices' }, { field: 'speedup', title: 'speedup (x, latency on the fewest devices / latency)' }),
  };
}

/** Every chart of the report, in order. */
export function charts(t: Tables): Chart[] {
  const base = clean(t.results);
  const run = showcaseRun(t);
  // Every run that deployed: with faults, an inference may fail (no latency) and still count in the exact share.
  const deployed = t.results.filter((r) => has(r, 'exact_share'));
  const latency = { field: 'measured_ms', title: 'latency, median (ms)' };
  return [
    gantt(t, run),
    versus('latency-devices', 'Latency vs number of devices', base, { field: 'devices', title: 'devices' }, latency, 'sweep a device count to draw it.'),
    speedup(base),
    versus('energy-devices', 'Energy vs number of devices', base, { field: 'devices', title: 'devices' }, { field: 'measured_energy_mj', title: 'energy per inference (mJ)' }, 'sweep a device count to draw it.'),
    versus('latency-link', 'Latency vs link rate', base, { field: 'link_rate', title: 'link rate (bytes/s, log scale)' }, latency, 'sweep generated devices\' link rate to draw it.', { logX: true }),
    versus('energy-lambda', 'Energy vs λ (energy sensitivity)', base, { field: 'lambda', title: 'λ (0 = latency only, 1 = energy only)' }, { field: 'measured_energy_mj', title: 'energy per inference (mJ)' }, 'sweep lambda to draw it.'),
    versus('latency-heterogeneity', 'Latency vs heterogeneity level', base, { field: 'heterogeneity', title: 'heterogeneity level (fastest/slowest = 2^level)' }, latency, 'sweep generated devices\' heterogeneity to draw it.'),
    versus('latency-failures', 'Latency vs failed devices, with and without replication', deployed, { field: 'failed_devices', title: 'failed devices (crashed or hung)' }, latency, 'add fault scenarios that crash or hang devices to draw it.'),
    versus('exact-failures', 'Share of exact outputs vs failed devices', deployed, { field: 'failed_devices', title: 'failed devices (crashed or hung)' }, { field: 'exact_share', title: 'inferences equal to the oracle (share, 0–1)' }, 'add fault scenarios that crash or hang devices to draw it.'),
    memory(t, run),
    bytesPerStage(t, run),
    predictedVsMeasured(t),
  ];
}
