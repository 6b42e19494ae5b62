// `microsplit export`: a model (.tflite or .msb) written as a .tflite that
// TFLite and TFLite Micro run, or as microsplit's bundle.
import { Command, Option } from 'commander';
import { writeFile } from 'node:fs/promises';
import { writeBundle } from '../../model/bundle.ts';
import type { Graph } from '../../model/ir.ts';
import { loadModel } from '../../model/load.ts';
import { writeTflite } from '../../model/tflite/write.ts';

const WRITERS: Record<string, (g: Graph) => Uint8Array> = { tflite: writeTflite, bundle: writeBundle };

export function register(program: Command): void {
  program
    .command('export')
    .description('write a model as .tflite or as a microsplit bundle (.msb)')
    .requiredOption('--model <file>', 'model file (.tflite or .msb)')
    .addOption(new Option('--format <format>', 'output format').choices(Object.keys(WRITERS)).makeOptionMandatory())
    .requiredOption('--out <file>', 'file to write')
    .action(async (opts: { model: string; format: string; out: string }) => {
      const bytes = WRITERS[opts.format](await loadModel(opts.model));
      try {
        await writeFile(opts.out, bytes);
      } catch (e) {
        throw new Error(`${opts.out}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      console.log(`wrote ${opts.out}: ${opts.format}, ${bytes.length} bytes`);
    });
}
