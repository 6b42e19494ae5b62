// Boards of a known speed: the icount shift a stated clock gets, the clock the
// board then really has, the MAC/s the planner takes from it and the measured
// instructions per MAC, and the table those figures come from.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { macRate } from '../host/plan/profiles.ts';
import { profileOf } from '../host/run/testbed-profiles.ts';
import { boardClock, boardSpeed } from '../host/sim/board-clock.ts';
import { instrPerMac, TABLE_FILE, tableKeys } from '../host/sim/instr-per-mac.ts';
import { lateness } from '../host/sim/launcher.ts';
import { parseTestbed } from '../host/sim/testbed.ts';
import { WASM3_OVER_WASM2C } from '../host/sim/wasm3-speed.ts';
import { firmwareSummary, type PerCase } from '../tools/bench/firmware-summary.ts';

const link = { kind: 'pty', rate: 1_000_000 };
const board = (extra: object) => parseTestbed({ devices: [{ id: 'b', board: 'qemu-mps2-an386', memory: '64K', link, ...extra }] }).devices[0];

describe('board clock', () => {
  it('a power-of-two rate is exact; any other clock is rounded and says to what', () => {
    expect(boardClock(31_250_000)).toEqual({ shift: 5, hz: 31_250_000 });
    expect(boardClock(1e9)).toEqual({ shift: 0, hz: 1e9 });
    const c = boardClock(25_000_000); // log2(40) = 5.32
    expect(c.shift).toBe(5);
    expect(c.hz).toBe(31_250_000);
    expect(c.note).toBe('clockHz 25 MHz is not 1 GHz / 2^n: QEMU runs the board at 31.25 MHz (-icount shift=5) and the plan uses that');
    expect(boardClock(48_000_000).hz).toBe(62_500_000);
    expect(() => boardClock(2e9)).toThrow(/at most 1000000000/);
  });

  it("a board's MAC/s are its real clock over the measured instructions per MAC of each kind", () => {
    const ipm = instrPerMac('Cortex-M4', 'wasm2c')!;
    const p = profileOf(board({ clockHz: 25_000_000 }));
    expect(p.macPerSec.CONV_2D).toBeCloseTo(31_250_000 / ipm.CONV_2D, 6);
    expect(p.macPerSec.CONV_2D_1X1).toBeCloseTo(31_250_000 / ipm.CONV_2D_1X1, 6);
    expect(ipm.CONV_2D_1X1).not.toBe(ipm.CONV_2D);
    expect(p.macPerSec.DEPTHWISE_CONV_2D).toBeCloseTo(31_250_000 / ipm.DEPTHWISE_CONV_2D, 6);
    expect(p.macPerSec.FULLY_CONNECTED).toBeCloseTo(31_250_000 / ipm.FULLY_CONNECTED, 6);
    expect(p.macPerSec.default).toBeCloseTo(31_250_000 / ipm.CONV_2D, 6);
    const m3 = instrPerMac('Cortex-M3', 'wasm3')!;
    const w3 = profileOf(board({ board: 'qemu-mps2-an385', engine: 'wasm3', clockHz: 15_625_000 }));
    expect(w3.macPerSec.DEPTHWISE_CONV_2D).toBeCloseTo(15_625_000 / m3.DEPTHWISE_CONV_2D, 6);
    expect(() => boardSpeed('RV32', 'wasm2c', 1e8)).toThrow('no measured instructions per MAC for RV32 (wasm2c): give the board a speed instead of clockHz');
  });

  it('a 1x1 convolution is priced at its own rate where one is given, else at the convolutions\' rate, else the default', () => {
    const device = (macPerSec: object) => profileOf(parseTestbed({ devices: [{ id: 's', memory: '64K', link, speed: macPerSec }] }).devices[0]);
    expect(macRate(device({ default: 1e6, CONV_2D: 2e6, CONV_2D_1X1: 3e6 }), 'CONV_2D_1X1')).toBe(3e6);
    expect(macRate(device({ default: 1e6, CONV_2D: 2e6 }), 'CONV_2D_1X1')).toBe(2e6);
    expect(macRate(device({ default: 1e6 }), 'CONV_2D_1X1')).toBe(1e6);
    expect(macRate(device({ default: 1e6, CONV_2D_1X1: 3e6 }), 'CONV_2D')).toBe(1e6);
  });

  it('a testbed gives a board its clock or a speed, never both; a simulated device has no clock', () => {
    expect(() => board({ clockHz: 25e6, speed: { default: 1e6 } })).toThrow("devices.0.speed: give clockHz or speed, not both: a board's MAC/s come from its clock and the measured instructions per MAC");
    expect(() => board({})).toThrow('devices.0.speed: a board needs clockHz (its core clock) or speed');
    expect(() => board({ clockHz: 2e9 })).toThrow(/devices.0.clockHz: clockHz must be above 0 and at most/);
    expect(() => parseTestbed({ devices: [{ id: 's', memory: '64K', link, clockHz: 1e8 }] })).toThrow('devices.0.clockHz: only a QEMU board has a clock; a simulated device takes speed');
    expect(() => parseTestbed({ devices: [{ id: 's', memory: '64K', link }] })).toThrow('devices.0.speed: required');
    // A board with a speed and no clock is still accepted (it runs unpaced; the launcher warns).
    expect(board({ speed: { default: 1e6 } }).speed).toEqual({ default: 1e6 });
  });

  it('QEMU saying the guest is a second or more late becomes one warning naming the board and its clock', () => {
    const out = 'char device redirected to /dev/pts/9\nWarning: The guest is now late by 0.0 to 1.0 seconds\nWarning: The guest is now late by 2.0 to 3.0 seconds\n';
    expect(lateness({ id: 'm4-a', clock: boardClock(31_250_000), text: () => out })).toEqual([
      'board m4-a: the host could not keep up with its 31.25 MHz clock (QEMU: late by 2.0 to 3.0 s), so it ran slower than planned',
    ]);
    expect(lateness({ id: 'm4-a', clock: boardClock(31_250_000), text: () => 'char device redirected to /dev/pts/9\n' })).toEqual([]);
    // QEMU's first line comes at any lag above 0; under a second is not reported.
    expect(lateness({ id: 'm4-a', clock: boardClock(31_250_000), text: () => 'Warning: The guest is now late by 0.0 to 1.0 seconds\n' })).toEqual([]);
  });
});

