// QEMU boards: the firmware (firmware/, agent.wasm through wasm2c or wasm3) booted on
// emulated microcontroller boards (Cortex-M3/M4 MPS2 boards on a real chip's
// memory, an STM32F405, a RISC-V rv32), each behind its own PTY, so the gateway
// treats them exactly like serial devices. Also builds the images on demand
// (make is incremental, so a second call costs nothing).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { keyRegionImage, keySectorImage, nextBootSession, readKeyFile } from '../link/key-file.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIRMWARE_DIR = join(ROOT, 'firmware');
export const FIRMWARE_BUILD = join(FIRMWARE_DIR, 'build');

interface QemuBoardInfo {
  /** QEMU's program and machine. */
  qemu: string;
  machine: string;
  cpu: string;
  /** The real chip whose memory the image is linked for (firmware/boards/.../*.ld). */
  chip: string;
  /** The engines an agent image exists for: wasm3's heap does not fit every chip (docs/firmware.md). */
  engines: readonly ('wasm2c' | 'wasm3')[];
  /** Why there is no wasm3 agent image, where there is none. */
  noWasm3?: string;
  /** Where QEMU's loader places the settings word (memory QEMU has beyond the chip's); null: none. */
  configAddr: number | null;
  /**
   * The device key region (docs/firmware.md "Device keys"): RAM standing for flash at `addr`
   * (firmware/common/key_region.h), or a flash sector with a tally of boots (common/key_flash.h): in the
   * chip's flash (ROM to QEMU, loaded from a file) or in a CFI flash bank QEMU emulates, programs and keeps
   * in a -drive file of the bank's size.
   */
  keyRegion: { ram: number } | { rom: number; sectorBytes: number } | { pflash0: number; sectorBytes: number; bankBytes: number };
  /** The toolchain prefix of its firmware (objects read with its nm). */
  toolchain: string;
}

/** Boards QEMU emulates, with the machine, the chip the image is linked for and what the firmware builds for it. */
export const QEMU_BOARDS = {
  'qemu-mps2-an386': { qemu: 'qemu-system-arm', machine: 'mps2-an386', cpu: 'Cortex-M4', chip: 'a 256 KB-RAM Cortex-M4 such as the nRF52840 (1 MB flash, 256 KB RAM)', engines: ['wasm2c', 'wasm3'], configAddr: 0x21ffff00, keyRegion: { ram: 0x21fffe00 }, toolchain: 'arm-none-eabi-' },
  'qemu-mps2-an385': { qemu: 'qemu-system-arm', machine: 'mps2-an385', cpu: 'Cortex-M3', chip: 'a 128 KB-RAM Cortex-M3 such as the STM32F207 (1 MB flash, 128 KB RAM)', engines: ['wasm2c'], noWasm3: "agent-wasm3.wasm fully compiled takes more of wasm3's heap than the chip's 128 KB of RAM (wasm3_heap_bytes of the M4 and rv32 entries)", configAddr: 0x21ffff00, keyRegion: { ram: 0x21fffe00 }, toolchain: 'arm-none-eabi-' },
  'qemu-netduinoplus2': { qemu: 'qemu-system-arm', machine: 'netduinoplus2', cpu: 'Cortex-M4', chip: 'STM32F405 (1 MB flash, 128 KB SRAM; its 64 KB CCM unused)', engines: ['wasm2c'], noWasm3: "agent-wasm3.wasm fully compiled takes more of wasm3's heap than the chip's 128 KB of SRAM (wasm3_heap_bytes of the M4 and rv32 entries); its 64 KB CCM, apart and unmodelled by QEMU, would not make up the difference", configAddr: null, keyRegion: { rom: 0x080e0000, sectorBytes: 0x20000 }, toolchain: 'arm-none-eabi-' },
  'qemu-riscv32-virt': { qemu: 'qemu-system-riscv32', machine: 'virt', cpu: 'RV32IMC', chip: 'a 400 KB-RAM RV32 part such as the ESP32-C3 (RAM limited to 400 KB by the linker script)', engines: ['wasm2c', 'wasm3'], configAddr: 0x80800000, keyRegion: { pflash0: 0x40000, sectorBytes: 0x40000, bankBytes: 0x2000000 }, toolchain: 'riscv64-unknown-elf-' },
} as const satisfies Record<string, QemuBoardInfo>;
export type QemuBoardName = keyof typeof QEMU_BOARDS;

