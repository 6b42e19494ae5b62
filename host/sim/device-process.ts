// The body of one simulated device's process: agent.wasm (through
// agent-host.ts, in Node's WebAssembly or under wasm3), or a QEMU board's
// UART (board-port.ts), inside a SimDevice, served on the device end of a PTY
// pair or on a loopback TCP port. It reports readiness (and the TCP port) to the
// launcher over IPC, and exits when the launcher goes away or a crash fault
// fires (with CRASH_EXIT_CODE, the reason on stderr).
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { nextBootSession, parseKeyHex, readKeyFile } from '../link/key-file.ts';
import { openSerial } from '../link/serial.ts';
import { socketTransport } from '../link/tcp.ts';
import { AgentHost } from './agent-host.ts';
import { boardPort } from './board-port.ts';
import { SimDevice } from './device.ts';
import { MeshOutbox, serveMesh, type MeshLink } from './mesh.ts';
import { realTimeWake } from './line.ts';
import { deviceWindow, type DeviceSpec } from './testbed.ts';

/** Exit code of a device process whose crash fault fired. */
export const CRASH_EXIT_CODE = 3;
/** Exit code of a board's device process whose board (QEMU) went away. */
export const BOARD_GONE_EXIT_CODE = 4;

export interface DeviceProcessConfig {
  spec: DeviceSpec;
  seed: number;
  /** The device end of a PTY pair; absent for a TCP device. */
  ptyPath?: string;
  /** A QEMU board's UART (its PTY): the device's agent is that board, reached through the paced line (board-port.ts). */
  boardPath?: string;
  /** The device's direct links (the testbed's mesh group): it forwards outputs and takes forwarded chunks on a loopback port. */
  mesh?: MeshLink;
}

/** What a device process tells its launcher over IPC. */
export type DeviceProcessMessage = { type: 'ready'; port?: number };

function tell(m: DeviceProcessMessage): void {
  process.send?.(m);
}

/**
 * The key and this boot's session. A key file's device counts its boots in
 * the file beside it (as a board counts them in flash); a key written in the
 * testbed has nowhere to keep a count, so its session is a random number.
 */
export function deviceKey(spec: DeviceSpec): { key?: Uint8Array; session?: number } {
  // Un-keying removes the key file: the device starts unkeyed.
  if (spec.keyFile && existsSync(spec.keyFile)) return { key: readKeyFile(spec.keyFile), session: nextBootSession(spec.keyFile) };
  if (spec.keyHex) return { key: parseKeyHex(spec.keyHex, `device ${spec.id} keyHex`), session: randomInt(1, 0xffffffff) };
  return {};
}

/**
 * The agent of a simulated device as the testbed describes it: its memory,
 * window, engine, key and session. Also used by the virtual-time simulator
 * (host/lab/virtual.ts), which passes its own clock.
 */
export function deviceAgent(spec: DeviceSpec, write: (bytes: Uint8Array) => void, clockUs?: () => bigint, key = deviceKey(spec)): AgentHost {
  return new AgentHost({ memory: spec.memory, window: deviceWindow(spec), write, engine: spec.engine ?? 'node', ...key, clockUs });
}

/** The agent, told its mesh port when its host forwards. */
function withMesh(agent: AgentHost, port: number | undefined): AgentHost {
  if (port !== undefined) agent.setMeshPort(port);
  return agent;
}

export async function runDeviceProcess(config: DeviceProcessConfig): Promise<void> {
  const { spec } = config;
  // The launcher holds the other end of the IPC channel: when it dies, so do we.
  process.on('disconnect', () => process.exit(0));
  const uart = config.boardPath === undefined ? undefined : await openSerial(config.boardPath);
  // Forwarded chunks may arrive before the device exists; none do before HELLO reports the port.
  let device: SimDevice | undefined;
  const meshPort = config.mesh && !uart ? await serveMesh((c, frame) => device?.forwarded(c, frame)) : undefined;
  // One key and session for this start: the agent's, and its host's to open sealed route keys (a board keeps its own).
  const key = uart ? {} : deviceKey(spec);
  device = new SimDevice({
    spec,
    seed: config.seed,
    createAgent: (write) =>
      uart
        ? boardPort(uart, write, (why) => {
            console.error(`device ${spec.id}: the board went away (${why})`);
            process.exit(BOARD_GONE_EXIT_CODE);
          })
        : withMesh(deviceAgent(spec, write, undefined, key), meshPort),
    onCrash: (reason) => {
      console.error(`device ${spec.id}: ${reason}`);
      process.exit(CRASH_EXIT_CODE);
    },
    mesh: meshPort === undefined ? undefined : { outbox: new MeshOutbox(config.mesh!, realTimeWake), port: meshPort, key: key.key && { key: key.key, session: key.session! } },
  });

  if (config.ptyPath) {
    const link = await openSerial(config.ptyPath);
    tell({ type: 'ready' });
    await device.serve(link);
    process.exit(0);
  }
  // TCP: one gateway at a time; a new connection replaces the old one, as a
  // board's Wi-Fi stack would after the gateway reconnects.
  let current: ReturnType<typeof socketTransport> | undefined;
  const server = createServer((socket) => {
    void current?.close();
    const link = socketTransport(socket, `tcp://${socket.remoteAddress}:${socket.remotePort}`);
    current = link;
    void device.serve(link);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  tell({ type: 'ready', port: (server.address() as { port: number }).port });
}
