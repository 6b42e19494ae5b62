// `npm run firmware [-- --json] [make targets...]`: builds the firmware
// (make -C firmware; every image, and the wasm3 images when wasm3's source is
// there), then reports each board's agent image from its link map: flash and
// RAM used beside the chip's (the linker script's regions), and the agent's
// arena. An image that does not fit its chip, or a wasm2c image whose arena is
// less than half the chip's RAM, fails the build with the numbers. With
// --json the last line is {"boards":[...]}.
//
// The arena of a wasm2c image follows from the link map: the RAM the image
// leaves (ms_ram_free_bytes) less the agent's overhead for the firmware's
// receive window. A wasm3 image's linear memory is what wasm3's own heap use
// leaves at boot, so its arena is read from HELLO on a booted board.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceClient } from '../../host/link/client.ts';
import { openSerial } from '../../host/link/serial.ts';
import { agentOverhead } from '../../host/sim/agent-host.ts';
import { agentImage, FIRMWARE_DIR, QEMU_BOARDS, QEMU_RX_WINDOW, startQemuBoards, type QemuBoardName } from '../../host/sim/qemu.ts';
import { missingWasm3 } from '../../host/wasm3/build.ts';

interface BoardEntry {
  board: QemuBoardName;
  engine: 'wasm2c' | 'wasm3';
  flash_bytes: number;
  ram_bytes: number;
  chip_flash_bytes: number;
  chip_ram_bytes: number;
  arena_bytes: number;
  /** RAM of the stack, data and bss; the rest of ram_bytes is the engine's (linear memory, or wasm3's heap). */
  static_ram_bytes: number;
  /** The agent's linear memory (its overhead plus the arena). */
  linear_bytes: number;
  /** wasm3 images: the heap wasm3 itself takes (runtime, parsed and compiled module, slack), the engine's RAM less the linear memory. */
  wasm3_heap_bytes?: number;
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const targets = args.filter((a) => a !== '--json');

const make = (t: string[]) => {
  const r = spawnSync('make', ['-C', FIRMWARE_DIR, ...t], { stdio: ['ignore', json ? 'ignore' : 'inherit', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const wasm3 = missingWasm3() === null;
make(targets.length ? targets : ['all', ...(wasm3 ? ['wasm3'] : [])]);

/** The FLASH and RAM regions of a link map ("Memory Configuration"). */
function regions(map: string): Record<'FLASH' | 'RAM', { origin: number; length: number }> {
  const out: Record<string, { origin: number; length: number }> = {};
  for (const m of map.matchAll(/^(FLASH|RAM)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/gm)) out[m[1]] = { origin: parseInt(m[2], 16), length: parseInt(m[3], 16) };
  if (!out.FLASH || !out.RAM) throw new Error('link map without FLASH and RAM regions');
  return out as Record<'FLASH' | 'RAM', { origin: number; length: number }>;
}

/** Allocated sections of an ELF: name, size, address (size -A). */
function sections(board: QemuBoardName, elf: string): { name: string; size: number; addr: number }[] {
  const out = execFileSync(`${QEMU_BOARDS[board].toolchain}size`, ['-A', '-d', elf], { encoding: 'utf8' });
  return [...out.matchAll(/^(\.\S+)\s+(\d+)\s+(\d+)$/gm)].map((m) => ({ name: m[1], size: +m[2], addr: +m[3] }));
}

async function helloArena(board: QemuBoardName): Promise<number> {
  const [b] = await startQemuBoards([{ id: board, board, engine: 'wasm3' }], { timeoutMs: 60_000 });
  try {
    const client = await DeviceClient.connect(await openSerial(b.path), { name: board, connectTimeoutMs: 60_000 });
    await client.close();
    return client.info.budget;
  } finally {
    await b.stop();
  }
}

async function entry(board: QemuBoardName, engine: 'wasm2c' | 'wasm3'): Promise<BoardEntry> {
  const elf = join(FIRMWARE_DIR, agentImage(board, engine));
  const { FLASH, RAM } = regions(readFileSync(`${elf}.map`, 'utf8'));
  const inside = (addr: number, r: { origin: number; length: number }) => addr >= r.origin && addr < r.origin + r.length;
  const secs = sections(board, elf);
  const ram = secs.filter((s) => inside(s.addr, RAM));
  // Flash holds what lies in it and the initial values of .data.
  const flash = secs.filter((s) => inside(s.addr, FLASH) || s.name === '.data').reduce((a, s) => a + s.size, 0);
  const engineRam = ram.find((s) => s.name === '.ram_free')?.size ?? 0;
  const overhead = agentOverhead(QEMU_RX_WINDOW);
  const arena = engine === 'wasm2c' ? engineRam - overhead : await helloArena(board);
  return {
    board,
    engine,
    flash_bytes: flash,
    ram_bytes: ram.reduce((a, s) => a + s.size, 0),
    chip_flash_bytes: FLASH.length,
    chip_ram_bytes: RAM.length,
    arena_bytes: arena,
    static_ram_bytes: ram.filter((s) => s.name !== '.ram_free').reduce((a, s) => a + s.size, 0),
    linear_bytes: arena + overhead,
    ...(engine === 'wasm3' ? { wasm3_heap_bytes: engineRam - arena - overhead } : {}),
  };
}

const images = (Object.keys(QEMU_BOARDS) as QemuBoardName[]).flatMap((board) =>
  QEMU_BOARDS[board].engines.map((engine) => ({ board, engine })).filter((i) => existsSync(join(FIRMWARE_DIR, agentImage(i.board, i.engine)))),
);
const boards: BoardEntry[] = [];
for (const i of images) boards.push(await entry(i.board, i.engine));

/** Boards without a wasm3 image, and why (a chip too small for wasm3's heap). */
const notBuilt = (Object.entries(QEMU_BOARDS) as [QemuBoardName, { noWasm3?: string }][])
  .filter(([, info]) => info.noWasm3)
  .map(([board, info]) => ({ board, engine: 'wasm3', why: info.noWasm3! }));

const kib = (n: number) => `${(n / 1024).toFixed(1)}K`;
const problems = boards.flatMap((b) => [
  ...(b.flash_bytes > b.chip_flash_bytes ? [`${b.board} ${b.engine}: flash ${b.flash_bytes} > the chip's ${b.chip_flash_bytes} bytes`] : []),
  ...(b.ram_bytes > b.chip_ram_bytes ? [`${b.board} ${b.engine}: RAM ${b.ram_bytes} > the chip's ${b.chip_ram_bytes} bytes`] : []),
  ...(b.engine === 'wasm2c' && b.arena_bytes * 2 < b.chip_ram_bytes ? [`${b.board} ${b.engine}: arena ${b.arena_bytes} is less than half the chip's ${b.chip_ram_bytes} bytes of RAM`] : []),
]);
console.log('board               engine  flash / chip        RAM / chip          static  linear   arena');
for (const b of boards)
  console.log(
    `${b.board.padEnd(19)} ${b.engine.padEnd(7)} ${`${kib(b.flash_bytes)} / ${kib(b.chip_flash_bytes)}`.padEnd(19)} ${`${kib(b.ram_bytes)} / ${kib(b.chip_ram_bytes)}`.padEnd(19)} ${kib(b.static_ram_bytes).padStart(6)} ${kib(b.linear_bytes).padStart(7)} ${kib(b.arena_bytes).padStart(7)}`,
  );
for (const n of notBuilt) console.log(`no ${n.engine} image for ${n.board}: ${n.why}`);
for (const p of problems) console.error(`firmware: ${p}`);
if (json) console.log(JSON.stringify({ boards, not_built: notBuilt }));
if (problems.length) process.exit(1);
