// Jobs for the firmware's job image (firmware/common/job.h): fragments of
// kernel ops packed into one blob, run by the kernels module on any engine —
// Node's WebAssembly here, wasm2c or wasm3 natively (firmware linux build) or
// on a QEMU Cortex-M board — with each output box dumped as bytes. This is how
// bit-exactness across engines is checked, and how instructions are counted.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { box4, packCall, packOp, tile4, type KernelOpParams, type Slice } from '../../host/abi/kernel-abi.ts';
import { boxMacs as opBoxMacs, describe, wholeDepth } from '../../host/abi/ops/table.ts';
import { runOpBox, type Box, type Tile } from '../../host/model/oracle.ts';
import { FIRMWARE_DIR, QEMU_BOARDS, qemuArgs, type QemuBoardName } from '../../host/sim/qemu.ts';

const JOB_MAGIC = 0x314a534d;
const STEP = { PREPARE: 1, RUN: 2, PLAIN: 3, DUMP: 4 } as const;
/** Where QEMU's loader puts the blob (firmware/boards/mps2/job_blob.c). */
const JOB_ADDR = 0x21000000;

export const KERNELS_WASM = join(FIRMWARE_DIR, '..', 'build', 'kernels.wasm');

/** One fragment: a box of one op's output computed from tiles of its inputs. */
export interface Fragment {
  name: string;
  params: KernelOpParams;
  /** Which constants the record holds (default: the whole op). */
  slice?: Slice;
  /** In the oracle's coordinates (FC: [batches, units]). */
  box: Box;
  tiles: Tile[];
  /** Also run the firmware's plain C kernel on it (conv, depthwise, FC only). */
  plain?: boolean;
}

export interface PackedFragment {
  name: string;
  /** The oracle's bytes for the box. */
  expected: Uint8Array;
  /** MACs of the box (conv/depthwise/FC), for instructions per MAC. */
  macs: number;
  prepareStep: number;
  runStep: number;
  dumpStep: number;
  plainStep?: number;
  plainDumpStep?: number;
}

export interface Job {
  blob: Uint8Array;
  fragments: PackedFragment[];
}

const align16 = (n: number) => (n + 15) & ~15;
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * MACs one box of an op with weights (conv, depthwise, FC) takes; 0 for other
 * ops, whose work is comparisons or adds: the benchmarks count multiply-accumulates only.
 */
export function boxMacs(p: KernelOpParams, box: Box): number {
  return describe(p).weightsPerChannel(p) > 0 ? opBoxMacs(p, box) : 0;
}

/**
 * Packs fragments into one job, laid out in linear memory from `base`
 * (the module's kernelScratchBase()). Throws if they do not fit in `memBytes`.
 */
export function packJob(fragments: Fragment[], base: number, memBytes: number): Job {
  const payload: Uint8Array[] = [];
  const steps: number[][] = [];
  let at = align16(base);
  const place = (bytes: Uint8Array): number => {
    const off = at;
    payload.push(bytes, new Uint8Array(align16(bytes.length) - bytes.length));
    at += align16(bytes.length);
    return off;
  };
  const packed = fragments.map((f) => {
    const expectedData = runOpBox(f.params, f.tiles, f.box);
    const expected = new Uint8Array(bytesOf(expectedData));
    const rec = place(packOp(f.params, f.slice));
    const tiles = f.tiles.map((t, k) => ({ offset: place(new Uint8Array(bytesOf(t.data))), ...tile4(f.params, k, t.origin, t.shape) }));
    const box = box4(f.params, f.box);
    // FC sums the depth range its record holds: the whole input, or a slice's partial sums.
    const whole = wholeDepth(f.params);
    const depth = whole && (f.slice?.depth ?? whole);
    const callFor = (out: number) => place(packCall({ out, outBytes: expected.length, box, in0: tiles[0], in1: tiles[1], depth }));
    const out = place(new Uint8Array(expected.length));
    const call = callFor(out);
    const step = (kind: number, a: number, b: number) => steps.push([kind, a, b, 0]) - 1;
    const p: PackedFragment = {
      name: f.name,
      expected,
      macs: boxMacs(f.params, f.box),
      prepareStep: step(STEP.PREPARE, rec, 0),
      runStep: step(STEP.RUN, rec, call),
      dumpStep: step(STEP.DUMP, out, expected.length),
    };
    if (f.plain) {
      const plainOut = place(new Uint8Array(expected.length));
      p.plainStep = step(STEP.PLAIN, rec, callFor(plainOut));
      p.plainDumpStep = step(STEP.DUMP, plainOut, expected.length);
    }
    return p;
  });
  if (at > memBytes) throw new RangeError(`job needs linear memory up to ${at} bytes, the module has ${memBytes}`);
  const head = new Uint32Array([JOB_MAGIC, align16(base), at - align16(base), steps.length, ...steps.flat()]);
  const body = Buffer.concat(payload);
  const blob = new Uint8Array(head.byteLength + body.length);
  blob.set(bytesOf(head));
  blob.set(body, head.byteLength);
  return { blob, fragments: packed };
}

