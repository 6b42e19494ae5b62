// A model file -> Graph, by extension. Errors are one line naming the file.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Graph } from './ir.ts';
import { readTflite } from './tflite/read.ts';

export const MODEL_FORMATS = ['.tflite'] as const;

export async function loadModel(path: string): Promise<Graph> {
  const ext = extname(path).toLowerCase();
  if (!(MODEL_FORMATS as readonly string[]).includes(ext))
    throw new Error(`${path}: unknown model format "${ext}" (expected ${MODEL_FORMATS.join(' or ')})`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return readTflite(bytes);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