/** Settings word the board reads at boot (firmware/boards/mps2/board.c, boards/riscv32/board.c): magic, then the agent's memory. */
const CONFIG_MAGIC = 0x4643534d;
/** The receive window the firmware is built with (firmware/Makefile RX_WINDOW). */
export const QEMU_RX_WINDOW = 1024;

export const qemuBoardSpec = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'ids use letters, digits, ".", "_" and "-"'),
    board: z.enum(Object.keys(QEMU_BOARDS) as [QemuBoardName, ...QemuBoardName[]]).default('qemu-mps2-an386'),
    /** Bytes of memory the board gives the agent (its overhead and arena); absent: all the image has. */
    memory: z.number().int().positive().optional(),
    /**
     * Speed: one instruction takes 2^icountShift ns of the board's clock (0 = 1000 MIPS).
     * Different shifts make boards of different, known speeds.
     */
    icountShift: z.number().int().min(0).max(10).default(0),
    /** Hold the board's clock to the host's wall clock (-icount align=on): a slow board is slow in real time too. */
    realTime: z.boolean().default(false),
    /** The firmware's engine: agent.wasm compiled in by wasm2c, or parsed at boot by wasm3 (needs wasm3's source: WASM3_SRC). */
    engine: z.enum(['wasm2c', 'wasm3']).default('wasm2c'),
    /** The device's key file (`microsplit provision`): loaded into the board's key region; its boots counted beside it. Absent or missing: not keyed. */
    keyFile: z.string().min(1).optional(),
  })
  .strict();
export type QemuBoardSpec = z.input<typeof qemuBoardSpec>;

export interface QemuBoard {
  id: string;
  board: QemuBoardName;
  /** The PTY the gateway opens. */
  path: string;
  process: ChildProcess;
  /** Everything QEMU printed outside the link (its stdout and stderr). */
  stderr(): string;
  /** Stops QEMU; resolves once it has exited. */
  stop(): Promise<void>;
}

/** The agent image of a board and engine, relative to firmware/. */
export function agentImage(board: QemuBoardName, engine: 'wasm2c' | 'wasm3' = 'wasm2c'): string {
  return `build/${board}/agent${engine === 'wasm3' ? '-wasm3' : ''}.elf`;
}

/**
 * Bytes of linear memory a board's wasm2c agent image gives the agent when
 * told nothing else: every byte of RAM the image leaves (the linker's
 * ms_ram_free_bytes). Builds the image first.
 */
export function boardAgentMemory(board: QemuBoardName): number {
  const image = agentImage(board);
  buildFirmware([image]);
  const nm = execFileSync(`${QEMU_BOARDS[board].toolchain}nm`, [join(FIRMWARE_DIR, image)], { encoding: 'utf8' });
  const m = /^([0-9a-f]+) A ms_ram_free_bytes$/m.exec(nm);
  if (!m) throw new Error(`${image}: no ms_ram_free_bytes symbol (is it linked for a chip's memory?)`);
  return parseInt(m[1], 16);
}

/** Why the RISC-V board cannot be built and run here, or null. */
export function missingRiscvToolchain(): string | null {
  const packages = { 'qemu-system-riscv32': 'qemu-system-misc', 'riscv64-unknown-elf-gcc': 'gcc-riscv64-unknown-elf' };
  for (const [tool, pkg] of Object.entries(packages)) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (Debian package ${pkg}; .ci/run installs it)`;
  }
  if (!existsSync('/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs')) return 'picolibc for RISC-V is missing (Debian package picolibc-riscv64-unknown-elf; .ci/run installs it)';
  return null;
}

/** Why a QEMU test or command cannot run here, or null when the toolchain is present. */
export function missingQemuToolchain(): string | null {
  const packages = { 'qemu-system-arm': 'qemu-system-arm', 'arm-none-eabi-gcc': 'gcc-arm-none-eabi', wasm2c: 'wabt', make: 'make', flock: 'util-linux' };
  for (const [tool, pkg] of Object.entries(packages)) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (Debian package ${pkg}; .ci/run installs it)`;
  }
  if (!existsSync('/usr/src/wasm2c/wasm-rt.h')) return 'the wasm2c runtime sources (/usr/src/wasm2c, Debian package wabt) are missing';
  return null;
}

