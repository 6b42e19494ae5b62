// `microsplit eval`: top-1 accuracy of an int8 image classifier on a
// labelled set, next to its float model's when one is bundled
// (models/float/<name>.msf, or build/float/ for models too big to commit).
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatasetName, LabelledImages } from '../../eval/datasets.ts';
import { firstN, loadDataset, readSubset } from '../../eval/datasets.ts';
import type { Engine } from '../../model/engine.ts';
import { loadModel } from '../../model/load.ts';
import { oracle } from '../../model/oracle.ts';
import { createWasmEngine } from '../../run/wasm-engine.ts';
import type { Graph } from '../../model/ir.ts';
import { strategies } from '../../plan/strategies/index.ts';
import { distributedEngine, replanningEngine } from '../../run/distributed-engine.ts';
import { openGateway, type Gateway } from '../gateway.ts';
import { addPlanChoiceOptions, type PlanChoiceFlags } from '../plan-options.ts';
import { addTargetOptions, type TargetFlags } from '../targets.ts';
import { accuracyOf, agreement, classify } from '../../eval/accuracy.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DATASETS: Record<string, { name: DatasetName; title: string }> = {
  mnist: { name: 'mnist', title: 'MNIST test split' },
  fashion: { name: 'fashion', title: 'Fashion-MNIST test split' },
};

interface EvalOptions extends TargetFlags, PlanChoiceFlags {
  model: string;
  progress: boolean;
  replan?: boolean;
  data: string;
  limit?: string;
  engine: string;
  json?: boolean;
}

/** A bundled model's name (mnist-s) or a model file path. */
function modelPath(model: string): string {
  if (extname(model) !== '') return model;
  const bundled = join(ROOT, 'models', `${model}.msb`);
  if (!existsSync(bundled)) throw new Error(`no bundled model named ${model} (and no file extension to read it as a path)`);
  return bundled;
}

/** The float weights of a model file, when they are around. */
function floatPath(path: string): string | undefined {
  const stem = basename(path, extname(path));
  return [join(dirname(path), 'float', `${stem}.msf`), join(ROOT, 'build', 'float', `${stem}.msf`)].find(existsSync);
}

async function loadData(data: string): Promise<{ set: LabelledImages; title: string }> {
  const ds = DATASETS[data];
  if (ds) return { set: loadDataset(ds.name, 'test'), title: ds.title };
  let bytes: Uint8Array;
  try {
    bytes = await readFile(data);
  } catch (e) {
    throw new Error(`--data ${data}: not mnist, fashion or a readable subset file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { set: readSubset(bytes, data), title: data };
}

async function engineNamed(name: string): Promise<Engine> {
  if (name === 'wasm') return createWasmEngine();
  if (name === 'oracle') return oracle;
  throw new Error(`--engine must be wasm or oracle, got ${name}`);
}

/** Float top-1 predictions by tfjs (loaded only when a float model exists). */
async function floatPredictions(path: string, set: LabelledImages): Promise<Uint8Array> {
  const { readFloatModel } = await import('../../eval/float-file.ts');
  const { fromFloatModel, predictFloat, useWasmInference } = await import('../../eval/tfjs-model.ts');
  await useWasmInference();
  const fm = readFloatModel(await readFile(path), path);
  return predictFloat(fromFloatModel(fm), set, fm.inputQuant);
}

async function run(o: EvalOptions): Promise<void> {
  const limit = o.limit === undefined ? Infinity : Number(o.limit);
  if (!(Number.isInteger(limit) && limit > 0) && limit !== Infinity) throw new Error(`--limit must be a positive integer, got ${o.limit}`);
  const path = modelPath(o.model);
  // With devices (--testbed, --device, --ports) the images run distributed; the outputs are bit-exact, so is the accuracy.
  const distributed = o.testbed !== undefined || o.device.length > 0 || o.ports !== undefined;
  const gw = distributed ? await openGateway({ ...o, model: path }, (l) => console.error(l)) : undefined;
  try {
    await evaluate(o, path, gw ? gw.graph : await loadModel(path), gw ? deviceEngine(gw, o.replan === true) : await engineNamed(o.engine));
  } finally {
    await gw?.close();
  }
}

function deviceEngine(gw: Gateway, replanOnLoss: boolean): Engine {
  const first = { plan: gw.plan, deployment: gw.deployment, executor: gw.executor() };
  if (!replanOnLoss) return distributedEngine(first.executor);
  const pool = { profiles: gw.targets.profiles ?? gw.plan.devices, clients: gw.targets.clients };
  return replanningEngine(gw.graph, pool, first, { log: (l) => console.error(l) });
}

async function evaluate(o: EvalOptions, path: string, graph: Graph, engine: Engine): Promise<void> {
  const limit = o.limit === undefined ? Infinity : Number(o.limit);
  const { set: all, title } = await loadData(o.data);
  const set = firstN(all, limit);
  const int8 = await classify(engine, graph, set, (done, total) => {
    if (!o.json && process.stderr.isTTY && (done % 100 === 0 || done === total)) process.stderr.write(`\r${done}/${total} images`);
  });
  if (!o.json && process.stderr.isTTY) process.stderr.write('\n');
  const fPath = floatPath(path);
  const fPred = fPath ? await floatPredictions(fPath, set) : undefined;
  const result = {
    model: path,
    data: title,
    images: set.count,
    int8: { engine: engine.name, correct: int8.correct, accuracy: int8.correct / set.count },
    float: fPred && fPath ? { source: fPath, accuracy: accuracyOf(fPred, set.labels) } : null,
    agreement: fPred ? agreement(fPred, int8.predictions) : null,
  };
  if (o.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`.padStart(7);
  console.log(`${graph.name ?? basename(path)} on ${title}, ${set.count} images, top-1:`);
  console.log(`  float ${result.float ? `${pct(result.float.accuracy)}  (tfjs, ${result.float.source})` : '    n/a  (no float model found)'}`);
  console.log(`  int8  ${pct(result.int8.accuracy)}  (${engine.name}, ${int8.correct} correct)`);
  if (result.agreement !== null) console.log(`  float and int8 agree on ${pct(result.agreement).trim()} of the images`);
}

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('top-1 accuracy of an int8 image classifier on a labelled test set, next to its float model')
    .requiredOption('--model <model>', 'a bundled model name (mnist-s, mnist-l, fashion) or a .msb/.tflite file')
    .requiredOption('--data <data>', 'mnist or fashion (their test splits), or a labelled subset .bin file')
    .option('--limit <n>', 'only the first n images')
    .option('--engine <engine>', 'wasm (the AS kernels) or oracle, in this process (without devices)', 'wasm')
    .option('--no-progress', 'no deploy progress bars (distributed runs)')
    .option('--replan', 'when a device is gone for good, plan again for the devices left and go on (distributed runs)')
    .option('--json', 'print one JSON object as the last line')
    .action((o: EvalOptions) => run(o));
  addTargetOptions(cmd);
  addPlanChoiceOptions(cmd, Object.keys(strategies));
}
