// Cross-engine bit-exactness of the kernels: TFLM's conformance vectors and
// random fragments of every op run through kernels.wasm in Node, natively
// through wasm2c (the firmware's linux build), and on QEMU Cortex-M4 and M3
// boards (job images, firmware/common/job.h), through wasm2c and under wasm3.
// Every box must be the same bytes everywhere, and the oracle's.
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKernelOp, W } from '../host/abi/kernel-abi.ts';
import { prepareOp } from '../host/model/op-params.ts';
import { wholeOutputBox } from '../host/model/oracle.ts';
import { loadVectorFile } from '../host/model/refcase.ts';
import { buildFirmware, missingQemuToolchain } from '../host/sim/qemu.ts';
import { missingWasm3 } from '../host/wasm3/build.ts';
import {
  jobImage,
  kernelsLayout,
  packJob,
  runJobInNode,
  runJobOnFirmware,
  type FirmwareTarget,
  type Fragment,
  type Job,
  type JobResult,
} from '../tools/firmware/job.ts';
import { addCase, convCase, cuts, fcCase, gridBoxes, outputSpace, poolCase, requantizeCase, softmaxCase, tilesFor, type OpCase } from './kernels-cases.ts';
import { toolGate } from './tool-gate.ts';

const VECTORS = 'test/vectors/tflm';
const TARGETS: FirmwareTarget[] = ['linux', 'qemu-mps2-an386', 'qemu-mps2-an385'];
const missing = missingQemuToolchain();
const qemu = toolGate(missing);
const wasm3 = toolGate(missing ?? missingWasm3());

/** Whole-output fragments of every vector case (the plain C kernels run too where they exist). */
function vectorFragments(): Fragment[] {
  return readdirSync(VECTORS)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => loadVectorFile(join(VECTORS, f)))
    .flatMap((rc) => {
      const params = prepareOp(rc.graph, 0);
      if (!isKernelOp(params)) return [];
      const tiles = params.inputs.map((id) => {
        const shape = params.kind === 'FULLY_CONNECTED' ? [params.batches, params.depth] : rc.graph.tensors[id].shape;
        return { data: rc.inputs[rc.graph.inputs.indexOf(id)], origin: shape.map(() => 0), shape };
      });
      const plain = params.kind === 'CONV_2D' || params.kind === 'DEPTHWISE_CONV_2D' || params.kind === 'FULLY_CONNECTED';
      return [{ name: rc.id, params, box: wholeOutputBox(params), tiles, plain }];
    });
}

/** Random ops of every kind cut into a random grid of boxes, each with only its channels' weights. */
function randomFragments(seed: number): Fragment[] {
  const kinds = [convCase('CONV_2D'), convCase('DEPTHWISE_CONV_2D'), fcCase, poolCase('MAX_POOL_2D'), poolCase('AVERAGE_POOL_2D'), addCase, softmaxCase, requantizeCase];
  const samples = fc.sample(fc.tuple(fc.constantFrom(...kinds).chain((k) => k), cuts), { seed, numRuns: 40 });
  return samples.flatMap(([c, fractions]: [OpCase, number[][]], i) => {
    const p = c.params;
    const space = outputSpace(p);
    if (!isKernelOp(p) || space.length === 0) return [];
    const channelAxis = space.length - 1;
    const sliced = p.kind === 'CONV_2D' || p.kind === 'DEPTHWISE_CONV_2D' || p.kind === 'FULLY_CONNECTED';
    const axes = space.map((_, a) => a).filter((a) => p.kind !== 'SOFTMAX' || a !== channelAxis);
    return gridBoxes(space, fractions, axes).map((box, b) => ({
      name: `random ${i} box ${b}: ${c.label} [${box.start}]..[${box.end}]`,
      params: p,
      box,
      tiles: tilesFor(c, box),
      slice: sliced ? { channels: [box.start[channelAxis], box.end[channelAxis]] as [number, number] } : undefined,
      plain: sliced,
    }));
  });
}

