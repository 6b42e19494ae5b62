// How much slower the kernels run under wasm3 than through wasm2c (the boards'
// 32-bit check), measured side by side on the Cortex-M4 by `npm run
// bench:firmware` (QEMU -icount; 2026-12-04): instructions per MAC 64.52 vs
// 5.36 (conv 3x3), 213.69 vs 19.74 (depthwise 3x3), 71.74 vs 5.21 (FC).
// Op kinds not measured take the conv ratio.
import type { OP_KINDS } from '../model/ir.ts';

type Kind = (typeof OP_KINDS)[number];

export const WASM3_OVER_WASM2C: Partial<Record<Kind, number>> & { default: number } = {
  default: 12.04,
  CONV_2D: 12.04,
  DEPTHWISE_CONV_2D: 10.83,
  FULLY_CONNECTED: 13.78,
};

/**
 * A wasm3 device's MAC/s per op kind, from what its chip does through wasm2c
 * (a testbed entry's `speed`): each divided by the measured ratio.
 */
export function wasm3Speed<S extends { default: number } & Partial<Record<Kind, number>>>(speed: S): S {
  const out: Record<string, number> = { default: speed.default / WASM3_OVER_WASM2C.default };
  for (const [k, ratio] of Object.entries(WASM3_OVER_WASM2C)) out[k] = ((speed as Record<string, number | undefined>)[k] ?? speed.default) / ratio;
  for (const [k, v] of Object.entries(speed)) if (!(k in out) && v !== undefined) out[k] = v / WASM3_OVER_WASM2C.default;
  return out as S;
}
