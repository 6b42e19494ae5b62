// `microsplit sim TESTBED.json`: starts the testbed's simulated devices and
// prints where the gateway finds each one; runs until Ctrl-C, then stops
// every process it started. With --json the device list is also printed as
// one JSON object line. (Boards from QEMU: `board` entries in the testbed;
// other device sources plug in through startTestbed's `extra` option.)
import type { Command } from 'commander';
import { profileOf } from '../../run/testbed-profiles.ts';
import { startTestbed, type SimDeviceHandle } from '../../sim/launcher.ts';
import { QEMU_BOARDS } from '../../sim/qemu.ts';
import { printTable } from '../table.ts';

interface SimOptions {
  json?: boolean;
  qemu?: number;
  board: string;
}

/** A testbed of `n` QEMU boards (each gives its agent all the RAM its image leaves; speed and link are the board's own). */
function qemuTestbed(n: number, board: string): unknown {
  if (!(board in QEMU_BOARDS)) throw new Error(`--board ${board}: unknown QEMU board (known: ${Object.keys(QEMU_BOARDS).join(', ')})`);
  const devices = Array.from({ length: n }, (_, i) => ({
    id: `qemu${i}`,
    board,
    speed: { default: 1e8 },
    link: { kind: 'pty', rate: 1e6 },
  }));
  return { name: `${n} QEMU boards`, devices };
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('start the simulated devices of a testbed file and print their ports; Ctrl-C stops them')
    .argument('[testbed]', 'testbed JSON file (see testbeds/)')
    .option('--json', 'also print the devices as one JSON object line')
    .option('--qemu <n>', 'instead of a testbed: boot N QEMU boards running the firmware (host/sim/qemu.ts)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`--qemu takes a board count 1..16, got ${v}`);
      return n;
    })
    .option('--board <name>', `the board --qemu boots (${Object.keys(QEMU_BOARDS).join(', ')})`, 'qemu-mps2-an386')
    .action(async (file: string | undefined, opts: SimOptions) => {
      if ((file === undefined) === (opts.qemu === undefined)) throw new Error('give a testbed file or --qemu N (not both)');
      const tb = await startTestbed(file ?? qemuTestbed(opts.qemu!, opts.board));
      printDevices(tb.devices);
      console.log(tb.links);
      // A simulated device's `speed` (the MAC/s its simulator enforces) tells `profile --ports` what it simulates.
      const listed = tb.devices.map(({ id, uri, engine, pid, spec }) => ({ id, uri, engine, pid, ...(engine === 'node' && spec && { speed: profileOf(spec).macPerSec }) }));
      if (opts.json) console.log(JSON.stringify({ devices: listed }));
      console.log(`${tb.devices.length} device(s) running; Ctrl-C stops them.`);
      for (const d of tb.devices) void d.exited.then((code) => console.log(`device ${d.id} exited (code ${code})`));
      // Keep running until the launcher's SIGINT/SIGTERM handlers stop the devices and exit. A pending
      // promise does not keep Node alive, and the device processes are unref'd (only socat's are not,
      // so without socat Node would exit here): a timer holds the event loop open.
      setInterval(() => undefined, 2 ** 31 - 1);
    });
}

function printDevices(devices: SimDeviceHandle[]): void {
  const rows = devices.map((d) => [
    d.id,
    d.uri,
    d.engine,
    d.spec ? `${d.spec.memory}` : '',
    d.spec ? `${d.link} ${d.spec.link.rate} B/s` : '',
    d.spec?.faults ? Object.keys(d.spec.faults).filter((k) => (d.spec!.faults as Record<string, unknown>)[k]).join(',') : '',
  ]);
  printTable(['device', 'link address', 'engine', 'memory', 'link', 'faults'], rows);
}
