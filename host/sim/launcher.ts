// Starts a testbed: one child process per device (agent.wasm in Node, or the
// UART of a QEMU board for devices with a `board`) behind a socat PTY pair or
// a loopback TCP socket, paced to the device's stated link. Returns where the gateway finds each device, and
// stops every process it started on stop(), on exit, and on Ctrl-C/SIGTERM.
// Without socat, `pty` devices are served on loopback TCP instead: the
// simulator paces every link to its stated rate whatever carries it, so only
// the kind of port changes, and `links` says so in one line.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AGENT_WASM, AGENT_WASM3 } from './agent-host.ts';
import { boardClock, type BoardClock } from './board-clock.ts';
import { missingSocat, openPtyPair, type PtyPair } from './pty.ts';
import { loadTestbed, meshOf, parseTestbed, type DeviceSpec, type Testbed } from './testbed.ts';
import type { MeshLink } from './mesh.ts';
import type { DeviceProcessConfig, DeviceProcessMessage } from './device-process.ts';
import type { QemuBoard } from './qemu.ts';

const DEVICE_MAIN = join(dirname(fileURLToPath(import.meta.url)), 'device-main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface SimDeviceHandle {
  id: string;
  /** The link address the gateway opens: a PTY path, or tcp://127.0.0.1:PORT. */
  uri: string;
  /** The testbed entry; absent for devices started by `extra`. */
  spec?: DeviceSpec;
  /** 'node': agent.wasm in a Node child process; 'qemu': firmware on an emulated board. */
  engine: 'node' | 'qemu';
  /** What carries the link: a PTY (socat's, or the board's UART) or loopback TCP. */
  link: 'pty' | 'tcp';
  pid?: number;
  /** Resolves with the exit code when the device's process ends (a crash fault, or stop()). */
  exited: Promise<number | null>;
}

export interface RunningTestbed {
  testbed: Testbed;
  devices: SimDeviceHandle[];
  /** One line saying what carries the links (and why PTY devices are on TCP, when they are). */
  links: string;
  /** One line per board whose host could not keep up with its clock (QEMU's align warning), so far. */
  behind(): string[];
  /** Stops every process of this testbed (warning first for boards that fell behind); idempotent. */
  stop(): Promise<void>;
}

/** Extra devices from elsewhere (e.g. `sim --qemu N`), started alongside the testbed's. */
export interface ExternalDevice {
  id: string;
  uri: string;
  pid?: number;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Receives one line per device as it comes up. */
  log?: (line: string) => void;
  /** Give up when a device is not ready after this long. Default 30000 ms. */
  readyTimeoutMs?: number;
  /** Starts more devices (QEMU boards from `sim --qemu N`); they are stopped with the testbed. */
  extra?: () => Promise<ExternalDevice[]>;
  /** Receives warnings (a board's rounded clock, a host too slow for it). Default: stderr. */
  warn?: (line: string) => void;
}

/** Kill functions of every live process of every running testbed in this process. */
const live = new Set<() => void>();
let handlersInstalled = false;

