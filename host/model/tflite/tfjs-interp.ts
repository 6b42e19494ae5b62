// A second, independent TFLite implementation to check exported files
// against: the TFLite interpreter (C++ compiled to WASM) inside
// @tensorflow/tfjs-tflite, run in a worker thread (tfjs-worker.cjs says why).
// Its kernels are TFLite's optimized ones (XNNPACK for int8), not the
// reference kernels, so agreement with microsplit is expected within ±1.
import { Worker } from 'node:worker_threads';
import type { DType, TensorData } from '../ir.ts';

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
  /** Ends the worker thread. */
  dispose(): Promise<void>;
}

interface WorkerTensor {
  name: string;
  dataType: string;
  shape: number[];
}
type Reply =
  | { ready: { inputs: WorkerTensor[]; outputs: WorkerTensor[] } }
  | { id?: number; error: string }
  | { id: number; outputs: TensorData[] };

const DTYPES: Record<string, DType> = { int8: 'int8', int16: 'int16', int32: 'int32', float32: 'float32' };

/** Loads a .tflite into tfjs-tflite's interpreter. Rejects with TFLite's reason when it refuses the model. */
export function loadTfliteInterpreter(model: Uint8Array): Promise<TfliteInterpreter> {
  const worker = new Worker(new URL('./tfjs-worker.cjs', import.meta.url), { workerData: { model }, stdout: true, stderr: true });
  // TFLite logs to the console (XNNPACK notices, model errors): kept for error messages, not printed.
  const log: string[] = [];
  worker.stdout.on('data', (d: Buffer) => log.push(String(d)));
  worker.stderr.on('data', (d: Buffer) => log.push(String(d)));
  const pending = new Map<number, { resolve: (v: TensorData[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;

  return new Promise((resolve, reject) => {
    const fail = (message: string) => {
      const detail = log.join('').split('\n').filter((l) => l.startsWith('ERROR')).join('; ');
      return new Error(`tfjs-tflite: ${message}${detail ? ` (${detail})` : ''}`);
    };
    worker.on('error', (e) => reject(fail(e.message)));
    worker.on('message', (m: Reply) => {
      if ('ready' in m) {
        const info = (t: WorkerTensor): TfliteTensorInfo => {
          const dtype = DTYPES[t.dataType];
          if (!dtype) throw fail(`tensor ${t.name} has type ${t.dataType}, which microsplit has no dtype for`);
          return { name: t.name, dtype, shape: t.shape };
        };
        try {
          const inputs = m.ready.inputs.map(info);
          const outputs = m.ready.outputs.map(info);
          resolve({
            inputs,
            outputs,
            run(values) {
              if (values.length !== inputs.length) return Promise.reject(fail(`${values.length} inputs given, the model has ${inputs.length}`));
              const id = nextId++;
              return new Promise((res, rej) => {
                pending.set(id, { resolve: res, reject: rej });
                worker.postMessage({ id, inputs: values });
              });
            },
            dispose: async () => {
              await worker.terminate();
            },
          });
        } catch (e) {
          void worker.terminate();
          reject(e);
        }
      } else if (m.id === undefined) {
        void worker.terminate();
        reject(fail('error' in m ? m.error : 'unexpected reply'));
      } else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if ('error' in m) p?.reject(fail(m.error));
        else p?.resolve(m.outputs);
      }
    });
  });
}