describe('instructions per MAC table', () => {
  const table = JSON.parse(readFileSync(TABLE_FILE, 'utf8')) as Record<string, unknown>;

  it('holds exactly one figure per CPU, engine and measured kind, and says where it came from', () => {
    expect(Object.keys(table).filter((k) => k !== 'source').sort()).toEqual(tableKeys().sort());
    expect(table.source).toMatch(/^npm run bench:firmware -- --write-table, \d{4}-\d\d-\d\d/);
  });

  it("names its figures as bench:firmware's JSON does, each the measured value", () => {
    // Distinct figures per CPU, engine and case, so a key read from the wrong measurement shows.
    const fig = (base: number): PerCase => [base + 0.25, base + 0.375, base + 0.5, base + 0.75];
    const summary = firmwareSummary({
      scheme: 'check32',
      byScheme: { check32: fig(1) },
      plainC: fig(2),
      person: { agentInstructions: 100, agentMacs: 10, opsInstructions: 90, opsMacs: 10 },
      wasm3: fig(3),
      m3: fig(4),
      m3Wasm3: fig(5),
      crypto: { chacha20: { perByte: 6.25, fixed: 600 }, hmac: { perByte: 7.25, fixed: 700 } },
    });
    const expected: Record<string, number> = {
      instr_per_mac_conv: 1.25, instr_per_mac_conv1x1: 1.375, instr_per_mac_dw: 1.5, instr_per_mac_fc: 1.75,
      wasm3_instr_per_mac_conv: 3.25, wasm3_instr_per_mac_conv1x1: 3.375, wasm3_instr_per_mac_dw: 3.5, wasm3_instr_per_mac_fc: 3.75,
      m3_instr_per_mac_conv: 4.25, m3_instr_per_mac_conv1x1: 4.375, m3_instr_per_mac_dw: 4.5, m3_instr_per_mac_fc: 4.75,
      m3_wasm3_instr_per_mac_conv: 5.25, m3_wasm3_instr_per_mac_conv1x1: 5.375, m3_wasm3_instr_per_mac_dw: 5.5, m3_wasm3_instr_per_mac_fc: 5.75,
    };
    expect(Object.keys(expected).sort()).toEqual(tableKeys().sort());
    for (const [k, v] of Object.entries(expected)) expect(summary[k], k).toBe(v);
    expect(summary).toMatchObject({ chacha20_instr_per_byte: 6.25, chacha20_instr_per_call: 600, hmac_instr_per_byte: 7.25, hmac_instr_per_call: 700 });
  });

  it("the simulator's wasm3 ratio is the table's M4 wasm3 over wasm2c", () => {
    const w2 = instrPerMac('Cortex-M4', 'wasm2c')!;
    const w3 = instrPerMac('Cortex-M4', 'wasm3')!;
    expect(WASM3_OVER_WASM2C.DEPTHWISE_CONV_2D).toBeCloseTo(w3.DEPTHWISE_CONV_2D / w2.DEPTHWISE_CONV_2D, 9);
    expect(WASM3_OVER_WASM2C.default).toBeCloseTo(w3.CONV_2D / w2.CONV_2D, 9);
  });
});