function killAllNow(): void {
  for (const kill of live) kill();
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllNow);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function removeHandlersIfIdle(): void {
  if (!handlersInstalled || live.size > 0) return;
  handlersInstalled = false;
  process.off('exit', killAllNow);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

/** Signals a detached child's whole process group (it leads one). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/** Stops a detached child: SIGTERM to its group, SIGKILL if it lingers. */
async function stopChild(child: ChildProcess): Promise<void> {
  const exited = exitOf(child);
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts every device of a testbed (a file path, or an object of the testbed
 * schema) and resolves when all answer on their links' device side.
 */
export async function startTestbed(source: string | unknown, opts: StartOptions = {}): Promise<RunningTestbed> {
  const testbed = typeof source === 'string' ? loadTestbed(source) : parseTestbed(source);
  for (const wasm of [AGENT_WASM, AGENT_WASM3])
    if (testbed.devices.some((d) => !d.board) && !existsSync(wasm)) throw new Error(`${wasm} is missing: build it with npm run build:wasm`);
  const children: ChildProcess[] = [];
  const ptys: PtyPair[] = [];
  const boards: ChildProcess[] = [];
  const stoppers: (() => Promise<void>)[] = [];
  const outputs: BoardOutput[] = [];
  const warn = opts.warn ?? ((line: string) => console.error(`warning: ${line}`));
  const behind = () => outputs.flatMap(lateness);
  const killNow = () => {
    for (const c of children) killGroup(c, 'SIGKILL');
    for (const p of ptys) killGroup(p.process, 'SIGKILL');
    for (const b of boards) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
  };
  live.add(killNow);
  installHandlers();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const line of behind()) warn(line);
    await Promise.all([...children.map(stopChild), ...ptys.map((p) => stopChild(p.process)), ...stoppers.map((s) => s())]);
    live.delete(killNow);
    removeHandlersIfIdle();
  };

  try {
    // Device processes load the wasm3 addon: build it once here, and say so when it cannot be.
    if (testbed.devices.some((d) => d.engine === 'wasm3' && !d.board)) {
      const { buildWasm3Addon } = await import('../wasm3/build.ts');
      buildWasm3Addon();
    }
    const socat = missingSocat() === null;
    // Boards first: building their firmware blocks this process (make, synchronously), which
    // must not run down a simulated device's ready timeout (it did, on a first run under load).
    const readyMs = opts.readyTimeoutMs ?? 30_000;
    const started = new Map(
      (await allStarted(testbed.devices.filter((d) => d.board).map((spec) => startBoard(spec, boards, stoppers, outputs, warn)))).map((b) => [b.id, b]),
    );
    const devices = await allStarted(
      testbed.devices.map(async (spec) => {
        const board = started.get(spec.id);
        const device = await startNodeDevice(spec, testbed.seed, socat, children, ptys, readyMs, board?.path, meshOf(testbed, spec.id));
        // A board's handle names QEMU's process (the board itself) and ends when either process does.
        return board ? { ...device, engine: 'qemu' as const, pid: board.process.pid, exited: Promise.race([device.exited, exitOf(board.process)]) } : device;
      }),
    );
    if (opts.extra) {
      for (const e of await opts.extra()) {
        stoppers.push(e.stop);
        devices.push({ id: e.id, uri: e.uri, engine: 'qemu', link: 'pty', pid: e.pid, exited: e.exited });
      }
    }
    for (const d of devices) opts.log?.(`${d.id}\t${d.uri}`);
    const links = describeLinks(devices);
    opts.log?.(links);
    return { testbed, devices, links, behind, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Every start settled, then the first failure thrown: a start still running
 * when another fails would register its process after stop() ran and be left
 * behind (a QEMU board was, when a device process beside it failed to start).
 */
async function allStarted<T>(starts: Promise<T>[]): Promise<T[]> {
  const all = await Promise.allSettled(starts);
  const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return all.map((r) => (r as PromiseFulfilledResult<T>).value);
}

async function startNodeDevice(
  spec: DeviceSpec,
  seed: number,
  socat: boolean,
  children: ChildProcess[],
  ptys: PtyPair[],
  readyTimeoutMs: number,
  boardPath?: string,
  mesh?: MeshLink,
): Promise<SimDeviceHandle> {
  let pty: PtyPair | undefined;
  if (spec.link.kind === 'pty' && socat) {
    pty = await openPtyPair();
    ptys.push(pty);
  }
  const config: DeviceProcessConfig = { spec, seed, ptyPath: pty?.devicePath, boardPath, mesh };
  // detached: the device leads its own process group, so a group kill reaches anything it starts.
  // tsx is resolved from the repository, whatever directory the gateway runs in.
  const child = spawn(process.execPath, ['--import', TSX, DEVICE_MAIN, JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  children.push(child);
  const ready = await new Promise<DeviceProcessMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`device ${spec.id}: not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.on('message', (m: DeviceProcessMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`device ${spec.id}: process exited with code ${code} before it was ready`));
    });
  });
  // The device must not keep the launcher alive; it dies with it (IPC disconnect).
  child.unref();
  child.channel?.unref();
  return {
    id: spec.id,
    uri: pty ? pty.gatewayPath : `tcp://127.0.0.1:${ready.port}`,
    spec,
    engine: 'node',
    link: pty ? 'pty' : 'tcp',
    pid: child.pid,
    exited: exitOf(child),
  };
}

export interface BoardOutput {
  id: string;
  clock: BoardClock;
  /** Everything QEMU printed. */
  text(): string;
}

/**
 * QEMU under -icount align prints "The guest is now late by A to B seconds"
 * each time the board's lag behind the wall clock crosses another whole
 * second (the first at any lag above 0) when the host cannot execute its
 * instructions as fast as its clock asks. A lag of a second or more makes
 * the board measurably slower than the chip it stands for: one line per such
 * board, at its latest lag. Smaller lags ("late by 0.0 to 1.0") are not reported.
 */
export function lateness(b: BoardOutput): string[] {
  const late = [...b.text().matchAll(/late by ([\d.]+) to ([\d.]+) seconds/g)].at(-1);
  if (!late || Number(late[1]) < 1) return [];
  return [`board ${b.id}: the host could not keep up with its ${mhzOf(b.clock.hz)} clock (QEMU: late by ${late[1]} to ${late[2]} s), so it ran slower than planned`];
}

const mhzOf = (hz: number) => `${Number((hz / 1e6).toPrecision(6))} MHz`;

/**
 * A testbed device with a `board`: the firmware on QEMU (host/sim/qemu.ts).
 * With clockHz, -icount gives it that clock in wall time (board-clock.ts);
 * without, it runs as fast as the host lets it and its testbed speed is a
 * guess. Returns the board; its UART is served to the gateway by a device
 * process (startNodeDevice with its PTY), which paces the link and applies
 * the link's faults as for any simulated device.
 */
async function startBoard(spec: DeviceSpec, boards: ChildProcess[], stoppers: (() => Promise<void>)[], outputs: BoardOutput[], warn: (line: string) => void): Promise<QemuBoard> {
  const { startQemuBoards } = await import('./qemu.ts');
  const clock = spec.clockHz === undefined ? undefined : boardClock(spec.clockHz);
  if (clock?.note) warn(`board ${spec.id}: ${clock.note}`);
  if (!clock) warn(`board ${spec.id} has no clockHz: QEMU runs it as fast as the host allows, so the speed its plan assumes is a guess`);
  const [board] = await startQemuBoards(
    [{ id: spec.id, board: spec.board as never, memory: spec.memory, engine: spec.engine ?? 'wasm2c', icountShift: clock?.shift ?? 0, realTime: clock !== undefined, keyFile: spec.keyFile }],
    { timeoutMs: 30_000 },
  );
  boards.push(board.process);
  let stopping = false;
  stoppers.push(() => {
    stopping = true;
    return board.stop();
  });
  // A board that stops on its own (a HardFault exits through semihosting) says why, once.
  board.process.once('exit', (code, signal) => {
    if (!stopping) warn(`board ${spec.id}: QEMU exited (${signal ?? `code ${code}`}); its output: ${board.stderr().trim().split('\n').slice(-3).join(' | ') || 'none'}`);
  });
  if (clock) outputs.push({ id: spec.id, clock, text: board.stderr });
  return board;
}

/**
 * One line for the user: what carries the links, e.g. "links: socat PTYs (3),
 * loopback TCP (1); simulated links paced to each device's stated rate".
 * Testbed boards are reached through a device process like simulated devices
 * (paced); boards from elsewhere (`sim --qemu N`) are their QEMU PTYs
 * (unpaced). PTY devices on TCP (no socat) are counted as TCP and the line says why.
 */
export function describeLinks(devices: SimDeviceHandle[]): string {
  const paced = devices.filter((d) => d.spec);
  const count = (engine: 'node' | 'qemu', link: 'pty' | 'tcp') => paced.filter((d) => d.engine === engine && d.link === link).length;
  const kinds: [number, string][] = [
    [count('node', 'pty'), 'socat PTYs'],
    [count('node', 'tcp'), 'loopback TCP'],
    [count('qemu', 'pty'), 'QEMU boards through socat PTYs'],
    [count('qemu', 'tcp'), 'QEMU boards through loopback TCP'],
    [devices.length - paced.length, 'QEMU board PTYs'],
  ];
  let line = `links: ${kinds.filter(([n]) => n > 0).map(([n, what]) => `${what} (${n})`).join(', ')}`;
  if (paced.length) line += `; simulated links${paced.some((d) => d.engine === 'qemu') ? ' and board UARTs' : ''} paced to each device's stated rate`;
  const moved = paced.filter((d) => d.spec?.link.kind === 'pty' && d.link === 'tcp').length;
  if (moved) line += `; socat not found, so the ${moved} PTY device${moved === 1 ? ' is' : 's are'} on loopback TCP (install socat for PTYs)`;
  return line;
}
