// The firmware hosting agent.wasm, talked to over real PTYs exactly like any
// serial device: the linux build and QEMU Cortex-M4 and M3 boards answer
// HELLO, compute LOADed fragments bit-exact with the oracle, refuse a LOAD
// over their budget with the same ERROR the simulated (Node) device gives, and
// report an out-of-bounds access inside the module instead of going on (the
// rv32 board too). The TFLM vectors run on each through the device engine
// (conformance --device). The same, with the agent parsed at boot by wasm3,
// on the wasm3 images.
import { spawn, type ChildProcess } from 'node:child_process';
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClient, DeviceError } from '../host/link/client.ts';
import { FrameDecoder } from '../host/link/frame.ts';
import { decodeReply, ErrorCode, PROTOCOL_VERSION } from '../host/link/messages.ts';
import { openSerial } from '../host/link/serial.ts';
import { chunks, type Transport } from '../host/link/transport.ts';
import { runConformance } from '../host/cli/conformance.ts';
import { deviceEngine } from '../host/run/device-engine.ts';
import { KERNEL_ABI_HASH } from '../host/abi/kernel-abi.ts';
import { buildFirmware, FIRMWARE_BUILD, missingQemuToolchain, missingRiscvToolchain, QEMU_RX_WINDOW, startQemuBoards, type QemuBoard } from '../host/sim/qemu.ts';
import { agentOverhead } from '../host/sim/agent-host.ts';
import { missingWasm3 } from '../host/wasm3/build.ts';
import { expectReply, TestGateway } from './agent-fixture.ts';
import { toolGate } from './tool-gate.ts';
import { convCase, fcCase, outputSpace, type OpCase } from './kernels-cases.ts';
import { oneOpFragment, type OneOpFragment } from './fixtures/link-fragments.ts';

const BUDGET = 24 * 1024;
/** The memory each board gives its agent: the agent's overhead for the firmware's window, then an arena of BUDGET. */
const MEMORY = BUDGET + agentOverhead(QEMU_RX_WINDOW);
const VECTORS = 'test/vectors/tflm';
const TRAP_ERROR_CODE = ErrorCode.TRAP; // sent by firmware/common/trap_frame.c
const missing = missingQemuToolchain();
const qemu = toolGate(missing);
const wasm3 = toolGate(missing ?? missingWasm3());
const rv32 = toolGate(missing ?? missingRiscvToolchain());
const rv32Wasm3 = toolGate(missing ?? missingRiscvToolchain() ?? missingWasm3());

interface Device {
  name: string;
  engine: 'wasm2c' | 'wasm3';
  /** The arena it was given. */
  budget: number;
  path: string;
  stop(): Promise<void>;
}

/** Starts a linux-build agent image on its own PTY. */
async function startLinux(image: string, memory: number, name = 'linux', engine: Device['engine'] = 'wasm2c'): Promise<Device> {
  const p: ChildProcess = spawn(image, ['--memory', String(memory)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const path = await new Promise<string>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^pty (\S+)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    p.once('exit', (code) => reject(new Error(`${image} exited with ${code} before printing its PTY`)));
  });
  return {
    name,
    engine,
    budget: memory - agentOverhead(QEMU_RX_WINDOW),
    path,
    stop: async () => {
      p.kill();
      await exited;
    },
  };
}

function qemuDevice(b: QemuBoard, engine: Device['engine'] = 'wasm2c'): Device {
  return { name: engine === 'wasm3' ? `${b.board}-wasm3` : b.board, engine, budget: BUDGET, path: b.path, stop: () => b.stop() };
}

/** A fragment of half the output channels of a random op of `kind`. */
function halfChannelFragment(kind: fc.Arbitrary<OpCase>, seed: number): OneOpFragment {
  const [c] = fc.sample(kind, { seed, numRuns: 1 });
  const space = outputSpace(c.params);
  const last = space.length - 1;
  const box = { start: space.map(() => 0), end: space.map((d, i) => (i === last ? Math.max(1, d >> 1) : d)) };
  return oneOpFragment(c.graph, 0, c.inputs[0], box);
}

/** Collects everything a transport receives; `until` waits for a condition on it. */
function collect(t: Transport) {
  let got = Buffer.alloc(0);
  void (async () => {
    for await (const chunk of chunks(t)) got = Buffer.concat([got, chunk]);
  })().catch(() => {});
  return {
    take(): Buffer {
      const b = got;
      got = Buffer.alloc(0);
      return b;
    },
    async until(done: (bytes: Buffer) => boolean, timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (!done(got)) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    },
  };
}

