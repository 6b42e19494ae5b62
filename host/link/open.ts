// Opens a transport from what a user types: a device path (/dev/ttyUSB0,
// /dev/pts/3, COM3, optionally as serial:///dev/...), tcp://host:port, or
// ble://name. Optional query parameter for serial: ?baud=N.
import type { Transport } from './transport.ts';

export type LinkAddress =
  | { kind: 'serial'; path: string; baudRate?: number }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'ble'; name: string };

/** Parses a link address; throws one line naming what is wrong. */
export function parseLinkAddress(uri: string): LinkAddress {
  const bad = (why: string): never => {
    throw new Error(`bad link address "${uri}": ${why}`);
  };
  if (uri.startsWith('tcp://')) {
    const u = new URL(uri);
    const port = Number(u.port);
    if (!u.hostname) bad('missing host');
    if (!Number.isInteger(port) || port < 1 || port > 65535) bad('missing or invalid port (tcp://host:port)');
    return { kind: 'tcp', host: u.hostname.replace(/^\[|\]$/g, ''), port };
  }
  if (uri.startsWith('ble://')) {
    const name = decodeURIComponent(uri.slice('ble://'.length));
    if (!name) bad('missing device name (ble://name)');
    return { kind: 'ble', name };
  }
  const serial = uri.startsWith('serial://') ? uri.slice('serial://'.length) : uri;
  const [path, query] = serial.split('?', 2);
  if (!/^(\/dev\/|COM\d+$)/.test(path)) bad('expected a device path (/dev/..., COMn), tcp://host:port or ble://name');
  if (!query) return { kind: 'serial', path };
  const baud = new URLSearchParams(query).get('baud');
  const baudRate = Number(baud);
  if (!baud || !Number.isInteger(baudRate) || baudRate <= 0) bad('baud must be a positive integer (?baud=115200)');
  return { kind: 'serial', path, baudRate };
}

/** Opens the link at `uri`. BLE support is loaded only when asked for. */
export async function openTransport(uri: string): Promise<Transport> {
  const a = parseLinkAddress(uri);
  switch (a.kind) {
    case 'serial':
      return (await import('./serial.ts')).openSerial(a.path, { baudRate: a.baudRate });
    case 'tcp':
      return (await import('./tcp.ts')).openTcp(a.host, a.port);
    case 'ble':
      return (await import('./ble.ts')).openBle(a.name);
  }
}
