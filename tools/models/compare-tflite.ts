// Runs every bundled model's .tflite through tfjs-tflite and our int8 engine
// on its whole test split and prints the agreement (the numbers reported in
// models/README.md). Usage: npx tsx tools/models/compare-tflite.ts
//   [--engine wasm|oracle] [--limit N] [--only NAME]
// The wasm engine is the default: bit-exact with the oracle and faster.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readBundle } from '../../host/model/bundle.ts';
import { firstN, loadDataset } from '../../host/model/datasets.ts';
import type { Engine } from '../../host/model/engine.ts';
import { oracle } from '../../host/model/oracle.ts';
import { createWasmEngine } from '../../host/model/wasm-engine.ts';
import { RECIPES } from './architectures.ts';
import { MODELS_DIR } from './manifest.ts';
import { tfliteAgreement } from './tflite-agreement.ts';

const { values: o } = parseArgs({ options: { engine: { type: 'string', default: 'wasm' }, limit: { type: 'string' }, only: { type: 'string' } } });
if (o.engine !== 'wasm' && o.engine !== 'oracle') throw new Error(`--engine must be wasm or oracle, got ${o.engine}`);
const engine: Engine = o.engine === 'wasm' ? await createWasmEngine() : oracle;
const limit = o.limit ? Number(o.limit) : Infinity;
const results: Record<string, unknown> = {};
for (const r of RECIPES.filter((x) => !o.only || x.name === o.only)) {
  const graph = readBundle(readFileSync(join(MODELS_DIR, `${r.name}.msb`)));
  const tflite = readFileSync(join(MODELS_DIR, `${r.name}.tflite`));
  const set = firstN(loadDataset(r.dataset, 'test'), limit);
  const t0 = Date.now();
  const a = await tfliteAgreement(graph, tflite, engine, set);
  results[r.name] = a;
  console.log(
    `${r.name}: ${a.images} images, argmax agrees on ${((100 * a.argmaxAgree) / a.images).toFixed(2)}%, ` +
      `${a.differing} of ${a.elements} output values differ, max |diff| ${a.maxAbsDiff} (${engine.name} vs tfjs-tflite, ${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
}
console.log(JSON.stringify(results));
