// The experiment report: one self-contained HTML file derived from the CSVs
// alone (so it can be regenerated), with every chart compiled from its
// Vega-Lite spec and rendered to SVG here, at report time, and inlined: the
// file opens from a file:// URL with no script and no network.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { charts, type Chart, type Tables } from './charts.ts';
import { readCsv, type CsvRow } from './csv.ts';
import { DETAIL_NAMES, detailFile, REPORT_HTML, RESULT_COLUMNS, resultsFile } from './files.ts';

export function readTables(dir: string): Tables {
  const results = readCsv(resultsFile(dir)).rows;
  if (!results.length) throw new Error(`${resultsFile(dir)}: no results to report (run \`microsplit experiment SPEC --out ${dir}\` first)`);
  const done = new Set(results.map((r) => r.run_id));
  const details = Object.fromEntries(DETAIL_NAMES.map((n) => [n, readCsv(detailFile(dir, n)).rows.filter((r) => done.has(r.run_id))]));
  return { results, ...details } as Tables;
}

async function renderSvg(chart: Chart): Promise<string> {
  const vg = compile(chart.spec!, { config: { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 } } }).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);

/** The columns of the runs table: parameters that vary, then the measures. */
function tableColumns(rows: CsvRow[]): string[] {
  const measures = ['predicted_ms', 'measured_ms', 'measured_p95_ms', 'measured_energy_mj', 'bytes_on_wire', 'max_peak_over_budget', 'retries', 'failures_survived', 'exact_share', 'cost_model_error', 'error'];
  const params = RESULT_COLUMNS.filter((c) => !measures.includes(c) && c !== 'experiment' && c !== 'wall_ms' && c !== 'predicted_energy_mj' && c !== 'bytes_retransmitted' && c !== 'inferences_ok' && c !== 'exact' && c !== 'memory_ok');
  const varying = params.filter((c) => c === 'run_id' || c === 'mode' || new Set(rows.map((r) => r[c])).size > 1);
  return [...varying, ...measures];
}

function runsTable(rows: CsvRow[]): string {
  const cols = tableColumns(rows);
  const head = cols.map((c) => `<th>${esc(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${cols.map((c) => `<td>${esc(r[c] ?? '')}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The whole HTML page for these tables. */
export async function renderReport(t: Tables, title: string): Promise<string> {
  const figures: string[] = [];
  for (const c of charts(t)) {
    const body = c.spec ? await renderSvg(c) : `<p class="missing">${esc(c.missing ?? 'nothing to draw')}</p>`;
    figures.push(`<figure class="${c.spec ? 'chart' : 'chart-missing'}" data-chart="${c.id}"><h2>${esc(c.title)}</h2>${body}<figcaption>${esc(c.note)}</figcaption></figure>`);
  }
  const modes = new Map<string, number>();
  for (const r of t.results) modes.set(r.mode, (modes.get(r.mode) ?? 0) + 1);
  const failed = t.results.filter((r) => r.measured_ms === '').length;
  const exact = t.results.filter((r) => r.exact === 'true').length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
figure { display: inline-block; vertical-align: top; margin: 0 2em 2em 0; }
figure h2 { font-size: 1.05em; margin: 0 0 0.4em; }
figcaption { font-size: 0.85em; color: #555; max-width: 560px; }
.missing { font-style: italic; color: #a40; max-width: 420px; }
table { border-collapse: collapse; font-size: 0.8em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
</style></head>
<body>
<h1>${esc(title)}</h1>
<p>${t.results.length} runs (${[...modes].map(([m, n]) => `${n} in ${m} time`).join(', ')}); ${exact} with every output equal to the oracle; ${failed} without a measurement (see their error).
Real time: simulated devices in their own processes over PTYs or TCP (or QEMU boards), measured by the wall clock.
Virtual time: the same agent.wasm in process, its link and compute times on a deterministic virtual clock.</p>
${figures.join('\n')}
<h2>Runs</h2>
${runsTable(t.results)}
</body></html>
`;
}

/** Writes DIR/report.html from DIR's CSVs; returns its path. */
export async function writeReport(dir: string): Promise<string> {
  const t = readTables(dir);
  const file = join(dir, REPORT_HTML);
  writeFileSync(file, await renderReport(t, `microsplit experiment: ${t.results[0].experiment}`));
  return file;
}
