// A BLE link over the Nordic UART Service (NUS): the gateway writes to the RX
// characteristic and receives notifications from TX. One ATT write carries at
// most MTU - 3 bytes, so every transport write is cut into such chunks.
//
// The transport is written against `BleUartPeer`, a small interface, so the
// chunking runs against an in-memory peer in tests: this machine has no
// Bluetooth, and @abandonware/noble throws when loaded without it. noble is
// therefore imported only inside `openBle`, when a BLE link is asked for.
import { BaseTransport } from './base-transport.ts';
import type { Transport } from './transport.ts';

export const NUS_SERVICE = '6e400001b5a3f393e0a9e50e24dcca9e';
export const NUS_RX = '6e400002b5a3f393e0a9e50e24dcca9e';
export const NUS_TX = '6e400003b5a3f393e0a9e50e24dcca9e';

/** ATT header bytes in a write: opcode (1) + handle (2). */
const ATT_HEADER = 3;
/** The MTU every BLE link supports before an exchange. */
export const BLE_DEFAULT_MTU = 23;

/** One connected NUS peripheral, as the transport needs it. */
export interface BleUartPeer {
  readonly name: string;
  /** Negotiated ATT MTU (23 when none was negotiated). */
  readonly mtu: number;
  /** Writes one ATT payload of at most mtu - 3 bytes to RX. */
  writeRx(chunk: Uint8Array): Promise<void>;
  /** Registers the handler for TX notifications. */
  onNotify(handler: (bytes: Uint8Array) => void): void;
  /** Registers the handler for a link loss. */
  onDisconnect(handler: (reason: string) => void): void;
  disconnect(): Promise<void>;
}

/** Cuts `bytes` into ATT payloads for `mtu`: views, in order, none longer than mtu - 3. */
export function attChunks(bytes: Uint8Array, mtu: number): Uint8Array[] {
  if (!Number.isInteger(mtu) || mtu <= ATT_HEADER) throw new Error(`BLE MTU must be an integer above ${ATT_HEADER}, got ${mtu}`);
  const size = mtu - ATT_HEADER;
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

class BleTransport extends BaseTransport {
  constructor(
    private readonly peer: BleUartPeer,
    maxWrite: number,
  ) {
    super(`ble://${peer.name}`, maxWrite);
    peer.onNotify((b) => this.received(b));
    peer.onDisconnect((reason) => this.disconnected(reason));
  }

  protected async send(bytes: Uint8Array): Promise<void> {
    // The MTU is read per write: it may grow after the exchange completes.
    for (const chunk of attChunks(bytes, this.peer.mtu)) await this.peer.writeRx(chunk);
  }

  protected shutdown(): Promise<void> {
    return this.peer.disconnect();
  }
}

/** A transport over an already connected NUS peer. */
export function bleTransport(peer: BleUartPeer, maxWrite = 64 * 1024): Transport {
  return new BleTransport(peer, maxWrite);
}

export interface BleOptions {
  /** Give up scanning after this long. Default 10000 ms. */
  scanTimeoutMs?: number;
  maxWrite?: number;
}

/** Scans for a NUS peripheral advertising the local name `name`, connects, and returns its transport. */
export async function openBle(name: string, opts: BleOptions = {}): Promise<Transport> {
  let noble: typeof import('@abandonware/noble');
  try {
    noble = (await import('@abandonware/noble')).default as typeof import('@abandonware/noble');
  } catch (e) {
    throw new Error(`BLE is unavailable on this machine (@abandonware/noble failed to load: ${(e as Error).message})`);
  }
  const timeoutMs = opts.scanTimeoutMs ?? 10_000;
  const peripheral = await new Promise<import('@abandonware/noble').Peripheral>((resolve, reject) => {
    const timer = setTimeout(() => {
      noble.removeListener('discover', onDiscover);
      void noble.stopScanningAsync();
      reject(new Error(`no BLE device named ${name} advertising the Nordic UART Service within ${timeoutMs} ms`));
    }, timeoutMs);
    function onDiscover(p: import('@abandonware/noble').Peripheral) {
      if (p.advertisement.localName !== name) return;
      clearTimeout(timer);
      noble.removeListener('discover', onDiscover);
      void noble.stopScanningAsync();
      resolve(p);
    }
    noble.on('discover', onDiscover);
    noble.startScanningAsync([NUS_SERVICE], false).catch((e: Error) => {
      clearTimeout(timer);
      reject(new Error(`BLE scan failed: ${e.message}`));
    });
  });
  await peripheral.connectAsync();
  const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync([NUS_SERVICE], [NUS_RX, NUS_TX]);
  const rx = characteristics.find((c) => c.uuid === NUS_RX);
  const tx = characteristics.find((c) => c.uuid === NUS_TX);
  if (!rx || !tx) {
    await peripheral.disconnectAsync();
    throw new Error(`BLE device ${name} lacks the Nordic UART RX/TX characteristics`);
  }
  await tx.subscribeAsync();
  const peer: BleUartPeer = {
    name,
    get mtu() {
      return peripheral.mtu ?? BLE_DEFAULT_MTU;
    },
    writeRx: (chunk) => rx.writeAsync(Buffer.from(chunk), true),
    onNotify: (h) => void tx.on('data', (data: Buffer) => h(new Uint8Array(data))),
    onDisconnect: (h) => void peripheral.once('disconnect', () => h('BLE peripheral disconnected')),
    disconnect: () => peripheral.disconnectAsync(),
  };
  return bleTransport(peer, opts.maxWrite);
}
