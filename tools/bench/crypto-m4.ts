// The agent's ChaCha20 and HMAC-SHA256 on the Cortex-M4 (QEMU mps2-an386,
// -icount shift=0): firmware/common/crypto_main.c runs the agent's own crypto
// code (assembly/agent/probe/crypto.ts, compiled by wasm2c with the boards'
// memory checks) over a short and a long buffer and prints the ticks of each. The
// cost per byte is the slope between the two lengths, so the fixed part (key
// schedule, HMAC's pad blocks and finish) is apart from it.
import { join } from 'node:path';
import { buildFirmware, FIRMWARE_DIR, QEMU_BOARDS, qemuArgs } from '../../host/sim/qemu.ts';
import { runProgram } from '../firmware/job.ts';

const IMAGE = 'build/crypto/qemu-mps2-an386/crypto.elf';

export interface CryptoCost {
  /** Instructions per byte, and the fixed instructions of one call. */
  chacha20: { perByte: number; fixed: number };
  hmac: { perByte: number; fixed: number };
}

export async function cryptoOnM4(): Promise<CryptoCost> {
  buildFirmware(['crypto-bench']);
  const r = await runProgram('qemu-system-arm', qemuArgs(QEMU_BOARDS['qemu-mps2-an386'].machine, join(FIRMWARE_DIR, IMAGE), { icountShift: 0, realTime: false, serial: 'stdio' }), 120_000);
  const ipt = /^done ipt=(\d+)$/m.exec(r.stdout);
  if (r.status !== 0 || !ipt) throw new Error(`crypto image: exited with ${r.status}: ${r.stdout.slice(-2000)}${r.stderr}`);
  const runs = [...r.stdout.matchAll(/^crypto (chacha|hmac) (\d+) ticks=(\d+)$/gm)].map((m) => ({ what: m[1], bytes: +m[2], instructions: +m[3] * +ipt[1] }));
  const line = (what: string) => {
    const mine = runs.filter((x) => x.what === what).sort((a, b) => a.bytes - b.bytes);
    if (mine.length < 2) throw new Error(`crypto image: fewer than two ${what} lengths in its output:\n${r.stdout}`);
    const [short, long] = [mine[0], mine[mine.length - 1]];
    const perByte = (long.instructions - short.instructions) / (long.bytes - short.bytes);
    return { perByte, fixed: short.instructions - perByte * short.bytes };
  };
  return { chacha20: line('chacha'), hmac: line('hmac') };
}
