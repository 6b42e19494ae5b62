// Small int8 models built in code, for planner tests and benchmarks: a chain
// of layers described by a list, with seeded random weights and valid
// quantization, validated by the IR.
import { type Activation, type Graph, type Padding, type Tensor } from '../model/ir.ts';
import { validateGraph } from '../model/validate.ts';
import { convOutSize } from '../model/ir.ts';
import type { DeviceProfile } from './profiles.ts';
import { seededRandom } from '../random.ts';

export type LayerSpec =
  | { kind: 'conv'; out: number; k: number; stride?: number; padding?: Padding; dilation?: number }
  | { kind: 'dw'; k: number; stride?: number; padding?: Padding; mult?: number }
  | { kind: 'maxpool' | 'avgpool'; k: number; stride?: number; padding?: Padding }
  /** A residual block: 3x3 SAME conv keeping the channels, then ADD with its input. */
  | { kind: 'residual' }
  | { kind: 'reshape' }
  | { kind: 'fc'; units: number }
  | { kind: 'softmax' };

export interface ModelSpec {
  name: string;
  seed: number;
  /** [H, W, C] of the int8 input. */
  input: [number, number, number];
  layers: LayerSpec[];
}

export function buildModel(spec: ModelSpec): Graph {
  const rand = seededRandom(spec.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const tensors: Tensor[] = [];
  const add = (t: Tensor) => tensors.push(t) - 1;
  const activation = (name: string, shape: number[], scale = 0.02 + rand() * 0.05, zp = int(-20, 20)): number =>
    add({ name, shape, dtype: 'int8', quant: { scale: [scale], zeroPoint: [zp] } });
  const weights = (name: string, shape: number[], channels: number): number => {
    const data = new Int8Array(shape.reduce((a, b) => a * b, 1)).map(() => int(-127, 127));
    const scale = Array.from({ length: channels }, () => 0.002 + rand() * 0.01);
    return add({ name, shape, dtype: 'int8', data, quant: { scale, zeroPoint: scale.map(() => 0), axis: shape.length === 4 && shape[0] === 1 ? 3 : 0 } });
  };
  const bias = (name: string, n: number): number =>
    add({ name, shape: [n], dtype: 'int32', data: new Int32Array(n).map(() => int(-2000, 2000)), quant: { scale: Array(n).fill(1e-4), zeroPoint: Array(n).fill(0) } });

  const [h0, w0, c0] = spec.input;
  let x = activation('input', [1, h0, w0, c0]);
  const ops: Graph['ops'] = [];
  const act: Activation = 'RELU6';
  spec.layers.forEach((l, i) => {
    const [, h, w, c] = tensors[x].shape;
    const stride = 'stride' in l ? (l.stride ?? 1) : 1;
    const padding: Padding = 'padding' in l ? (l.padding ?? 'SAME') : 'SAME';
    let y: number;
    switch (l.kind) {
      case 'conv': {
        const d = l.dilation ?? 1;
        const f = weights(`l${i}.w`, [l.out, l.k, l.k, c], l.out);
        const b = bias(`l${i}.b`, l.out);
        y = activation(`l${i}`, [1, convOutSize(h, l.k, stride, d, padding), convOutSize(w, l.k, stride, d, padding), l.out]);
        ops.push({ kind: 'CONV_2D', inputs: [x, f, b], outputs: [y], padding, strideH: stride, strideW: stride, dilationH: d, dilationW: d, activation: act });
        break;
      }
      case 'dw': {
        const m = l.mult ?? 1;
        const f = weights(`l${i}.w`, [1, l.k, l.k, c * m], c * m);
        const b = bias(`l${i}.b`, c * m);
        y = activation(`l${i}`, [1, convOutSize(h, l.k, stride, 1, padding), convOutSize(w, l.k, stride, 1, padding), c * m]);
        ops.push({ kind: 'DEPTHWISE_CONV_2D', inputs: [x, f, b], outputs: [y], padding, strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, depthMultiplier: m, activation: act });
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const q = tensors[x].quant!;
        y = activation(`l${i}`, [1, convOutSize(h, l.k, stride, 1, padding), convOutSize(w, l.k, stride, 1, padding), c], q.scale[0], q.zeroPoint[0]);
        ops.push({ kind: l.kind === 'maxpool' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D', inputs: [x], outputs: [y], padding, strideH: stride, strideW: stride, filterH: l.k, filterW: l.k, activation: 'NONE' });
        break;
      }
      case 'residual': {
        const f = weights(`l${i}.w`, [c, 3, 3, c], c);
        const b = bias(`l${i}.b`, c);
        const z = activation(`l${i}.conv`, [1, h, w, c]);
        ops.push({ kind: 'CONV_2D', inputs: [x, f, b], outputs: [z], padding: 'SAME', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: act });
        y = activation(`l${i}`, [1, h, w, c]);
        ops.push({ kind: 'ADD', inputs: [x, z], outputs: [y], activation: 'NONE' });
        break;
      }
      case 'reshape': {
        const n = tensors[x].shape.reduce((a, b) => a * b, 1);
        const q = tensors[x].quant!;
        y = activation(`l${i}`, [1, n], q.scale[0], q.zeroPoint[0]);
        ops.push({ kind: 'RESHAPE', inputs: [x], outputs: [y], newShape: [1, n] });
        break;
      }
      case 'fc': {
        const depth = tensors[x].shape[tensors[x].shape.length - 1];
        const f = weights(`l${i}.w`, [l.units, depth], l.units);
        const b = bias(`l${i}.b`, l.units);
        const batches = tensors[x].shape.reduce((a, v) => a * v, 1) / depth;
        y = activation(`l${i}`, [batches, l.units]);
        ops.push({ kind: 'FULLY_CONNECTED', inputs: [x, f, b], outputs: [y], activation: 'NONE', keepNumDims: false });
        break;
      }
      case 'softmax':
        y = add({ name: `l${i}`, shape: [...tensors[x].shape], dtype: 'int8', quant: { scale: [1 / 256], zeroPoint: [-128] } });
        ops.push({ kind: 'SOFTMAX', inputs: [x], outputs: [y], beta: 1 });
        break;
    }
    x = y;
  });
  return validateGraph({ name: spec.name, tensors, ops, inputs: [0], outputs: [x] });
}

/** A random small CNN: convs, depthwise, pools and residual blocks, then often reshape, FC, softmax. */
export function randomModelSpec(seed: number, maxLayers = 6): ModelSpec {
  const rand = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const input: [number, number, number] = [int(4, 14), int(4, 14), int(1, 3)];
  let [h, w] = input;
  const layers: LayerSpec[] = [];
  const spatial = int(1, Math.max(1, maxLayers - 2));
  for (let i = 0; i < spatial; i++) {
    const r = rand();
    const stride = rand() < 0.3 ? 2 : 1;
    const k = int(1, 3);
    // VALID only where it leaves an output.
    const padding: Padding = rand() < 0.7 || k > Math.min(h, w) ? 'SAME' : 'VALID';
    let l: LayerSpec;
    if (r < 0.4) l = { kind: 'conv', out: int(1, 6), k, stride, padding };
    else if (r < 0.65) l = { kind: 'dw', k, stride, padding, mult: int(1, 2) };
    else if (r < 0.85) l = { kind: rand() < 0.5 ? 'maxpool' : 'avgpool', k, stride, padding };
    else l = { kind: 'residual' };
    if (l.kind !== 'residual') {
      h = convOutSize(h, k, stride, 1, padding);
      w = convOutSize(w, k, stride, 1, padding);
    }
    layers.push(l);
  }
  if (rand() < 0.7) layers.push({ kind: 'reshape' }, { kind: 'fc', units: int(1, 8) }, { kind: 'softmax' });
  return { name: `random-${seed}`, seed, input, layers };
}

/** Link classes of the benchmark: serial at 115200 baud and 2 Mbaud (10 bits a byte), WiFi-class 1 MB/s. */
export const LINKS = { 'uart-115200': 11_520, 'uart-2M': 200_000, 'wifi-1MBps': 1_000_000 } as const;
export type LinkClass = keyof typeof LINKS;

/**
 * One device's spread at heterogeneity `level` 0..5 (after RoCoIn's Table
 * IV: each level widens the spread): its MAC rate is the base times `speed`
 * in [1, 1 + level], its link rate the base divided by `rateDivisor` in
 * [1, 1 + level / 2], both drawn from `rand`.
 */
export function heterogeneityFactors(level: number, rand: () => number): { speed: number; rateDivisor: number } {
  const speed = 1 + level * rand();
  return { speed, rateDivisor: 1 + (level / 2) * rand() };
}

/**
 * n devices of heterogeneity `level` (heterogeneityFactors): MAC rates over
 * [1, 1 + level] x 10 M, link rates over [1 / (1 + level / 2), 1] x the class
 * rate, budgets 64 to 96 KiB.
 */
export function syntheticDevices(n: number, level: number, link: LinkClass, seed: number): DeviceProfile[] {
  const rand = seededRandom(seed);
  const budgets = [96, 80, 64].map((k) => k * 1024);
  return Array.from({ length: n }, (_, i) => {
    const f = heterogeneityFactors(level, rand);
    const speed = 10e6 * f.speed;
    const rate = LINKS[link] / f.rateDivisor;
    return {
      id: `d${i}`,
      kind: undefined,
      budget: budgets[i % 3],
      reservedBytes: 0,
      runOverheadS: 0,
      gatewayS: 0,
      macPerSec: { default: speed, DEPTHWISE_CONV_2D: speed * 0.6 },
      link: { bytesPerSec: rate, latencyS: 0.001 },
      energy: { joulesPerMac: 1e-9 * (0.5 + rand()), joulesPerByteSent: 5e-8, joulesPerByteReceived: 3e-8, idleWatts: 0.01 },
      failureProb: 0.01 + 0.04 * rand(),
    };
  });
}

/** A deep chain of `depth` conv/depthwise pairs (MobileNet-like) on a 32x32 input, then FC and softmax. */
export function deepModelSpec(depth: number, seed: number, width = 16): ModelSpec {
  const layers: LayerSpec[] = [{ kind: 'conv', out: width, k: 3, stride: 2 }];
  for (let i = 0; layers.length < depth - 3; i++) {
    layers.push({ kind: 'dw', k: 3, stride: i % 6 === 5 ? 2 : 1 }, { kind: 'conv', out: width * (1 + Math.floor(i / 6)), k: 1 });
  }
  layers.push({ kind: 'reshape' }, { kind: 'fc', units: 10 }, { kind: 'softmax' });
  return { name: `deep-${depth}`, seed, input: [32, 32, 3], layers: layers.slice(0, Math.max(depth, 4)) };
}
