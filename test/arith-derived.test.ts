// prepareOp's integers against each vector case's `derived` block, which the
// vectors' authors computed with TFLM's own prepare helpers.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prepareOp, type OpParams } from '../host/model/op-params.ts';
import { refCase } from '../host/model/refcase.ts';

const DIR = new URL('./vectors/tflm/', import.meta.url);

interface RawCase {
  name: string;
  derived?: Record<string, number | number[] | object>;
}

// README "Erratum": this case's derived multiplier used a double product;
// TFLM multiplies the per-tensor FC scales in float32 and gets 1146931193.
const ERRATA: Record<string, Record<string, number[]>> = {
  'fully_connected.json:Representative1x64Input1x16OutputQuantizedInt8': { multiplier_per_channel: [1146931193] },
};

// The five test-derived softmax cases have no derived block; README gives their values.
const SOFTMAX_SCALE_0_1 = { input_multiplier: 1717986944, input_left_shift: 23, diff_min: -248 };

const rows = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((file) => {
    const json = JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as { op: string; cases: RawCase[] };
    return json.cases.map((c) => ({ file, name: c.name, op: json.op, raw: c }));
  });

/** The derived fields a prepared op should reproduce, in the vectors' names. */
function derivedOf(p: OpParams): Record<string, number | number[]> {
  switch (p.kind) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D':
      return {
        multiplier_per_channel: [...p.multipliers],
        shift_per_channel: [...p.shifts],
        activation_min: p.actMin,
        activation_max: p.actMax,
        padding_height: p.padTop,
        padding_width: p.padLeft,
      };
    case 'FULLY_CONNECTED':
      return { multiplier_per_channel: [...p.multipliers], shift_per_channel: [...p.shifts], activation_min: p.actMin, activation_max: p.actMax };
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D':
      return { activation_min: p.actMin, activation_max: p.actMax, padding_height: p.padTop, padding_width: p.padLeft };
    case 'ADD':
      return {
        left_shift: p.leftShift,
        input1_multiplier: p.input1Multiplier,
        input1_shift: p.input1Shift,
        input2_multiplier: p.input2Multiplier,
        input2_shift: p.input2Shift,
        output_multiplier: p.outputMultiplier,
        output_shift: p.outputShift,
        activation_min: p.actMin,
        activation_max: p.actMax,
      };
    case 'SOFTMAX':
      return { input_multiplier: p.inputMultiplier, input_left_shift: p.inputLeftShift, diff_min: p.diffMin };
    default:
      throw new Error(`no derived fields for ${p.kind}`);
  }
}

describe('prepareOp reproduces the derived values of every vector case', () => {
  it.each(rows)('$file $name', ({ file, name, op, raw }) => {
    const p = prepareOp(refCase(op, raw, file).graph, 0);
    const mine = derivedOf(p);
    const given = { ...(op === 'SOFTMAX' && !raw.derived ? SOFTMAX_SCALE_0_1 : raw.derived), ...ERRATA[`${file}:${name}`] };
    const compared = Object.keys(mine).filter((k) => k in given);
    expect(compared.length).toBeGreaterThan(0);
    for (const k of compared) {
      const want = given[k as keyof typeof given] as number | number[];
      // A per-tensor scale is listed once; prepareOp repeats it per channel.
      const expected = Array.isArray(want) && want.length === 1 && Array.isArray(mine[k]) ? (mine[k] as number[]).map(() => want[0]) : want;
      expect(mine[k], k).toEqual(expected);
    }
  });
});
