// Where the gateway commands find their devices: a testbed file whose
// simulated devices they start themselves, or devices already running (real
// boards, `microsplit sim`, QEMU) given as --device id=ADDRESS or a ports file
// (the JSON `microsplit sim --json` prints). Profiles for planning come from
// the testbed, a device profile file, or a plan. Devices simulated in Node
// (from the testbed, or listed in a ports file with their `speed`) are known
// as such, with the MAC/s their simulator enforces.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { DeviceClient } from '../link/client.ts';
import { loadDevices, type DeviceProfile } from '../plan/profiles.ts';
import { connectAll } from '../run/connect.ts';
import { openTestbed } from '../run/session.ts';
import { profileOf } from '../run/testbed-profiles.ts';

export interface TargetFlags {
  testbed?: string;
  device: string[];
  ports?: string;
  devices?: string;
}

export interface Targets {
  clients: Map<string, DeviceClient>;
  /** Planning profiles when known (testbed or --devices). */
  profiles?: DeviceProfile[];
  /** Devices simulated in Node, by id: the MAC/s per op kind their simulator enforces (`default` for the rest). */
  simulatedSpeeds: Map<string, Record<string, number>>;
  close(): Promise<void>;
}

export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option('--testbed <file>', 'start the simulated devices of this testbed file (and stop them at the end)')
    .option('--device <id=address>', 'a running device: id=/dev/ttyUSB0, id=/dev/pts/3, id=tcp://host:port, id=ble://name (repeat)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--ports <file>', 'running devices as JSON {"devices":[{"id","uri"}]} (what `microsplit sim --json` prints)')
    .option('--devices <file>', 'device profiles (JSON) for planning, when not from a testbed');
}

export function parseDeviceFlag(v: string): { id: string; uri: string } {
  const m = /^([A-Za-z0-9._-]+)=(.+)$/.exec(v);
  if (!m) throw new Error(`--device must look like id=ADDRESS (e.g. m4=/dev/ttyACM0), got "${v}"`);
  return { id: m[1], uri: m[2] };
}

interface PortEntry {
  id: string;
  uri: string;
  /** Present for simulated devices (`microsplit sim --json`): the MAC/s they simulate. */
  speed?: Record<string, number>;
}

const isSpeed = (v: unknown): v is Record<string, number> =>
  typeof v === 'object' && v !== null && typeof (v as { default?: unknown }).default === 'number' && Object.values(v).every((x) => typeof x === 'number' && x > 0);

function readPorts(file: string): PortEntry[] {
  let json: { devices?: { id?: unknown; uri?: unknown; speed?: unknown }[] };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ports file ${file}: ${(e as Error).message}`);
  }
  const list = json.devices;
  if (!Array.isArray(list) || list.some((d) => typeof d?.id !== 'string' || typeof d?.uri !== 'string' || (d.speed !== undefined && !isSpeed(d.speed))))
    throw new Error(`${file}: expected {"devices":[{"id":"...","uri":"...", "speed"?: {"default": MAC/s, ...}}]}`);
  return list as PortEntry[];
}

export async function openTargets(f: TargetFlags, log?: (line: string) => void): Promise<Targets> {
  const listed: PortEntry[] = [...f.device.map(parseDeviceFlag), ...(f.ports ? readPorts(f.ports) : [])];
  if (f.testbed && listed.length) throw new Error('give --testbed or running devices (--device/--ports), not both');
  if (f.testbed) {
    const open = await openTestbed(f.testbed, log, true);
    const simulated = open.testbed.devices.filter((d) => d.engine === 'node' && d.spec);
    return { ...open, simulatedSpeeds: new Map(simulated.map((d) => [d.id, profileOf(d.spec!).macPerSec])) };
  }
  if (listed.length === 0) throw new Error('no devices: give --testbed FILE, --device id=ADDRESS or --ports FILE');
  const clients = await connectAll(listed);
  return {
    clients,
    profiles: f.devices ? loadDevices(f.devices) : undefined,
    simulatedSpeeds: new Map(listed.filter((d) => d.speed).map((d) => [d.id, d.speed!])),
    close: async () => {
      await Promise.allSettled([...clients.values()].map((c) => c.close()));
    },
  };
}