/** What an engine printed for a job: per step, its return code or trap, its ticks, and dumps. */
export interface JobResult {
  rc: Map<number, number>;
  traps: Map<number, string>;
  ticks: Map<number, number>;
  dumps: Map<number, Uint8Array>;
  /** Instructions per tick (0: the engine counts none). */
  instructionsPerTick: number;
}

/** Parses the job image's output (firmware/common/job_main.c); throws on a malformed or unfinished run. */
export function parseJobOutput(text: string, where: string): JobResult {
  const r: JobResult = { rc: new Map(), traps: new Map(), ticks: new Map(), dumps: new Map(), instructionsPerTick: -1 };
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^step (\d+) rc=(\d+) ticks=(\d+)$/.exec(line))) {
      r.rc.set(+m[1], +m[2] | 0);
      r.ticks.set(+m[1], +m[3]);
    } else if ((m = /^step (\d+) trap (.*)$/.exec(line))) {
      r.traps.set(+m[1], m[2]);
    } else if ((m = /^dump (\d+) ([0-9a-f]*)$/.exec(line))) {
      r.dumps.set(+m[1], Uint8Array.from(Buffer.from(m[2], 'hex')));
    } else if ((m = /^done ipt=(\d+)$/.exec(line))) {
      r.instructionsPerTick = +m[1];
    }
  }
  if (r.instructionsPerTick < 0) throw new Error(`${where}: the job did not finish; output:\n${text.slice(0, 2000)}`);
  return r;
}

/** Runs a job with kernels.wasm in Node's WebAssembly (no plain C steps, no ticks). */
export async function runJobInNode(job: Job, wasm: Uint8Array<ArrayBuffer> = readFileSync(KERNELS_WASM)): Promise<JobResult> {
  const instance = await WebAssembly.instantiate(new WebAssembly.Module(wasm), {});
  const ex = instance.exports as { memory: WebAssembly.Memory; prepareRecord(r: number): number; runFragment(r: number, c: number): number };
  const words = new Uint32Array(job.blob.buffer, job.blob.byteOffset, 4);
  const [, dest, size, count] = words;
  const stepWords = new Uint32Array(job.blob.slice(16, 16 + count * 16).buffer);
  new Uint8Array(ex.memory.buffer).set(job.blob.subarray(16 + count * 16, 16 + count * 16 + size), dest);
  const r: JobResult = { rc: new Map(), traps: new Map(), ticks: new Map(), dumps: new Map(), instructionsPerTick: 0 };
  for (let i = 0; i < count; i++) {
    const [kind, a, b] = stepWords.subarray(i * 4, i * 4 + 3);
    try {
      if (kind === STEP.PREPARE) r.rc.set(i, ex.prepareRecord(a));
      else if (kind === STEP.RUN) r.rc.set(i, ex.runFragment(a, b));
      else if (kind === STEP.DUMP) r.dumps.set(i, new Uint8Array(ex.memory.buffer.slice(a, a + b)));
    } catch (e) {
      r.traps.set(i, (e as Error).message);
    }
  }
  return r;
}

export type FirmwareTarget = 'linux' | QemuBoardName;

/** A job image built another way than the board's default: wasm2c with one memory-check scheme, or wasm3. */
export type JobVariant = 'wasm2c' | 'check32' | 'mask' | 'wasm3';

/** The job image of a target (make target relative to firmware/). */
export function jobImage(target: FirmwareTarget, variant?: JobVariant): string {
  if (target === 'linux') return variant === 'wasm3' ? 'build/linux/job-wasm3' : 'build/linux/job';
  return variant ? `build/${target}/job-${variant}.elf` : `build/${target}/job.elf`;
}

/** Runs a program to its end; resolves with its exit status and output. */
export function runProgram(cmd: string, args: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    p.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Runs a job on the linux build or a QEMU board (-icount shift=0: ticks count instructions). The image must be built. */
export async function runJobOnFirmware(job: Job, target: FirmwareTarget, image = jobImage(target)): Promise<JobResult> {
  const dir = mkdtempSync(join(tmpdir(), 'microsplit-job-'));
  try {
    const file = join(dir, 'job.bin');
    writeFileSync(file, job.blob);
    const path = join(FIRMWARE_DIR, image);
    const r =
      target === 'linux'
        ? await runProgram(path, ['--job', file], 120_000)
        : await runProgram(
            'qemu-system-arm',
            [...qemuArgs(QEMU_BOARDS[target].machine, path, { icountShift: 0, realTime: false, serial: 'stdio' }), '-device', `loader,file=${file},addr=0x${JOB_ADDR.toString(16)}`],
            600_000,
          );
    if (r.status !== 0) throw new Error(`${target}: the job image exited with ${r.status}: ${r.stdout.slice(-2000)}${r.stderr}`);
    return parseJobOutput(r.stdout, target);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The kernels module's first free byte and memory size, read from kernels.wasm itself. */
export async function kernelsLayout(wasm: Uint8Array<ArrayBuffer> = readFileSync(KERNELS_WASM)): Promise<{ base: number; memBytes: number }> {
  const instance = await WebAssembly.instantiate(new WebAssembly.Module(wasm), {});
  const ex = instance.exports as { memory: WebAssembly.Memory; kernelScratchBase(): number };
  return { base: ex.kernelScratchBase(), memBytes: ex.memory.buffer.byteLength };
}

