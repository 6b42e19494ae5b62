// npm run bench:firmware [-- --json] [-- --write-table]
// Instructions per MAC on the Cortex-M4 (QEMU mps2-an386, -icount shift=0,
// counted by SysTick) for conv 3x3, conv 1x1, depthwise 3x3 and FC through kernels.wasm
// compiled by wasm2c, under each memory-check scheme, and in the same run the
// same integer math written plainly in C (firmware/common/plain_kernels.c,
// same compiler and flags, same image) as the denominator, and the same
// kernels.wasm under the wasm3 interpreter (when wasm3's source is found:
// WASM3_SRC). Then person_detect on one board: each kernel op through
// kernels.wasm (the per-op table), and one whole inference through the device
// agent (LOAD and RUN over the link; tools/bench/agent-inference.ts). Every
// output is checked against the oracle before any number is printed. The same
// three cases on the Cortex-M3 (mps2-an385). --write-table rewrites
// host/sim/instr-per-mac.json, the instructions per MAC the planner gives
// boards of a known clock, from this run. Last, the agent's ChaCha20 and
// HMAC-SHA256 on the M4, in instructions per byte (tools/bench/crypto-m4.ts).
import { describe } from '../../host/abi/ops/table.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Graph } from '../../host/model/ir.ts';
import { isKernelOp } from '../../host/abi/kernel-abi.ts';
import { loadModel } from '../../host/model/load.ts';
import { prepareOp } from '../../host/model/op-params.ts';
import { oracle, wholeOutputBox } from '../../host/model/oracle.ts';
import { buildFirmware, missingQemuToolchain } from '../../host/sim/qemu.ts';
import { missingWasm3 } from '../../host/wasm3/build.ts';
import { TABLE_FILE, tableKeys } from '../../host/sim/instr-per-mac.ts';
import { jobImage, kernelsLayout, packJob, runJobOnFirmware, type Fragment, type Job, type JobResult } from '../firmware/job.ts';
import { agentInference } from './agent-inference.ts';
import { cryptoOnM4 } from './crypto-m4.ts';
import { CASES, firmwareSummary, type PerCase } from './firmware-summary.ts';
import { convLayer, fcLayer } from './layers.ts';

const json = process.argv.includes('--json');
const log = (s: string) => {
  if (!json) console.log(s);
};
const SCHEMES = ['wasm2c', 'check32', 'mask'] as const;
type Scheme = (typeof SCHEMES)[number];
/** The scheme the MPS2 boards ship with (firmware/Makefile MPS2_SCHEME): memory safety on, trapping. */
const BOARD_SCHEME: Scheme = 'check32';
const PERSON_DETECT = 'test/fixtures/person_detect/person_detect.tflite';
const PERSON_INPUT = 'test/fixtures/person_detect/person_input_int8.bin';

/** One whole-layer conv or depthwise fragment, SAME padding, stride 1. */
function convFragment(name: string, kind: 'CONV_2D' | 'DEPTHWISE_CONV_2D', [h, w, cin]: number[], cout: number, k: number): Fragment {
  const { graph, input } = convLayer(kind, [h, w, cin], cout, k, 1, h * 977 + cout * 31 + k);
  return wholeOp(name, graph, input);
}

function fcFragment(depth: number, units: number): Fragment {
  const { graph, input } = fcLayer(depth, units, depth * 7 + units);
  return wholeOp(`FC ${depth} -> ${units}`, graph, input);
}

/** The whole output of op 0 of a one-op graph, with the plain C kernel run beside it. */
function wholeOp(name: string, graph: Graph, input: Int8Array): Fragment {
  const params = prepareOp(graph, 0);
  if (!isKernelOp(params)) throw new Error(`${name}: not a kernel op`);
  const shape = describe(params).inputView(params, 0);
  return { name, params, box: wholeOutputBox(params), tiles: [{ data: input, origin: shape.map(() => 0), shape }], plain: true };
}

/** Throws unless every fragment of the job ran and equals the oracle (the plain C too). */
function checkJob(job: Job, r: JobResult, where: string): void {
  for (const f of job.fragments) {
    const same = (step: number | undefined) => step === undefined || Buffer.from(r.dumps.get(step) ?? []).equals(Buffer.from(f.expected));
    if (r.rc.get(f.runStep) !== 0 || !same(f.dumpStep)) throw new Error(`${where}: ${f.name}: the kernel's output differs from the oracle's (rc ${r.rc.get(f.runStep)})`);
    if (!same(f.plainDumpStep)) throw new Error(`${where}: ${f.name}: the plain C output differs from the oracle's`);
  }
}

