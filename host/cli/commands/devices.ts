// `microsplit devices PORT... | --testbed T.json`: HELLO every device and
// print its capabilities. With --testbed the testbed's simulated devices are
// started for the question and stopped afterwards. With --json the last line
// is one JSON object: { devices: [{ id, uri, ok, info?, rttMs?, error? }] }.
import type { Command } from 'commander';
import { DeviceClient, type DeviceInfo } from '../../link/client.ts';
import { openTransport } from '../../link/open.ts';
import { startTestbed } from '../../sim/launcher.ts';
import { printTable } from '../table.ts';

interface DevicesOptions {
  testbed?: string;
  json?: boolean;
  timeout: number;
  key?: string;
}

export interface DeviceReport {
  id: string;
  uri: string;
  ok: boolean;
  info?: DeviceInfo;
  rttMs?: number;
  error?: string;
}

export function register(program: Command): void {
  program
    .command('devices')
    .description('HELLO each device (ports, tcp://host:port, ble://name, or a testbed) and print its capabilities')
    .argument('[ports...]', 'link addresses: /dev/ttyUSB0, /dev/pts/N, tcp://host:port, ble://name')
    .option('--testbed <file>', 'start this testbed, ask its devices, then stop it')
    .option('--timeout <ms>', 'give up on a device after this long', (v) => positiveInt(v, '--timeout'), 5000)
    .option('--key <hex>', 'device key, to resume its counter (HELLO itself needs no key)')
    .option('--json', 'print one JSON object as the last line')
    .action(async (ports: string[], opts: DevicesOptions) => {
      if (!opts.testbed && ports.length === 0) throw new Error('give at least one port or --testbed FILE');
      const tb = opts.testbed ? await startTestbed(opts.testbed) : undefined;
      try {
        const targets = [...ports.map((uri) => ({ id: uri, uri })), ...(tb?.devices.map(({ id, uri }) => ({ id, uri })) ?? [])];
        const reports = await Promise.all(targets.map((t) => ask(t.id, t.uri, opts)));
        printReports(reports);
        if (opts.json) console.log(JSON.stringify({ devices: reports }));
        if (reports.some((r) => !r.ok)) process.exitCode = 1;
      } finally {
        await tb?.stop();
      }
    });
}

async function ask(id: string, uri: string, opts: DevicesOptions): Promise<DeviceReport> {
  try {
    const client = await DeviceClient.connect(await openTransport(uri), {
      name: id,
      connectTimeoutMs: opts.timeout,
      key: opts.key ? Buffer.from(opts.key, 'hex') : undefined,
    });
    try {
      const { rttMs } = await client.ping();
      return { id, uri, ok: true, info: client.info, rttMs: Math.round(rttMs * 100) / 100 };
    } finally {
      await client.close();
    }
  } catch (e) {
    return { id, uri, ok: false, error: (e as Error).message };
  }
}

function printReports(reports: DeviceReport[]): void {
  const kib = (n: number) => `${(n / 1024).toFixed(1)}K`;
  const rows = reports.flatMap((r) => {
    const i = r.info;
    if (!i) return [];
    return [
      [
        r.id,
        r.uri,
        `v${i.version}`,
        i.engine,
        kib(i.budget),
        `${i.window}`,
        `0x${i.abi.toString(16).padStart(8, '0')}`,
        `${kib(i.used)} / ${kib(i.highWater)}`,
        `${i.fragments.length}${i.keyed ? ' keyed' : ''}`,
        `${r.rttMs} ms`,
      ],
    ];
  });
  if (rows.length) printTable(['device', 'link', 'protocol', 'engine', 'budget', 'window', 'kernel ABI', 'used / high', 'fragments', 'ping'], rows);
  for (const r of reports) if (r.error) console.log(`${r.id}: ${r.error}`);
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${v}"`);
  return n;
}
