// A model file -> Graph, by extension: .tflite (TFLite flatbuffer) or .msb
// (microsplit's bundle). Errors are one line naming the file.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { readBundle } from './bundle.ts';
import type { Graph } from './ir.ts';
import { readTflite } from './tflite/read.ts';

/** Each reader throws one line that starts with `path`. */
const READERS: Record<string, (bytes: Uint8Array, path: string) => Graph> = {
  '.tflite': (bytes, path) => {
    try {
      return readTflite(bytes);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
  },
  '.msb': (bytes, path) => readBundle(bytes, path),
};

export const MODEL_FORMATS = Object.keys(READERS);

export async function loadModel(path: string): Promise<Graph> {
  const ext = extname(path).toLowerCase();
  const read = READERS[ext];
  if (!read) throw new Error(`${path}: unknown model format "${ext}" (expected ${MODEL_FORMATS.join(' or ')})`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return read(bytes, path);
}