const instructions = (r: JobResult, step: number) => r.ticks.get(step)! * r.instructionsPerTick;

/** Every kernel op of person_detect as a whole-op fragment on the oracle's own inputs to it. */
async function personDetectJob(graph: Graph, input: Int8Array, base: number, memBytes: number): Promise<{ job: Job; macs: number }> {
  const values = await oracle.runAll(graph, [input]);
  const fragments: Fragment[] = [];
  graph.ops.forEach((op, i) => {
    const params = prepareOp(graph, i);
    if (!isKernelOp(params)) return; // RESHAPE: no kernel, no work
    const tiles = params.inputs.map((id, k) => {
      const shape = describe(params).inputView(params, k);
      return { data: values[id]!, origin: shape.map(() => 0), shape };
    });
    const shapes = `${tiles[0].shape.join('x')} -> ${graph.tensors[op.outputs[0]].shape.join('x')}`;
    fragments.push({ name: `${i} ${op.kind} ${shapes}`, params, box: wholeOutputBox(params), tiles });
  });
  const job = packJob(fragments, base, memBytes);
  return { job, macs: job.fragments.reduce((a, f) => a + f.macs, 0) };
}

async function main(): Promise<void> {
  const missing = missingQemuToolchain();
  if (missing) throw new Error(`bench:firmware needs the board toolchain: ${missing}`);
  buildFirmware(SCHEMES.map((s) => jobImage('qemu-mps2-an386', s)));
  const { base, memBytes } = await kernelsLayout();
  // A 1x1 convolution runs its own inner loop (no window): priced apart. Its instructions per MAC fall with the input depth
  // (about 3.75 + 37 / depth on the M4: 8.4 at 8 channels, 4.0 at 128); 64 is near person_detect's MAC-weighted mean (4.5).
  const cases: Record<(typeof CASES)[number], Fragment> = {
    conv: convFragment('conv 3x3 32x32x16 -> 32', 'CONV_2D', [32, 32, 16], 32, 3),
    conv1x1: convFragment('conv 1x1 12x12x64 -> 64', 'CONV_2D', [12, 12, 64], 64, 1),
    dw: convFragment('depthwise 3x3 32x32x64', 'DEPTHWISE_CONV_2D', [32, 32, 64], 64, 3),
    fc: fcFragment(1024, 256),
  };
  const job = packJob(CASES.map((k) => cases[k]), base, memBytes);
  const perMac: Record<Scheme, number[]> = { wasm2c: [], check32: [], mask: [] };
  let plainPerMac: number[] = [];
  for (const s of SCHEMES) {
    const r = await runJobOnFirmware(job, 'qemu-mps2-an386', jobImage('qemu-mps2-an386', s));
    checkJob(job, r, `M4 (${s})`);
    perMac[s] = job.fragments.map((f) => instructions(r, f.runStep) / f.macs);
    if (s === BOARD_SCHEME) plainPerMac = job.fragments.map((f) => instructions(r, f.plainStep!) / f.macs);
  }
  // wasm3: the same job on the M4 image that parses kernels.wasm at boot.
  const noWasm3 = missingWasm3();
  let wasm3PerMac: number[] | undefined;
  if (noWasm3) {
    log(`wasm3 not measured: ${noWasm3}`);
  } else {
    buildFirmware([jobImage('qemu-mps2-an386', 'wasm3')]);
    const r = await runJobOnFirmware(job, 'qemu-mps2-an386', jobImage('qemu-mps2-an386', 'wasm3'));
    checkJob(job, r, 'M4 (wasm3)');
    wasm3PerMac = job.fragments.map((f) => instructions(r, f.runStep) / f.macs);
  }
  const cell = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(2));
  log('Cortex-M4 (QEMU mps2-an386, -icount shift=0), instructions per MAC, gcc -O2 -mcpu=cortex-m4 (wasm3 built -Os)');
  log(`| fragment | wasm2c check | 32-bit check | mask (no trap) | plain C | board (${BOARD_SCHEME}) / plain C | wasm3 | wasm3 / board wasm2c |`);
  log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  job.fragments.forEach((f, i) =>
    log(
      `| ${f.name} | ${perMac.wasm2c[i].toFixed(2)} | ${perMac.check32[i].toFixed(2)} | ${perMac.mask[i].toFixed(2)} | ${plainPerMac[i].toFixed(2)} | ${(perMac[BOARD_SCHEME][i] / plainPerMac[i]).toFixed(2)} | ${cell(wasm3PerMac?.[i])} | ${cell(wasm3PerMac && wasm3PerMac[i] / perMac[BOARD_SCHEME][i])} |`,
    ),
  );

  const graph = await loadModel(PERSON_DETECT);
  const pdInput = new Int8Array(readFileSync(PERSON_INPUT).buffer.slice(0));
  const pd = await personDetectJob(graph, pdInput, base, memBytes);
  const r = await runJobOnFirmware(pd.job, 'qemu-mps2-an386', jobImage('qemu-mps2-an386', BOARD_SCHEME));
  checkJob(pd.job, r, 'person_detect');
  log(`\nperson_detect on one M4, each kernel op through kernels.wasm (${BOARD_SCHEME})`);
  log('| op | MACs | instructions | per MAC |');
  log('| --- | --- | --- | --- |');
  for (const f of pd.job.fragments) {
    const n = instructions(r, f.runStep);
    log(`| ${f.name} | ${f.macs} | ${n} | ${f.macs ? (n / f.macs).toFixed(2) : '-'} |`);
  }
  const pdInstructions = pd.job.fragments.reduce((a, f) => a + instructions(r, f.runStep), 0);
  log(`| all ${pd.job.fragments.length} kernel ops | ${pd.macs} | ${pdInstructions} | ${(pdInstructions / pd.macs).toFixed(2)} |`);
  const agent = await agentInference(graph, pdInput);
  log(`person_detect through the agent (LOAD and RUN over the link, ${agent.ops} ops, ${agent.macs} MACs): ${agent.instructions} instructions in kernels, ${(agent.instructions / agent.macs).toFixed(2)} per MAC`);

  // The Cortex-M3 (mps2-an385): the same cases on its own build, through wasm2c and wasm3.
  buildFirmware([jobImage('qemu-mps2-an385'), ...(noWasm3 ? [] : [jobImage('qemu-mps2-an385', 'wasm3')])]);
  const onM3 = async (image: string, where: string): Promise<PerCase> => {
    const r = await runJobOnFirmware(job, 'qemu-mps2-an385', image);
    checkJob(job, r, where);
    return job.fragments.map((f) => instructions(r, f.runStep) / f.macs) as PerCase;
  };
  const m3 = await onM3(jobImage('qemu-mps2-an385'), 'M3');
  const m3Wasm3 = noWasm3 ? undefined : await onM3(jobImage('qemu-mps2-an385', 'wasm3'), 'M3 (wasm3)');
  log(`\nCortex-M3 (QEMU mps2-an385, ${BOARD_SCHEME}), instructions per MAC: ${job.fragments.map((f, i) => `${f.name} ${m3[i].toFixed(2)}${m3Wasm3 ? ` (wasm3 ${m3Wasm3[i].toFixed(2)})` : ''}`).join(', ')}`);

  const crypto = await cryptoOnM4();
  log(`\nThe agent's crypto on the M4 (${BOARD_SCHEME}), instructions per byte (and per call): ChaCha20 ${crypto.chacha20.perByte.toFixed(2)} (${Math.round(crypto.chacha20.fixed)}), HMAC-SHA256 ${crypto.hmac.perByte.toFixed(2)} (${Math.round(crypto.hmac.fixed)})`);

  const summary = firmwareSummary({
    scheme: BOARD_SCHEME,
    byScheme: perMac as Record<Scheme, PerCase>,
    plainC: plainPerMac as PerCase,
    person: { agentInstructions: agent.instructions, agentMacs: agent.macs, opsInstructions: pdInstructions, opsMacs: pd.macs },
    wasm3: wasm3PerMac as PerCase | undefined,
    m3,
    m3Wasm3,
    crypto,
  });
  if (process.argv.includes('--write-table')) writeTable(summary);
  if (json) console.log(JSON.stringify(summary));
}

/** Rewrites the planner's table (host/sim/instr-per-mac.json) from this run's figures. */
function writeTable(summary: Record<string, unknown>): void {
  const missing = tableKeys().filter((k) => typeof summary[k] !== 'number');
  if (missing.length) throw new Error(`--write-table: this run did not measure ${missing.join(', ')} (is wasm3's source found?)`);
  const source = `npm run bench:firmware -- --write-table, ${new Date().toISOString().slice(0, 10)} (QEMU -icount shift=0, ${BOARD_SCHEME})`;
  writeFileSync(TABLE_FILE, `${JSON.stringify({ source, ...Object.fromEntries(tableKeys().map((k) => [k, summary[k]])) }, null, 2)}\n`);
  log(`wrote ${TABLE_FILE.pathname}`);
}

main().catch((e: unknown) => {
  console.error(`bench:firmware: ${(e as Error).message}`);
  process.exitCode = 1;
});
