// Worker thread hosting @tensorflow/tfjs-tflite for tfjs-interp.ts. The
// package targets browsers; in Node it runs once it believes it is in a web
// worker, so this thread fakes one before loading it:
//  - `self`, `location` and `importScripts` exist; its loader pulls the
//    Emscripten script in with importScripts, emulated by evaluating the file
//    from node_modules in this thread's global scope;
//  - `fetch` of its .wasm is answered from node_modules (Node's fetch has no file: URLs);
//  - `MessageChannel` throws, so its feature probe (run as soon as the package
//    is required) picks the single-threaded build: the threaded one needs real workers;
//  - numThreads is given, since it reads navigator.hardwareConcurrency otherwise.
// The fakes would mislead other Emscripten modules, hence a thread of its own.
// Plain CommonJS so the worker starts without a TypeScript loader.
'use strict';
const { readFileSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');
const { runInThisContext } = require('node:vm');
const { parentPort } = require('node:worker_threads');

const packageDir = dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
const wasmDir = join(packageDir, 'wasm');
const wasmUrl = `file://${wasmDir}/`;
const local = (url) => join(wasmDir, basename(new URL(String(url)).pathname));

const realFetch = globalThis.fetch;
Object.assign(globalThis, {
  self: globalThis,
  location: { origin: 'file://', href: wasmUrl },
  importScripts: (url) => runInThisContext(readFileSync(local(url), 'utf8'), { filename: local(url) }),
  fetch: (url, init) =>
    String(url).startsWith(wasmUrl)
      ? Promise.resolve(new Response(readFileSync(local(url)), { headers: { 'content-type': 'application/wasm' } }))
      : realFetch(url, init),
  MessageChannel: class {
    constructor() {
      throw new Error('threads are not offered to tfjs-tflite');
    }
  },
});

// TFLite reports why it refuses a model on the console (and notes XNNPACK on
// every load): captured here, so a refusal carries its reason in the reply.
const logged = [];
console.log = console.warn = console.error = (...args) => logged.push(args.join(' '));

// The CommonJS build by path: a loader might otherwise pick the ES build.
const tflite = require(join(packageDir, 'dist', 'tf-tflite.node.js'));
tflite.setWasmPath(`${wasmDir}/`);

const info = (t) => ({ name: t.name, dataType: t.dataType, shape: t.shape.split(',').map(Number) });

// Messages: { id, load: Uint8Array } -> { id, model: handle, inputs, outputs };
// { id, run: handle, inputs: TypedArray[] } -> { id, outputs }; { id, free: handle } -> { id };
// any failure -> { id, error, log } (log: TFLite's ERROR lines meanwhile).
const runners = new Map();
let nextHandle = 0;

async function load(bytes) {
  // TFLiteModel.predict speaks tfjs tensors (no int8); the runner underneath takes typed arrays.
  const model = await tflite.loadTFLiteModel(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), { numThreads: 1 });
  const runner = model.modelRunner;
  const handle = nextHandle++;
  runners.set(handle, runner);
  return { model: handle, inputs: runner.getInputs().map(info), outputs: runner.getOutputs().map(info) };
}

function run(handle, inputs) {
  const runner = runners.get(handle);
  runner.getInputs().forEach((t, i) => {
    const dst = t.data();
    if (inputs[i].length !== dst.length) throw new Error(`input ${i} has ${inputs[i].length} values, ${t.name} needs ${dst.length}`);
    dst.set(inputs[i]);
  });
  if (!runner.infer()) throw new Error('inference failed');
  return { outputs: runner.getOutputs().map((t) => t.data().slice()) };
}

function free(handle) {
  runners.get(handle)?.cleanUp();
  runners.delete(handle);
  return {};
}

const ready = tflite.getWasmFeatures().then((features) => {
  if (features.multiThreading) throw new Error('tfjs-tflite chose its multi-threaded build, which cannot run in Node');
});

parentPort.on('message', async (m) => {
  try {
    await ready;
    const reply = 'load' in m ? await load(m.load) : 'run' in m ? run(m.run, m.inputs) : free(m.free);
    logged.length = 0;
    parentPort.postMessage({ id: m.id, ...reply });
  } catch (e) {
    const log = logged.splice(0).filter((l) => l.startsWith('ERROR'));
    parentPort.postMessage({ id: m.id, error: e.message, log });
  }
});
