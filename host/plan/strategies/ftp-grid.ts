// Baseline `ftp-grid` (DeepThings' fused tile partitioning): each run of
// conv/pool layers is one fused stage cut into a fixed N x M grid of tiles,
// N x M = the number of devices, tile i on device i; every device holds the
// whole stack's weights, so a run is cut where they would not fit the
// smallest device. Other layers run whole on the fastest device that holds
// them, else split by channels equally where the op table allows it.
import { assemblePlan, infeasibleError, type PlanRequest } from '../assemble.ts';
import { fullBox, fuseBackward, gridShape, isSpatial, opSplits, outputView, runsOnGateway } from '../fragments.ts';
import { fragmentParamBytes } from '../layout.ts';
import { worstShortfall } from '../memory.ts';
import { wholeSpanSeconds } from '../options.ts';
import type { Plan } from '../plan-file.ts';
import { usableBytes, type DeviceProfile } from '../profiles.ts';
import { buildStage, chains, gatewayStage, type Span, type StageChoice } from '../stages.ts';
import type { Strategy } from './types.ts';

function planFtpGrid(req: PlanRequest, devices: DeviceProfile[]): Plan {
  const g = req.graph;
  const smallest = Math.min(...devices.map(usableBytes));
  const all = devices.map((_, d) => [d]);
  const grid = gridShape(devices.length);
  const paramsOf = (start: number, end: number) =>
    fragmentParamBytes(g, fuseBackward(g, Array.from({ length: end - start }, (_, k) => start + k), fullBox(outputView(g, end - 1))));
  const stages: StageChoice[] = [];
  for (let i = 0; i < g.ops.length; ) {
    if (isSpatial(g, i)) {
      let j = i + 1;
      // Half the smallest budget for weights leaves the other half to the tiles.
      while (j < g.ops.length && chains(g, j - 1) && isSpatial(g, j) && paramsOf(i, j + 1) <= smallest / 2) j++;
      stages.push(buildStage(g, { start: i, end: j, gateway: false, splits: ['grid'] }, 'grid', all, [], grid));
      i = j;
      continue;
    }
    const span: Span = { start: i, end: i + 1, gateway: false, splits: [] };
    if (runsOnGateway(g, i)) stages.push(gatewayStage({ ...span, gateway: true }));
    else {
      const need = paramsOf(i, i + 1);
      const byTime = devices.map((d, k) => [wholeSpanSeconds(g, span, d), k] as const).sort((a, b) => a[0] - b[0]);
      const fits = byTime.find(([, k]) => need <= usableBytes(devices[k]));
      stages.push(
        fits || !opSplits(g, i).includes('channels')
          ? buildStage(g, span, 'whole', [[fits ? fits[1] : byTime[0][1]]], [1])
          : buildStage(g, span, 'channels', all, devices.map(() => 1)),
      );
    }
    i++;
  }
  return assemblePlan({ ...req, devices }, 'ftp-grid', stages);
}

export const ftpGrid: Strategy = {
  name: 'ftp-grid',
  summary: "baseline (DeepThings' FTP): fused conv/pool stacks on a fixed N x M grid, one tile per device",
  async plan(req) {
    const plan = planFtpGrid(req, req.devices);
    if (!worstShortfall(plan.memory)) return plan;
    throw infeasibleError(req, 'ftp-grid', plan, (devices) => !worstShortfall(planFtpGrid(req, devices).memory));
  },
};
