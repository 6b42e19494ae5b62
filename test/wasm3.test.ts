// The wasm3 interpreter in Node (host/wasm3): the binding against Node's own
// WebAssembly on a probe module (values, imports, traps, memory limit), every
// TFLM vector on the AS kernels under wasm3 (conformance --engine wasm3), and
// the device agent under wasm3 answering byte for byte as under V8.
import asc from 'assemblyscript/asc';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '../host/cli/conformance.ts';
import { createWasmEngine } from '../host/run/wasm-engine.ts';
import { profileOf } from '../host/run/testbed-profiles.ts';
import { macRate, parseTestbed } from '../host/sim/testbed.ts';
import { WASM3_OVER_WASM2C } from '../host/sim/wasm3-speed.ts';
import { instantiate, missingWasm3, type Wasm3Instance } from '../host/wasm3/wasm3.ts';
import { expectReply, TestGateway } from './agent-fixture.ts';
import { convCase, fcCase, outputSpace, type OpCase } from './kernels-cases.ts';
import { oneOpFragment, type OneOpFragment } from './fixtures/link-fragments.ts';
import { toolGate } from './tool-gate.ts';
import fc from 'fast-check';

const gate = toolGate(missingWasm3());
const VECTORS = 'test/vectors/tflm';

const PROBE = `
@external("env", "twice") declare function twice(x: i32): i32;
@external("env", "wide") declare function wide(x: i64): i64;
export function add(a: i32, b: i32): i32 { return a + b; }
export function viaHost(x: i32): i32 { return twice(x) + 1; }
export function viaHost64(x: i64): i64 { return wide(x) * 2; }
export function half(x: f64): f64 { return x / 2; }
export function quotient(a: i32, b: i32): i32 { return a / b; }
export function peek(p: u32): u32 { return load<u32>(p); }
export function poke(p: u32, v: u8): void { store<u8>(p, v); }
export function pages(): i32 { return memory.size(); }
export const answer: i32 = 42;
`;

async function compileProbe(): Promise<Uint8Array> {
  const { binary, error, stderr } = await asc.compileString(PROBE, { runtime: 'stub', optimizeLevel: 0, noAssert: true, initialMemory: 2, maximumMemory: 4, use: ['abort='] } as never);
  if (error || !binary) throw new Error(`probe build failed: ${error?.message}\n${stderr.toString()}`);
  return binary;
}

