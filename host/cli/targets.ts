// Where the gateway commands find their devices: a testbed file whose
// simulated devices they start themselves, or devices already running (real
// boards, `microsplit sim`, QEMU) given as --device id=ADDRESS or a ports file
// (the JSON `microsplit sim --json` prints). Profiles for planning come from
// the testbed, a device profile file, or a plan.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { DeviceClient } from '../link/client.ts';
import { loadDevices, type DeviceProfile } from '../plan/profiles.ts';
import { connectAll } from '../run/connect.ts';
import { openTestbed } from '../run/session.ts';

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

function readPorts(file: string): { id: string; uri: string }[] {
  let json: { devices?: { id?: unknown; uri?: unknown }[] };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ports file ${file}: ${(e as Error).message}`);
  }
  const list = json.devices;
  if (!Array.isArray(list) || list.some((d) => typeof d?.id !== 'string' || typeof d?.uri !== 'string'))
    throw new Error(`${file}: expected {"devices":[{"id":"...","uri":"..."}]}`);
  return list as { id: string; uri: string }[];
}

export async function openTargets(f: TargetFlags, log?: (line: string) => void): Promise<Targets> {
  const listed = [...f.device.map(parseDeviceFlag), ...(f.ports ? readPorts(f.ports) : [])];
  if (f.testbed && listed.length) throw new Error('give --testbed or running devices (--device/--ports), not both');
  if (f.testbed) return openTestbed(f.testbed, log, true);
  if (listed.length === 0) throw new Error('no devices: give --testbed FILE, --device id=ADDRESS or --ports FILE');
  const clients = await connectAll(listed);
  return {
    clients,
    profiles: f.devices ? loadDevices(f.devices) : undefined,
    close: async () => {
      await Promise.allSettled([...clients.values()].map((c) => c.close()));
    },
  };
}