describe.skipIf(qemu.skip)(`agent firmware over PTYs${qemu.note}`, () => {
  beforeAll(() => qemu.check());
  const devices: Device[] = [];
  const conv = halfChannelFragment(convCase('CONV_2D'), 11);
  const fcFrag = halfChannelFragment(fcCase, 12);

  beforeAll(async () => {
    buildFirmware(['build/linux/agent', 'build/qemu-mps2-an386/agent.elf', 'build/qemu-mps2-an385/agent.elf']);
    devices.push(await startLinux(join(FIRMWARE_BUILD, 'linux/agent'), MEMORY));
    const boards = await startQemuBoards([
      { id: 'm4', board: 'qemu-mps2-an386', memory: MEMORY },
      { id: 'm3', board: 'qemu-mps2-an385', memory: MEMORY, icountShift: 2 },
    ]);
    devices.push(...boards.map((b) => qemuDevice(b)));
    if (!wasm3.skip) {
      wasm3.check();
      buildFirmware(['build/linux/agent-wasm3']); // the M4's wasm3 image: startQemuBoards builds it
      devices.push(await startLinux(join(FIRMWARE_BUILD, 'linux/agent-wasm3'), MEMORY, 'linux-wasm3', 'wasm3'));
      // No wasm3 agent image for the M3: its 128 KB chip cannot hold wasm3's heap for the agent (docs/firmware.md).
      // The M4's 256 KB chip leaves an arena of about 60 KB beside it, more than BUDGET.
      const w3 = await startQemuBoards([{ id: 'm4-wasm3', board: 'qemu-mps2-an386', memory: MEMORY, engine: 'wasm3' }]);
      devices.push(...w3.map((b) => qemuDevice(b, 'wasm3')));
    }
  }, 900_000);

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.stop()));
  });

  const names = ['linux', 'qemu-mps2-an386', 'qemu-mps2-an385', ...(wasm3.skip ? [] : ['linux-wasm3', 'qemu-mps2-an386-wasm3'])];
  const withClient = async (name: string, use: (c: DeviceClient) => Promise<void>) => {
    const d = devices.find((x) => x.name === name)!;
    const client = await DeviceClient.connect(await openSerial(d.path), { name, connectTimeoutMs: 20_000 });
    try {
      await use(client);
    } finally {
      await client.close();
    }
  };

  it.each(names)('%s answers HELLO with the arena its memory leaves, its overhead, window, engine and kernel ABI', async (name) => {
    await withClient(name, async (c) => {
      const info = await c.hello();
      const engine = devices.find((d) => d.name === name)!.engine;
      const budget = devices.find((d) => d.name === name)!.budget;
      expect(info).toMatchObject({ version: PROTOCOL_VERSION, budget, overhead: agentOverhead(QEMU_RX_WINDOW), window: QEMU_RX_WINDOW, engine, abi: KERNEL_ABI_HASH });
    });
  });

  it.each(names)('%s runs a conv fragment and an FC fragment bit-exact with the oracle', async (name) => {
    await withClient(name, async (c) => {
      for (const [id, f] of [[1, conv], [2, fcFrag]] as const) {
        await c.load(id, f.blob, { arena: f.arena, digest: f.digest });
        const r = await c.run(id, f.input, { timeoutMs: 60_000 });
        expect(Buffer.from(r.output).toString('hex')).toBe(Buffer.from(f.expected).toString('hex'));
        expect(r.highWater).toBeLessThanOrEqual(devices.find((d) => d.name === name)!.budget);
      }
      await c.reset();
    });
  });

  it.each(names)('%s passes every TFLM conformance vector, each op LOADed and RUN on it (conformance --device)', async (name) => {
    await withClient(name, async (c) => {
      const summary = await runConformance([VECTORS], deviceEngine(c, name));
      expect(summary.failures).toEqual([]);
      expect(summary.passed).toBe(summary.total);
      expect(summary.total).toBeGreaterThanOrEqual(91);
    });
  }, 300_000);

  it.each(names)('%s refuses a LOAD over its budget with the ERROR the simulated device gives', async (name) => {
    const budget = devices.find((d) => d.name === name)!.budget;
    const arena = budget; // with the blob on top, more than the budget
    const sim = new TestGateway({ arena: budget, window: QEMU_RX_WINDOW });
    const expected = expectReply(sim.load(3, conv.blob, arena), 'ERROR');
    expect(expected.code).toBe(5);
    await withClient(name, async (c) => {
      const e = await c.load(3, conv.blob, { arena, digest: conv.digest }).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(DeviceError);
      expect((e as DeviceError).code).toBe('NO_MEMORY');
      expect((e as DeviceError).message).toContain(expected.text);
      expect((await c.hello()).used).toBe(0);
    });
  });
});