describe.skipIf(qemu.skip)(`kernels on every engine${qemu.note}`, () => {
  beforeAll(() => qemu.check());
  let job: Job;
  let node: JobResult;
  const results = new Map<FirmwareTarget, JobResult>();
  const underWasm3 = new Map<FirmwareTarget, JobResult>();

  beforeAll(async () => {
    buildFirmware(TARGETS.map((t) => jobImage(t)));
    const { base, memBytes } = await kernelsLayout();
    job = packJob([...vectorFragments(), ...randomFragments(7)], base, memBytes);
    node = await runJobInNode(job);
    for (const t of TARGETS) results.set(t, await runJobOnFirmware(job, t));
    if (!wasm3.skip) {
      wasm3.check();
      buildFirmware(TARGETS.map((t) => jobImage(t, 'wasm3')));
      for (const t of TARGETS) underWasm3.set(t, await runJobOnFirmware(job, t, jobImage(t, 'wasm3')));
    }
  }, 900_000);

  it('Node accepts every fragment and matches the oracle', () => {
    for (const f of job.fragments) {
      expect(node.rc.get(f.prepareStep), `${f.name}: prepareRecord`).toBe(0);
      expect(node.rc.get(f.runStep), `${f.name}: runFragment`).toBe(0);
      expect(Buffer.from(node.dumps.get(f.dumpStep)!).equals(Buffer.from(f.expected)), f.name).toBe(true);
    }
    expect(job.fragments.filter((f) => f.name.startsWith('random')).length).toBeGreaterThanOrEqual(40);
  });

  /** No trap, and every fragment's return code and bytes as in Node. */
  const expectSameAsNode = (r: JobResult) => {
    expect([...r.traps]).toEqual([]);
    for (const f of job.fragments) {
      expect(r.rc.get(f.runStep), f.name).toBe(node.rc.get(f.runStep));
      expect(Buffer.from(r.dumps.get(f.dumpStep)!).toString('hex'), f.name).toBe(Buffer.from(node.dumps.get(f.dumpStep)!).toString('hex'));
    }
  };

  it.each(TARGETS)('%s gives the same return codes and output bytes as Node', (target) => expectSameAsNode(results.get(target)!));

  it.skipIf(wasm3.skip).each(TARGETS)(`%s under wasm3 gives the same return codes and output bytes as Node${wasm3.note}`, (target) => expectSameAsNode(underWasm3.get(target)!));

  it.each(TARGETS)("%s: the benchmark's plain C kernels agree with the oracle", (target) => {
    const plain = job.fragments.filter((f) => f.plainDumpStep !== undefined);
    expect(plain.length).toBeGreaterThan(40);
    for (const f of plain) expect(Buffer.from(results.get(target)!.dumps.get(f.plainDumpStep!)!).equals(Buffer.from(f.expected)), f.name).toBe(true);
  });

  it.each(['qemu-mps2-an386', 'qemu-mps2-an385'] as const)('%s reports a HardFault over its UART and stops', async (target) => {
    // The plain C kernels trust their record (the job runs them only on records the module accepted):
    // an FC record whose weights lie far outside RAM makes them read unmapped memory.
    const f = job.fragments.find((x) => x.plainStep !== undefined && x.name.startsWith('fully_connected'))!;
    const [, dest, , count] = new Uint32Array(job.blob.buffer, job.blob.byteOffset, 4); // job.h header
    const steps = new Uint32Array(job.blob.buffer, job.blob.byteOffset + 16, count * 4);
    const record = steps[f.plainStep! * 4 + 1];
    const blob = job.blob.slice();
    new DataView(blob.buffer).setUint32(16 + count * 16 + (record - dest) + W.WEIGHTS * 4, 0x60000000, true);
    const faulty: Job = { blob, fragments: [] };
    await expect(runJobOnFirmware(faulty, target)).rejects.toThrow(/exited with 3: [^]*microsplit: HARDFAULT pc=0x[0-9a-f]+ lr=0x[0-9a-f]+ cfsr=0x[0-9a-f]+ hfsr=0x[0-9a-f]+ bfar=0x[0-9a-f]+/);
  });

  it('the QEMU boards count instructions (SysTick under -icount) and the linux build does not', () => {
    const f = job.fragments.find((x) => x.macs > 1000)!;
    for (const t of ['qemu-mps2-an386', 'qemu-mps2-an385'] as const) {
      expect(results.get(t)!.instructionsPerTick).toBe(40);
      expect(results.get(t)!.ticks.get(f.runStep)!).toBeGreaterThan(0);
    }
    expect(results.get('linux')!.instructionsPerTick).toBe(0);
  });
});
