// Runs every bundled model's .tflite through tfjs-tflite and our int8 engine
// on its whole test split and prints the agreement, whole model and per op
// (tflite-agreement.ts says what each means), and records the figures in
// models/tflite-agreement.json and the README. Usage:
//   npx tsx tools/models/compare-tflite.ts [--engine wasm|oracle] [--limit N]
//     [--per-op-limit N] [--only NAME]
// Per op (every op's input kept for every image) runs on the first 1,000
// images unless --per-op-limit says otherwise.
// The wasm engine is the default: bit-exact with the oracle and faster.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readBundle } from '../../host/model/bundle.ts';
import { firstN, loadDataset } from '../../host/eval/datasets.ts';
import type { Engine } from '../../host/model/engine.ts';
import { oracle } from '../../host/model/oracle.ts';
import { createWasmEngine } from '../../host/run/wasm-engine.ts';
import { RECIPES } from './architectures.ts';
import { MODELS_DIR, readManifest, readTfliteAgreement, TFLITE_AGREEMENT_PATH, writeManifest } from './manifest.ts';
import { modelAgreement, perOpAgreement } from './tflite-agreement.ts';

const { values: o } = parseArgs({
  options: { engine: { type: 'string', default: 'wasm' }, limit: { type: 'string' }, 'per-op-limit': { type: 'string', default: '1000' }, only: { type: 'string' } },
});
if (o.engine !== 'wasm' && o.engine !== 'oracle') throw new Error(`--engine must be wasm or oracle, got ${o.engine}`);
const engine: Engine = o.engine === 'wasm' ? await createWasmEngine() : oracle;
const limit = o.limit ? Number(o.limit) : Infinity;
const results: Record<string, unknown> = {};
const agreement = readTfliteAgreement();
for (const r of RECIPES.filter((x) => !o.only || x.name === o.only)) {
  const graph = readBundle(readFileSync(join(MODELS_DIR, `${r.name}.msb`)));
  const tflite = readFileSync(join(MODELS_DIR, `${r.name}.tflite`));
  const set = firstN(loadDataset(r.dataset, 'test'), limit);
  const t0 = Date.now();
  const whole = await modelAgreement(graph, tflite, engine, set);
  const opSet = firstN(set, Number(o['per-op-limit']));
  const ops = await perOpAgreement(graph, engine, opSet);
  results[r.name] = { whole, perOp: { images: opSet.count, ops } };
  const sum = (k: 'differing' | 'elements') => ops.reduce((n, d) => n + d[k], 0);
  agreement[r.name] = {
    engine: engine.name,
    whole,
    perOp: { images: opSet.count, maxAbsDiff: Math.max(...ops.map((d) => d.maxAbsDiff)), differing: sum('differing'), elements: sum('elements') },
  };
  writeFileSync(TFLITE_AGREEMENT_PATH, JSON.stringify(agreement, null, 2) + '\n');
  console.log(
    `${r.name}: ${whole.images} images, argmax agrees on ${((100 * whole.argmaxAgree) / whole.images).toFixed(2)}%, ` +
      `${whole.differing} of ${whole.elements} output values differ, max |diff| ${whole.maxAbsDiff} (${engine.name} vs tfjs-tflite, ${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
  console.log(`  per op, same inputs, ${opSet.count} images: ${ops.map((d) => `${d.kind} max ${d.maxAbsDiff} (${d.differing}/${d.elements})`).join(', ')}`);
}
writeManifest(readManifest());
console.log(JSON.stringify(results));
