// One board image behind a PTY, for commands that check a board on its own
// (`microsplit conformance --board`): a QEMU board (qemu.ts), or the linux
// build of the firmware as a native process that prints `pty PATH`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildFirmware, FIRMWARE_DIR, QEMU_BOARDS, startQemuBoards, type QemuBoardName } from './qemu.ts';

export const BOARD_NAMES = ['linux', ...(Object.keys(QEMU_BOARDS) as QemuBoardName[])] as const;
export type BoardName = (typeof BOARD_NAMES)[number];
export type FirmwareEngine = 'wasm2c' | 'wasm3';

export interface RunningBoard {
  /** The PTY the gateway opens. */
  path: string;
  stop(): Promise<void>;
}

export interface BoardImageOptions {
  timeoutMs?: number;
  /** Keys the board from this key file (docs/firmware.md "Device keys"); absent, or no such file: not keyed. */
  keyFile?: string;
}

/** Builds and starts the agent image of `board` under `engine`; throws when it does not come up. */
export async function startBoardImage(board: BoardName, engine: FirmwareEngine = 'wasm2c', opts: BoardImageOptions = {}): Promise<RunningBoard> {
  const { timeoutMs = 30_000, keyFile } = opts;
  if (board !== 'linux') {
    const [b] = await startQemuBoards([{ id: board, board, engine, keyFile }], { timeoutMs });
    return { path: b.path, stop: () => b.stop() };
  }
  const image = `build/linux/agent${engine === 'wasm3' ? '-wasm3' : ''}`;
  buildFirmware([image]);
  const proc = spawn(join(FIRMWARE_DIR, image), keyFile ? ['--key', keyFile] : [], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const path = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${image}: no PTY within ${timeoutMs} ms`)), timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^pty (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${image} exited with code ${code} before printing its PTY`));
    });
  });
  return {
    path,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill();
      await exited;
    },
  };
}
