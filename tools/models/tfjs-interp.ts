// A second, independent TFLite implementation to check exported files
// against: the TFLite interpreter (C++ compiled to WASM) inside
// @tensorflow/tfjs-tflite, run in a worker thread (tfjs-worker.cjs says why).
// One runtime (one thread, its WASM compiled once) loads any number of models.
// Its kernels are TFLite's optimized ones (XNNPACK for int8), not the
// reference kernels: each op agrees with microsplit within ±1, and the
// differences add up over a deep model.
import { Worker } from 'node:worker_threads';
import type { DType, TensorData } from '../../host/model/ir.ts';

export interface TfliteTensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface TfliteInterpreter {
  readonly inputs: TfliteTensorInfo[];
  readonly outputs: TfliteTensorInfo[];
  /** Runs one inference; inputs in the model's input order, each in its dtype. */
  run(inputs: TensorData[]): Promise<TensorData[]>;
  /** Frees the model (and, for `loadTfliteInterpreter`, its runtime). */
  dispose(): Promise<void>;
}

export interface TfliteRuntime {
  /** Loads a .tflite; rejects with TFLite's reason when it refuses the model. */
  load(model: Uint8Array): Promise<TfliteInterpreter>;
  /** Ends the worker thread and every model in it. */
  close(): Promise<void>;
}

interface WorkerTensor {
  name: string;
  dataType: string;
  shape: number[];
}
interface Reply {
  id: number;
  error?: string;
  log?: string[];
  model?: number;
  inputs?: WorkerTensor[];
  outputs?: WorkerTensor[] | TensorData[];
}

const DTYPES: Record<string, DType> = { int8: 'int8', int16: 'int16', int32: 'int32', float32: 'float32' };

export function startTflite(): TfliteRuntime {
  const worker = new Worker(new URL('./tfjs-worker.cjs', import.meta.url));
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  let nextId = 0;

  /** One line: the failure, then TFLite's first distinct reasons. */
  const fail = (message: string, log: string[] = []) => {
    const reasons = [...new Set(log)];
    const detail = reasons.slice(0, 2).join('; ') + (reasons.length > 2 ? '; ...' : '');
    return new Error(`tfjs-tflite: ${message}${detail ? ` (${detail})` : ''}`);
  };
  worker.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(fail(m.error, m.log));
    else p?.resolve(m);
  });
  worker.on('error', (e) => {
    for (const p of pending.values()) p.reject(fail(e.message));
    pending.clear();
  });
  const request = (message: object, transfer: ArrayBuffer[] = []): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...message }, transfer);
    });

  const info = (t: WorkerTensor): TfliteTensorInfo => {
    const dtype = DTYPES[t.dataType];
    if (!dtype) throw fail(`tensor ${t.name} has type ${t.dataType}, which microsplit has no dtype for`);
    return { name: t.name, dtype, shape: t.shape };
  };

  return {
    async load(model) {
      const r = await request({ load: model });
      const handle = r.model!;
      const inputs = (r.inputs as WorkerTensor[]).map(info);
      const outputs = (r.outputs as WorkerTensor[]).map(info);
      return {
        inputs,
        outputs,
        async run(values) {
          if (values.length !== inputs.length) throw fail(`${values.length} inputs given, the model has ${inputs.length}`);
          return (await request({ run: handle, inputs: values })).outputs as TensorData[];
        },
        async dispose() {
          await request({ free: handle });
        },
      };
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** One model in a runtime of its own; disposing the model ends the runtime. */
export async function loadTfliteInterpreter(model: Uint8Array): Promise<TfliteInterpreter> {
  const runtime = startTflite();
  try {
    const interp = await runtime.load(model);
    return { ...interp, dispose: () => runtime.close() };
  } catch (e) {
    await runtime.close();
    throw e;
  }
}