/** Builds firmware images (make targets relative to firmware/, e.g. "build/linux/agent"); throws the build's output on failure. */
export function buildFirmware(targets: string[]): void {
  // One build at a time: test files run in parallel and share generated C (flock, util-linux).
  mkdirSync(FIRMWARE_BUILD, { recursive: true });
  const r = spawnSync('flock', [join(FIRMWARE_BUILD, '.lock'), 'make', '-s', '-C', FIRMWARE_DIR, ...targets], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`firmware build failed (make ${targets.join(' ')}):\n${r.stdout}${r.stderr}`);
}

/** The QEMU command line for one board image, its UART on `serial` (pty, stdio, file:PATH). */
export function qemuArgs(machine: string, elf: string, opts: { icountShift: number; realTime: boolean; serial: string }): string[] {
  const icount = `shift=${opts.icountShift}${opts.realTime ? ',align=on,sleep=on' : ''}`;
  // RISC-V virt: no firmware before ours; the ELF starts in machine mode at its entry.
  const bios = machine === 'virt' ? ['-bios', 'none'] : [];
  return ['-M', machine, ...bios, '-display', 'none', '-monitor', 'none', '-semihosting-config', 'enable=on,target=native', '-icount', icount, '-kernel', elf, '-serial', opts.serial];
}

function loaderWord(addr: number, value: number): string[] {
  return ['-device', `loader,addr=0x${addr.toString(16)},data=0x${(value >>> 0).toString(16)},data-len=4`];
}

/**
 * QEMU arguments placing the key region before boot. QEMU's memory does not
 * outlive the process, so the boots so far are kept in the key file's boot
 * counter (one more counted now) and loaded as the board would hold them;
 * the board counts this boot. RAM is written word by word by the loader; a
 * sector of the chip's flash (ROM to QEMU, where the loader's words do not
 * reach, and which the board does not write under QEMU) from an image file;
 * a sector of virt's first CFI bank from a -drive file the board then
 * programs. Files go in `dir`.
 */
function keyRegionArgs(keyFile: string, at: QemuBoardInfo['keyRegion'], dir: () => string): string[] {
  const key = readKeyFile(keyFile);
  const boots = nextBootSession(keyFile) - 1;
  if ('ram' in at) {
    const view = new DataView(keyRegionImage(key, boots).buffer);
    return Array.from({ length: view.byteLength / 4 }, (_, i) => loaderWord(at.ram + 4 * i, view.getUint32(4 * i, true))).flat();
  }
  const file = join(dir(), 'key-flash.bin');
  const sector = keySectorImage(key, boots, at.sectorBytes);
  if ('rom' in at) {
    writeFileSync(file, sector, { mode: 0o600 });
    return ['-device', `loader,file=${file},addr=0x${at.rom.toString(16)},force-raw=on`];
  }
  // Given a first bank, virt starts there instead of at the image (and it treats a second bank as
  // firmware that loads the image itself): the bank begins with a jump to the image, 0x80000000.
  const bank = new Uint8Array(at.pflash0 + at.sectorBytes);
  new DataView(bank.buffer).setUint32(0, 0x800002b7, true); // lui t0, 0x80000
  new DataView(bank.buffer).setUint32(4, 0x00028067, true); // jr t0
  bank.set(sector, at.pflash0);
  writeFileSync(file, bank, { mode: 0o600 });
  truncateSync(file, at.bankBytes);
  return ['-drive', `if=pflash,unit=0,format=raw,file=${file}`];
}