describe.skipIf(qemu.skip)(`a trap inside the module${qemu.note}`, () => {
  beforeAll(() => qemu.check());
  // test/fixtures/firmware/oob-agent.wat: feed() loads from the address in the first 4 received bytes.
  const outside = Buffer.from([0xf0, 0xff, 0xff, 0xff]); // 0xfffffff0, past any board's memory
  const inside = Buffer.from([0x10, 0x00, 0x00, 0x00]);

  beforeAll(
    () =>
      buildFirmware([
        'fixture-oob',
        ...(wasm3.skip ? [] : ['fixture-oob-wasm3']),
        ...(rv32.skip ? [] : ['fixture-oob-rv32']),
        ...(rv32Wasm3.skip ? [] : ['fixture-oob-rv32-wasm3']),
      ]),
    900_000,
  );
  /** The fixture's image of a QEMU board. */
  const fixtureBoard = (board: 'qemu-mps2-an386' | 'qemu-riscv32-virt', engine: 'wasm2c' | 'wasm3') => async () => {
    const elf = join(FIRMWARE_BUILD, `fixture-oob/${board}/agent${engine === 'wasm3' ? '-wasm3' : ''}.elf`);
    return qemuDevice((await startQemuBoards([{ id: `oob-${engine}`, board }], { image: () => elf }))[0], engine);
  };

  const images = [
    { name: 'linux', start: () => startLinux(join(FIRMWARE_BUILD, 'fixture-oob/linux/agent'), BUDGET) },
    { name: 'qemu-mps2-an386', start: fixtureBoard('qemu-mps2-an386', 'wasm2c') },
    ...(wasm3.skip
      ? []
      : [
          { name: 'linux-wasm3', start: () => startLinux(join(FIRMWARE_BUILD, 'fixture-oob/linux/agent-wasm3'), BUDGET, 'linux-wasm3', 'wasm3') },
          { name: 'qemu-mps2-an386-wasm3', start: fixtureBoard('qemu-mps2-an386', 'wasm3') },
        ]),
    ...(rv32.skip ? [] : [{ name: 'qemu-riscv32-virt', start: fixtureBoard('qemu-riscv32-virt', 'wasm2c') }]),
    ...(rv32Wasm3.skip ? [] : [{ name: 'qemu-riscv32-virt-wasm3', start: fixtureBoard('qemu-riscv32-virt', 'wasm3') }]),
  ];

  it.each(images)('$name reports an out-of-bounds load as an ERROR frame, then restarts the module', async ({ start }) => {
    const d = await start();
    const t = await openSerial(d.path);
    const rx = collect(t);
    try {
      // QEMU drops output until it notices its PTY is open: resend until the echo comes back.
      let echoed = false;
      for (let i = 0; i < 60 && !echoed; i++) {
        await t.write(inside);
        echoed = await rx.until((b) => b.includes(inside), 1000);
      }
      expect(echoed).toBe(true);
      await rx.until(() => false, 300); // late echoes of the resends
      rx.take();

      await t.write(outside);
      // Echo bytes still in flight decode as no frame (bad CRC); the ERROR frame decodes.
      const frameIn = (b: Buffer) => new FrameDecoder({ maxPayload: 4096 }).push(b);
      expect(await rx.until((b) => frameIn(b).length > 0, 10_000)).toBe(true);
      const frames = frameIn(rx.take());
      expect(frames).toHaveLength(1);
      const err = expectReply(decodeReply(frames[0]), 'ERROR');
      expect(err.code).toBe(TRAP_ERROR_CODE);
      // wasm2c says "out-of-bounds memory access", wasm3 "[trap] out of bounds memory access".
      expect(err.text).toMatch(/^agent trapped: (\[trap\] )?out.of.bounds memory access/);

      // The restarted module answers again. Bytes that arrive while the board
      // restarts may be lost (the gateway's retransmission covers that), so
      // resend, as above; under wasm3 a restart parses and compiles the whole
      // agent again: seconds under QEMU on a busy machine.
      let answered = false;
      for (let i = 0; i < 60 && !answered; i++) {
        await t.write(inside);
        answered = await rx.until((b) => b.includes(inside), 1000);
      }
      expect(answered).toBe(true);
    } finally {
      await t.close();
      await d.stop();
    }
  }, 180_000);
});
