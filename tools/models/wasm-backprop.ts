// Training a conv layer on the tfjs wasm backend needs two gradient kernels:
// Conv2DBackpropFilter is missing, and the backend's Conv2DBackpropInput is
// a plain loop about 8x slower than its forward Conv2D. Both gradients of a
// stride-1 convolution are themselves convolutions, so they are registered
// here as compositions of kernels the backend has (PadV2, Transpose,
// Reverse, Conv2D): the heavy loop runs in XNNPACK rather than JavaScript.
//
//   dW[kh,kw,ci,co] = sum_{b,y,x} xpad[b, y+kh, x+kw, ci] * dy[b, y, x, co]
//     a VALID conv of xpad seen as [ci, Hp, Wp, B] (batch as channels) with
//     dy seen as a filter [Ho, Wo, B, co]; output [ci, KH, KW, co].
//   dx[b,y,x,ci] = sum_{kh,kw,co} dy[b, y+top-kh, x+left-kw, co] * w[kh,kw,ci,co]
//     a VALID conv of dy padded by (K-1-top, K-1-bottom) with w rotated by
//     180 degrees and its in/out axes swapped.
// Stride 1 and dilation 1 only, which is all the bundled models use.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { useWasmInference } from '../../host/eval/tfjs-model.ts';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Backend = tf.KernelBackend;

function run(name: string, backend: Backend, inputs: Record<string, tf.TensorInfo>, attrs: object): tf.TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`tfjs wasm backend lacks the ${name} kernel`);
  return k.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

function padInfo(xShape: number[], filterShape: number[], attrs: tf.Conv2DBackpropFilterAttrs | tf.Conv2DBackpropInputAttrs) {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1)
    throw new Error(`conv gradient on wasm: only stride 1 is supported, got ${info.strideHeight}x${info.strideWidth}`);
  return info.padInfo;
}

/** Runs `steps` in order, each on the previous result, disposing intermediates. */
function chain(backend: Backend, first: tf.TensorInfo, steps: ((x: tf.TensorInfo) => tf.TensorInfo)[]): tf.TensorInfo {
  let x = first;
  steps.forEach((step, i) => {
    const y = step(x);
    if (i > 0) backend.disposeData(x.dataId);
    x = y;
  });
  return x;
}

function conv2DBackpropFilter({ inputs, backend: b, attrs }: KernelArgs): tf.TensorInfo {
  const backend = b as Backend;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const { top, bottom, left, right } = padInfo(x.shape, a.filterShape, a);
  const dyT = run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
  const dw = chain(backend, x, [
    (t) => run('PadV2', backend, { x: t }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }),
    (t) => run('Transpose', backend, { x: t }, { perm: [3, 1, 2, 0] }),
    (t) => run('Conv2D', backend, { x: t, filter: dyT }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 }),
    (t) => run('Transpose', backend, { x: t }, { perm: [1, 2, 0, 3] }),
  ]);
  backend.disposeData(dyT.dataId);
  return dw;
}

function conv2DBackpropInput({ inputs, backend: b, attrs }: KernelArgs): tf.TensorInfo {
  const backend = b as Backend;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const [kh, kw] = filter.shape;
  const { top, bottom, left, right } = padInfo(a.inputShape, filter.shape, a);
  const wRot = chain(backend, filter, [
    (t) => run('Reverse', backend, { x: t }, { dims: [0, 1] }),
    (t) => run('Transpose', backend, { x: t }, { perm: [0, 1, 3, 2] }),
  ]);
  const dx = chain(backend, dy, [
    (t) => run('PadV2', backend, { x: t }, { paddings: [[0, 0], [kh - 1 - top, kh - 1 - bottom], [kw - 1 - left, kw - 1 - right], [0, 0]], constantValue: 0 }),
    (t) => run('Conv2D', backend, { x: t, filter: wRot }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 }),
  ]);
  backend.disposeData(wRot.dataId);
  return dx;
}

let registered = false;

/** Installs both gradient kernels for the wasm backend (once). */
export function registerWasmBackprop(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel('Conv2DBackpropInput', 'wasm')) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInput });
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter });
}

/** Selects the wasm backend with training support. */
export async function useWasmBackend(): Promise<void> {
  registerWasmBackprop();
  await useWasmInference();
}
