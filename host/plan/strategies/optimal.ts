// `optimal`: the exact optimum of microsplit's search space (the same spans,
// splits and share rules, but every subset of devices instead of prefixes),
// as a 0-1 integer program solved by HiGHS. The objective is additive over
// stages (cost.ts), so the program is exact:
//   minimize   Σ_o j_o x_o
//   subject to Σ_{o covering op p} x_o = 1                 for every op p
//              Σ_o params_{o,d} x_o + a_d <= usable_d        for every device d
//              a_d >= Σ_{o of span s} act_{o,d} x_o          for every span s, device d
//              x_o in {0, 1}
// where a_d is device d's activation high-water. Small cases only.
import { createRequire } from 'node:module';
import { assemblePlan, DEFAULT_MAX_FUSE, DEFAULT_MAX_WHOLE, infeasibleError, type PlanRequest } from '../assemble.ts';
import { objectiveFor } from '../cost.ts';
import { spanOptions } from '../options.ts';
import { usableBytes, type DeviceProfile } from '../profiles.ts';
import { fitsAlone, type Option } from '../search.ts';
import { candidateSpans, withChainTails } from '../stages.ts';
import { searchMicrosplit } from './microsplit.ts';
import type { Strategy } from './types.ts';

export const OPTIMAL_MAX_DEVICES = 6;
export const OPTIMAL_MAX_LAYERS = 8;

interface Highs {
  solve(lp: string, opts?: Record<string, unknown>): { Status: string; Columns: Record<string, { Primal: number }> };
}

let solver: Promise<Highs> | undefined;
function highs(): Promise<Highs> {
  solver ??= (createRequire(import.meta.url)('highs') as () => Promise<Highs>)();
  return solver;
}

/** All non-empty subsets of n devices. */
function subsets(n: number): number[][] {
  const out: number[][] = [];
  for (let m = 1; m < 1 << n; m++) out.push(Array.from({ length: n }, (_, i) => i).filter((i) => m & (1 << i)));
  return out;
}

/** CPLEX LP text of the program above; lines are kept short for the reader. */
function lpText(n: number, devices: readonly DeviceProfile[], spanOpts: Option[][]): { lp: string; vars: Option[] } {
  const vars = spanOpts.flat();
  const name = new Map(vars.map((o, i) => [o, `x${i}`]));
  const terms = (ts: string[]) => ts.reduce((acc, t, i) => acc + (i && i % 8 === 0 ? '\n   ' : ' ') + (i ? '+ ' : '') + t, '');
  const num = (v: number) => (Math.abs(v) < 1e-15 ? '0' : v.toPrecision(12));
  const rows: string[] = [];
  for (let p = 0; p < n; p++) {
    const cover = vars.filter((o) => o.choice.span.start <= p && p < o.choice.span.end).map((o) => name.get(o)!);
    rows.push(` cover${p}:${terms(cover)} = 1`);
  }
  devices.forEach((d, di) => {
    const mem = vars.flatMap((o) => o.params.filter(([k]) => k === di).map(([, p]) => `${p} ${name.get(o)}`));
    rows.push(` mem${di}:${terms([...mem, `a${di}`])} <= ${usableBytes(d)}`);
    spanOpts.forEach((opts, si) => {
      const act = opts.flatMap((o) => o.act.filter(([k, a]) => k === di && a > 0).map(([, a]) => `${a} ${name.get(o)}`));
      if (act.length) rows.push(` act${di}_${si}:${terms([`a${di}`, ...act.map((t) => `- ${t}`)]).replace(/\+ - /g, '- ')} >= 0`);
    });
  });
  const lp = [
    'Minimize',
    ` obj:${terms(vars.map((o) => `${num(o.j)} ${name.get(o)}`))}`,
    'Subject To',
    ...rows,
    'Binary',
    ...vars.map((o) => ` ${name.get(o)}`),
    'End',
  ].join('\n');
  return { lp, vars };
}

async function solveOptimal(req: PlanRequest, devices: DeviceProfile[]): Promise<Option[] | null> {
  const g = req.graph;
  const o = objectiveFor(g, devices, req.lambda);
  const spans = withChainTails(g, candidateSpans(g, req.maxFuse ?? DEFAULT_MAX_FUSE, DEFAULT_MAX_WHOLE));
  const all = subsets(devices.length);
  const spanOpts = spans.map((s) => spanOptions(g, devices, o, s, all).filter((opt) => fitsAlone(devices, opt)));
  const { lp, vars } = lpText(g.ops.length, devices, spanOpts);
  const sol = (await highs()).solve(lp, { mip_rel_gap: 0 });
  if (sol.Status !== 'Optimal') return null;
  return vars.filter((_, i) => sol.Columns[`x${i}`]?.Primal > 0.5).sort((a, b) => a.choice.span.start - b.choice.span.start);
}

export const optimal: Strategy = {
  name: 'optimal',
  summary: `exact optimum of the microsplit search space by MILP (HiGHS); up to ${OPTIMAL_MAX_DEVICES} devices and ${OPTIMAL_MAX_LAYERS} layers`,
  async plan(req) {
    const layers = req.graph.ops.length;
    if (req.devices.length > OPTIMAL_MAX_DEVICES || layers > OPTIMAL_MAX_LAYERS)
      throw new Error(`optimal: only for up to ${OPTIMAL_MAX_DEVICES} devices and ${OPTIMAL_MAX_LAYERS} layers (got ${req.devices.length} devices, ${layers} layers)`);
    const best = await solveOptimal(req, req.devices);
    if (best) return assemblePlan(req, 'optimal', best.map((x) => x.choice));
    // The solver proved infeasibility; the explanation and the suggested fix come from the heuristic search.
    const closest = searchMicrosplit(req, req.devices).closest;
    throw infeasibleError(req, 'optimal', closest && assemblePlan(req, 'optimal', closest.map((x) => x.choice)), (devices) =>
      searchMicrosplit({ ...req, devices }, devices).feasible !== null,
    );
  },
};
