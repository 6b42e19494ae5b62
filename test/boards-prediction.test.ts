// QEMU boards of a known clock in a testbed: QEMU gets the icount settings the
// stated clock asks for (and a rounded clock is said), and person_detect on
// the boards testbed is exact and reports both the plan's prediction and the
// measured latency (how close they are is bench:e2e's prediction_error_boards:
// a timed bound does not belong in a test on a shared machine).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../host/model/load.ts';
import { startTestbed, type RunningTestbed } from '../host/sim/launcher.ts';
import { missingQemuToolchain } from '../host/sim/qemu.ts';
import { boardsPrediction } from '../tools/bench/boards-prediction.ts';
import { toolGate } from './tool-gate.ts';

const qemu = toolGate(missingQemuToolchain());
const PERSON = 'test/fixtures/person_detect/person_detect.tflite';
const INPUT = 'test/fixtures/person_detect/person_input_int8.bin';

describe.skipIf(qemu.skip)(`boards of a known clock${qemu.note}`, () => {
  beforeAll(() => qemu.check());
  let tb: RunningTestbed | undefined;
  const warnings: string[] = [];
  beforeAll(async () => {
    const link = { kind: 'pty', rate: 1_000_000 };
    tb = await startTestbed(
      { devices: [{ id: 'm4', board: 'qemu-mps2-an386', memory: '64K', clockHz: 25_000_000, link }, { id: 'm3', board: 'qemu-mps2-an385', memory: '64K', speed: { default: 1e7 }, link }] },
      { warn: (l) => warnings.push(l) },
    );
  }, 300_000);
  afterAll(() => tb?.stop());

  it('runs a clocked board at -icount shift=N,align=on,sleep=on and an unclocked one unpaced, with one warning each', () => {
    const cmdline = (id: string) => readFileSync(`/proc/${tb!.devices.find((d) => d.id === id)!.pid}/cmdline`, 'utf8').split('\0');
    const icount = (id: string) => cmdline(id)[cmdline(id).indexOf('-icount') + 1];
    expect(icount('m4')).toBe('shift=5,align=on,sleep=on');
    expect(icount('m3')).toBe('shift=0');
    expect(warnings).toEqual([
      'board m4: clockHz 25 MHz is not 1 GHz / 2^n: QEMU runs the board at 31.25 MHz (-icount shift=5) and the plan uses that',
      'board m3 has no clockHz: QEMU runs it as fast as the host allows, so the speed its plan assumes is a guess',
    ]);
  });
});

describe.skipIf(qemu.skip)(`person_detect on the boards testbed${qemu.note}`, () => {
  beforeAll(() => qemu.check());
  it('every output equals the oracle, and the prediction and the measurement are both reported', async () => {
    const graph = await loadModel(PERSON);
    // boardsPrediction throws when an output differs from the oracle's.
    const r = await boardsPrediction(graph, [INPUT], 1);
    expect(r.latenciesMs).toHaveLength(1);
    expect(r.measuredMs).toBe(r.latenciesMs[0]);
    expect(r.predictedMs).toBeGreaterThan(0);
    expect(Number.isFinite(r.error)).toBe(true);
    expect(r.devicesUsed.some((d) => d.startsWith('m4') || d.startsWith('m3'))).toBe(true);
  }, 900_000);
});