function startOne(spec: z.output<typeof qemuBoardSpec>, elf: string, timeoutMs: number): Promise<QemuBoard> {
  const info: QemuBoardInfo = QEMU_BOARDS[spec.board];
  const args = qemuArgs(info.machine, elf, { icountShift: spec.icountShift, realTime: spec.realTime, serial: 'pty' });
  if (spec.memory !== undefined && info.configAddr !== null) args.push(...loaderWord(info.configAddr, CONFIG_MAGIC), ...loaderWord(info.configAddr + 4, spec.memory));
  let tmp: string | undefined;
  if (spec.keyFile && existsSync(spec.keyFile)) args.push(...keyRegionArgs(spec.keyFile, info.keyRegion, () => (tmp = mkdtempSync(join(tmpdir(), 'microsplit-key-')))));
  // QEMU 7.2 announces the PTY on stdout, errors on stderr: read both.
  const proc = spawn(info.qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  for (const s of [proc.stdout!, proc.stderr!]) {
    s.setEncoding('utf8');
    s.on('data', (d: string) => (err += d));
  }
  // The key's flash file holds the key (its directory is the owner's only): removed when QEMU exits.
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => tmp && rmSync(tmp, { recursive: true, force: true }));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`QEMU board ${spec.id}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no PTY within ${timeoutMs} ms; output: ${err.trim()}`), timeoutMs);
    proc.once('error', (e) => fail(`cannot start ${info.qemu}: ${e.message}`));
    const onEarlyExit = (code: number | null) => fail(`exited with code ${code} before its PTY was ready; output: ${err.trim()}`);
    proc.once('exit', onEarlyExit);
    const onData = () => {
      const m = /char device redirected to (\S+)/.exec(err);
      if (!m) return;
      clearTimeout(timer);
      proc.off('exit', onEarlyExit);
      proc.stdout!.off('data', onData);
      proc.stderr!.off('data', onData);
      resolve({
        id: spec.id,
        board: spec.board,
        path: m[1],
        process: proc,
        stderr: () => err,
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          await exited;
        },
      });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
  });
}

/**
 * Boots QEMU boards running the agent firmware, one PTY each: `n` M4 boards
 * with default settings, or one board per spec. Builds the images first.
 * If any board fails to start, the others are stopped and the error thrown.
 */
export async function startQemuBoards(
  boards: number | QemuBoardSpec[],
  opts: { timeoutMs?: number; /** Boots this ELF instead of the agent image (test fixtures); nothing is built. */ image?: (board: QemuBoardName) => string } = {},
): Promise<QemuBoard[]> {
  const specs = (typeof boards === 'number' ? Array.from({ length: boards }, (_, i) => ({ id: `qemu${i}` })) : boards).map((s, i) => {
    const r = qemuBoardSpec.safeParse(s);
    if (!r.success) throw new Error(`QEMU board ${i}: ${r.error.issues[0].path.join('.') || '(spec)'}: ${r.error.issues[0].message}`);
    return r.data;
  });
  const missing = missingQemuToolchain() ?? (specs.some((s) => s.board === 'qemu-riscv32-virt') ? missingRiscvToolchain() : null);
  if (missing) throw new Error(`cannot start QEMU boards: ${missing}`);
  specs.forEach((s, i) => {
    const info: QemuBoardInfo = QEMU_BOARDS[s.board];
    if (!info.engines.includes(s.engine)) throw new Error(`QEMU board ${i}: ${s.board} has no ${s.engine} agent image (${info.chip} cannot hold it: docs/firmware.md)`);
    if (s.memory !== undefined && info.configAddr === null && !opts.image && s.memory !== boardAgentMemory(s.board))
      throw new Error(`QEMU board ${i}: ${s.board} gives its agent all ${boardAgentMemory(s.board)} bytes its image leaves (it takes no settings word): leave memory out or give exactly that`);
  });
  const imageOf = (s: (typeof specs)[number]) => agentImage(s.board, s.engine);
  if (!opts.image) buildFirmware([...new Set(specs.map(imageOf))]);
  const started = await Promise.allSettled(specs.map((s) => startOne(s, opts.image ? opts.image(s.board) : join(FIRMWARE_DIR, imageOf(s)), opts.timeoutMs ?? 10_000)));
  const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const bad = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) {
    await Promise.all(ok.map((b) => b.stop()));
    throw bad.reason;
  }
  return ok;
}