describe.skipIf(gate.skip)(`wasm3 in Node${gate.note}`, () => {
  let probe: Uint8Array;
  beforeAll(async () => {
    gate.check();
    probe = await compileProbe();
  }, 300_000);

  const imports = () => ({ env: { twice: (x: number) => 2 * x, wide: (x: bigint) => x + 1n } });

  it('computes what V8 computes: i32 wrap, i64 through an import, f64, exported globals', () => {
    const v8 = new WebAssembly.Instance(new WebAssembly.Module(probe as Uint8Array<ArrayBuffer>), imports()).exports as Record<string, CallableFunction>;
    const w = instantiate(probe, imports());
    try {
      const calls: [string, (number | bigint)[]][] = [
        ['add', [0x7fffffff, 1]],
        ['add', [0xffffffff, 0]],
        ['viaHost', [-21]],
        ['viaHost64', [0x7ffffffffn]],
        ['half', [7]],
        ['quotient', [-7, 2]],
        ['pages', []],
      ];
      for (const [name, args] of calls) expect(w.exports[name](...args), name).toEqual(v8[name](...args));
      expect(w.exports.answer).toMatchObject({ value: 42 });
    } finally {
      w.close();
    }
  });

  it('turns a trap into an Error, and the instance still answers after it', () => {
    const w = instantiate(probe, imports());
    try {
      expect(() => w.exports.quotient(1, 0)).toThrow(/^wasm3: \[trap\] integer divide by zero/);
      expect(w.exports.add(2, 3)).toBe(5);
    } finally {
      w.close();
    }
  });

  it('passes an exception thrown by an import through unchanged', () => {
    const boom = new Error('host says no');
    const w = instantiate(probe, {
      env: {
        twice: () => {
          throw boom;
        },
        wide: (x: bigint) => x,
      },
    });
    try {
      expect(() => w.exports.viaHost(1)).toThrow(boom);
    } finally {
      w.close();
    }
  });

  it('refuses a module whose import is missing, naming it', () => {
    expect(() => instantiate(probe, { env: { twice: () => 0 } })).toThrow('wasm3: import env.wide is not a function');
  });

  it('allocates only memoryLimit bytes: accesses past them trap while memory.size still reports the declared pages', () => {
    const limit = 65536 + 4000;
    const w = instantiate(probe, imports(), { memoryLimit: limit });
    try {
      expect(w.exports.memory.buffer.byteLength).toBe(limit);
      expect(w.exports.pages()).toBe(2);
      w.exports.poke(limit - 1, 0xab);
      expect(new Uint8Array(w.exports.memory.buffer)[limit - 1]).toBe(0xab);
      expect(w.exports.peek(limit - 4) >>> 0).toBe(0xab000000);
      expect(() => w.exports.peek(limit - 3)).toThrow(/out of bounds memory access/);
      expect(() => w.exports.poke(limit, 1)).toThrow(/out of bounds memory access/);
    } finally {
      w.close();
    }
  });

  it('grows memory from the host up to the declared maximum, detaching the old view when it moves', () => {
    const w = instantiate(probe, imports());
    try {
      const before = w.exports.memory.buffer;
      expect(w.exports.memory.grow(2)).toBe(2);
      expect(w.exports.memory.buffer.byteLength).toBe(4 * 65536);
      expect(w.exports.pages()).toBe(4);
      if (w.exports.memory.buffer !== before) expect(before.byteLength).toBe(0);
      expect(() => w.exports.memory.grow(1)).toThrow(RangeError);
    } finally {
      w.close();
    }
  });

  it('grows under a memory limit: memory.size counts the pages, the bytes stay at the limit, contents kept', () => {
    const limit = 100_000;
    const w = instantiate(probe, imports(), { memoryLimit: limit });
    try {
      w.exports.poke(50, 7);
      expect(w.exports.memory.grow(1)).toBe(2);
      expect(w.exports.pages()).toBe(3);
      expect(w.exports.memory.buffer.byteLength).toBe(limit);
      expect(w.exports.peek(48) >>> 0).toBe(7 << 16);
      expect(() => w.exports.peek(limit - 3)).toThrow(/out of bounds memory access/);
    } finally {
      w.close();
    }
  });

  it('detaches the memory view and refuses calls once closed', () => {
    const w: Wasm3Instance = instantiate(probe, imports());
    const buf = w.exports.memory.buffer;
    expect(buf.byteLength).toBe(2 * 65536);
    w.close();
    expect(buf.byteLength).toBe(0);
    expect(() => w.exports.add(1, 2)).toThrow('wasm3: the instance is closed');
  });

  it('passes every TFLM vector case on the AS kernels (conformance --engine wasm3)', async () => {
    const summary = await runConformance([VECTORS], await createWasmEngine(undefined, 'wasm3'));
    expect(summary.engine).toBe('wasm3');
    expect(summary.failures).toEqual([]);
    expect(summary.total).toBeGreaterThanOrEqual(91);
    expect(summary.passed).toBe(summary.total);
  }, 300_000);

  it('microsplit conformance --engine wasm3 passes every vector from the command line', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/microsplit.js', 'conformance', '--engine', 'wasm3', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ engine: 'wasm3', failed: 0 });
    expect(summary.passed).toBeGreaterThanOrEqual(91);
  }, 300_000);

  it('runs the device agent under wasm3 with the same bytes on the wire as under V8', () => {
    const frags = [wholeFragment(convCase('CONV_2D'), 5), wholeFragment(convCase('DEPTHWISE_CONV_2D'), 6), wholeFragment(fcCase, 7)];
    const wires = (['node', 'wasm3'] as const).map((engine) => {
      const g = new TestGateway({ engine, arena: 256 * 1024, clockUs: () => 0n });
      expect(g.hello().engine).toBe(engine);
      const afterHello = g.wire.length;
      frags.forEach((f, i) => {
        expectReply(g.load(i + 1, f.blob, f.arena), 'ACK');
        const r = expectReply(g.run(i + 1, f.input).at(-1)!, 'RESULT');
        expect(Buffer.from(r.data).toString('hex')).toBe(Buffer.from(f.expected).toString('hex'));
      });
      return Buffer.concat(g.wire.slice(afterHello)).toString('hex'); // HELLO names the engine: compare what follows
    });
    expect(wires[1]).toBe(wires[0]);
  });
});

/** The whole output of a random op of `kind` as one fragment. */
function wholeFragment(kind: fc.Arbitrary<OpCase>, seed: number): OneOpFragment {
  const [c] = fc.sample(kind, { seed, numRuns: 1 });
  const space = outputSpace(c.params);
  return oneOpFragment(c.graph, 0, c.inputs[0], { start: space.map(() => 0), end: [...space] });
}

describe('a wasm3 device in a testbed', () => {
  it('computes its wasm2c speed divided by the measured wasm3/wasm2c ratio, per op kind, for the simulator and the planner alike', () => {
    const entry = (engine?: string) => ({ id: 'd', memory: '64K', speed: { default: 120e6, CONV_2D: 240e6 }, link: { kind: 'pty', rate: 1e5 }, ...(engine && { engine }) });
    const t = parseTestbed({ devices: [entry(), entry('wasm3')].map((d, i) => ({ ...d, id: `d${i}` })) });
    const [plain, w3] = t.devices;
    expect(macRate(plain, 'CONV_2D')).toBe(240e6);
    expect(macRate(w3, 'CONV_2D')).toBeCloseTo(240e6 / WASM3_OVER_WASM2C.CONV_2D!, 6);
    expect(macRate(w3, 'FULLY_CONNECTED')).toBeCloseTo(120e6 / WASM3_OVER_WASM2C.FULLY_CONNECTED!, 6);
    expect(macRate(w3, 'MAX_POOL_2D')).toBeCloseTo(120e6 / WASM3_OVER_WASM2C.default, 6);
    expect(profileOf(w3).macPerSec.DEPTHWISE_CONV_2D).toBeCloseTo(120e6 / WASM3_OVER_WASM2C.DEPTHWISE_CONV_2D!, 6);
    expect(() => parseTestbed({ devices: [entry('wasm2')] })).toThrow(/devices\.0\.engine/);
  });
});
