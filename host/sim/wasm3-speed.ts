// How much slower the kernels run under wasm3 than through wasm2c (the boards'
// 32-bit check): the Cortex-M4's instructions per MAC under each, from the
// table `npm run bench:firmware -- --write-table` writes (instr-per-mac.ts).
// Op kinds not measured take the conv ratio.
import type { OP_KINDS } from '../model/ir.ts';
import { rateOf, type CONV_1X1 } from '../plan/profiles.ts';
import { instrPerMac } from './instr-per-mac.ts';

type Kind = (typeof OP_KINDS)[number] | typeof CONV_1X1;

const wasm2c = instrPerMac('Cortex-M4', 'wasm2c')!;
const wasm3 = instrPerMac('Cortex-M4', 'wasm3')!;
export const WASM3_OVER_WASM2C: Partial<Record<Kind, number>> & { default: number } = {
  default: wasm3.default / wasm2c.default,
  CONV_2D: wasm3.CONV_2D / wasm2c.CONV_2D,
  CONV_2D_1X1: wasm3.CONV_2D_1X1 / wasm2c.CONV_2D_1X1,
  DEPTHWISE_CONV_2D: wasm3.DEPTHWISE_CONV_2D / wasm2c.DEPTHWISE_CONV_2D,
  FULLY_CONNECTED: wasm3.FULLY_CONNECTED / wasm2c.FULLY_CONNECTED,
};

/**
 * A wasm3 device's MAC/s per op kind, from what its chip does through wasm2c
 * (a testbed entry's `speed`): each divided by the measured ratio.
 */
export function wasm3Speed<S extends { default: number } & Partial<Record<Kind, number>>>(speed: S): S {
  const out: Record<string, number> = { default: speed.default / WASM3_OVER_WASM2C.default };
  for (const [k, ratio] of Object.entries(WASM3_OVER_WASM2C)) out[k] = rateOf(speed, k) / ratio;
  for (const [k, v] of Object.entries(speed)) if (!(k in out) && v !== undefined) out[k] = v / WASM3_OVER_WASM2C.default;
  return out as S;
}
