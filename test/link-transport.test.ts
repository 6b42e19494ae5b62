// The transport contract, checked the same way on every link: the mock
// pair, TCP on loopback, serial over a real socat PTY pair, and BLE over an
// in-memory Nordic UART peer.
import { createServer, type Server } from 'node:net';
import { beforeAll, describe, expect, it, test as base } from 'vitest';
import { attChunks, BLE_DEFAULT_MTU, bleTransport, type BleUartPeer } from '../host/link/ble.ts';
import { mockPair } from '../host/link/mock.ts';
import { openSerial } from '../host/link/serial.ts';
import { openTcp, socketTransport } from '../host/link/tcp.ts';
import { mapReads, TransportError, type Transport } from '../host/link/transport.ts';
import { openTransport, parseLinkAddress } from '../host/link/open.ts';
import { missingSocat, openPtyPair, type PtyPair } from '../host/sim/pty.ts';
import { toolGate } from './tool-gate.ts';

/** Reads from `t` until `n` bytes have arrived. */
async function readExactly(t: Transport, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const c = await t.read();
    out.set(c.subarray(0, n - got), got);
    got += c.length;
  }
  return out;
}

function pattern(n: number, seed = 7): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

interface Pair {
  a: Transport;
  b: Transport;
}

/** Registers what to undo after the test (servers, socat). */
type Defer = (undo: () => unknown) => void;

async function tcpPair(defer: Defer): Promise<Pair> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(() => new Promise((r) => server.close(r)));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Transport>((r) => server.once('connection', (s) => r(socketTransport(s, 'tcp://peer'))));
  const a = await openTcp('127.0.0.1', port);
  return { a, b: await accepted };
}

async function ptyPair(defer: Defer): Promise<Pair> {
  const pty: PtyPair = await openPtyPair();
  defer(() => pty.close());
  const b = await openSerial(pty.devicePath);
  const a = await openSerial(pty.gatewayPath);
  return { a, b };
}

const makers = {
  mock: async () => mockPair(),
  'tcp on loopback': tcpPair,
  'serial over a socat PTY pair': ptyPair,
} satisfies Record<string, (defer: Defer) => Promise<Pair>>;
type LinkKind = keyof typeof makers;
/** Only the PTY pair needs a program (socat). */
const gates = { mock: toolGate(null), 'tcp on loopback': toolGate(null), 'serial over a socat PTY pair': toolGate(missingSocat()) } satisfies Record<LinkKind, unknown>;

const test = base.extend<{
  /** Opens a connected pair of the given kind; both ends and their helpers are closed after the test. */
  link: (kind: LinkKind) => Promise<Pair>;
  /** Registers cleanup for things a test opens itself. */
  defer: Defer;
}>({
  defer: async ({}, use) => {
    const undo: (() => unknown)[] = [];
    await use((u) => undo.push(u));
    for (const u of undo.reverse()) await u();
  },
  link: async ({ defer }, use) => {
    await use(async (kind) => {
      const p = await makers[kind](defer);
      defer(() => p.a.close());
      defer(() => p.b.close());
      return p;
    });
  },
});

for (const [kind, gate] of Object.entries(gates) as [LinkKind, (typeof gates)[LinkKind]][]) describe.skipIf(gate.skip)(`transport contract: ${kind}${gate.note}`, () => {
  beforeAll(() => gate.check());

  test('carries 100 KiB both ways unchanged, in pieces of any size', async ({ link }) => {
    const { a, b } = await link(kind);
    const data = pattern(100 * 1024);
    const received = readExactly(b, data.length);
    for (let at = 0; at < data.length; at += 4096) await a.write(data.subarray(at, at + 4096));
    expect(await received).toEqual(data);
    const back = pattern(3000, 99);
    const got = readExactly(a, back.length);
    await b.write(back);
    expect(await got).toEqual(back);
  });

  test('refuses a second write while one is in flight with "busy"', async ({ link }) => {
    const { a, b } = await link(kind);
    const first = a.write(pattern(16));
    await expect(a.write(pattern(16))).rejects.toMatchObject({ kind: 'busy' });
    await first;
  });

  test('refuses a write above maxWrite with "too-large"', async ({ link }) => {
    const { a, b } = await link(kind);
    await expect(a.write(new Uint8Array(a.maxWrite + 1))).rejects.toMatchObject({ kind: 'too-large' });
  });

  test('rejects a pending read with "canceled" on close, and later calls too', async ({ link }) => {
    const { a } = await link(kind);
    const pending = expect(a.read()).rejects.toMatchObject({ kind: 'canceled' });
    await a.close();
    await pending;
    await expect(a.write(pattern(1))).rejects.toBeInstanceOf(TransportError);
    expect(a.isOpen).toBe(false);
  });
});

describe('disconnection', () => {
  it('a pulled mock cable rejects reads with "disconnected", after delivering what arrived', async () => {
    const { a, b, disconnect } = mockPair();
    await a.write(pattern(5));
    await new Promise((r) => setImmediate(r));
    disconnect();
    expect(await b.read()).toEqual(pattern(5));
    await expect(b.read()).rejects.toMatchObject({ kind: 'disconnected' });
  });

  test('a closed TCP peer is a disconnect for the other side', async ({ link }) => {
    const { a, b } = await link('tcp on loopback');
    const pending = expect(a.read()).rejects.toMatchObject({ kind: 'disconnected' });
    await b.close();
    await pending;
  });
});

/** An in-memory NUS peripheral: records every ATT write, echoes RX back as TX notifications. */
function echoPeer(mtu: number) {
  const writes: Uint8Array[] = [];
  let notify: (b: Uint8Array) => void = () => undefined;
  let lost: (r: string) => void = () => undefined;
  const peer: BleUartPeer = {
    name: 'node-1',
    mtu,
    async writeRx(chunk) {
      if (chunk.length > mtu - 3) throw new Error(`ATT write of ${chunk.length} bytes exceeds MTU ${mtu}`);
      writes.push(chunk.slice());
      setImmediate(() => notify(chunk.slice()));
    },
    onNotify: (h) => (notify = h),
    onDisconnect: (h) => (lost = h),
    async disconnect() {},
  };
  return { peer, writes, dropLink: (r: string) => lost(r) };
}

describe('mapReads', () => {
  test('passes received chunks through a map and skips chunks it empties', async ({ defer }) => {
    const { a, b } = mockPair();
    defer(() => a.close());
    const evenOnly = mapReads(b, (c) => c.filter((x) => x % 2 === 0));
    await a.write(Uint8Array.of(1, 3, 5));
    await a.write(Uint8Array.of(7, 8, 9, 10));
    expect(await evenOnly.read()).toEqual(Uint8Array.of(8, 10));
    expect(evenOnly.address).toBe('mock://b');
    await evenOnly.close();
    expect(b.isOpen).toBe(false);
  });
});

describe('BLE Nordic UART transport against an in-memory peer', () => {
  test.for([
    { mtu: BLE_DEFAULT_MTU, bytes: 100, chunks: 5 },
    { mtu: 23, bytes: 20, chunks: 1 },
    { mtu: 185, bytes: 1000, chunks: 6 },
    { mtu: 247, bytes: 244 * 3, chunks: 3 },
  ])('MTU $mtu: a $bytes-byte write becomes $chunks ATT writes of at most MTU-3', async ({ mtu, bytes, chunks }, { defer }) => {
    const { peer, writes } = echoPeer(mtu);
    const t = bleTransport(peer);
    defer(() => t.close());
    const data = pattern(bytes);
    const echoed = readExactly(t, bytes);
    await t.write(data);
    expect(writes.length).toBe(chunks);
    expect(Math.max(...writes.map((w) => w.length))).toBeLessThanOrEqual(mtu - 3);
    expect(await echoed).toEqual(data);
    expect(t.address).toBe('ble://node-1');
  });

  it('a lost BLE link is a disconnect', async () => {
    const { peer, dropLink } = echoPeer(23);
    const t = bleTransport(peer);
    const pending = expect(t.read()).rejects.toThrow(/disconnected: supervision timeout/);
    dropLink('supervision timeout');
    await pending;
  });

  it('opening ble:// loads noble only then, and fails in one clear line where there is no Bluetooth', async () => {
    // Here (no Bluetooth) noble throws on load; on a machine with an adapter the scan finds no such device.
    await expect(openTransport('ble://no-such-node')).rejects.toThrow(
      /^(BLE is unavailable on this machine \(@abandonware\/noble failed to load: .+\)|no BLE device named no-such-node advertising the Nordic UART Service within 10000 ms)$/,
    );
  });

  it('attChunks refuses an MTU that leaves no payload', () => {
    expect(() => attChunks(pattern(4), 3)).toThrow('BLE MTU must be an integer above 3, got 3');
  });
});

describe('link addresses', () => {
  it.each([
    ['/dev/ttyUSB0', { kind: 'serial', path: '/dev/ttyUSB0' }],
    ['/dev/pts/4?baud=921600', { kind: 'serial', path: '/dev/pts/4', baudRate: 921600 }],
    ['tcp://127.0.0.1:4100', { kind: 'tcp', host: '127.0.0.1', port: 4100 }],
    ['ble://lab-node-3', { kind: 'ble', name: 'lab-node-3' }],
  ])('%s', (uri, expected) => {
    expect(parseLinkAddress(uri)).toEqual(expected);
  });

  it.each([
    ['tcp://host', 'bad link address "tcp://host": missing or invalid port (tcp://host:port)'],
    ['ble://', 'bad link address "ble://": missing device name (ble://name)'],
    ['ttyUSB0', 'bad link address "ttyUSB0": expected a device path (/dev/..., COMn), tcp://host:port or ble://name'],
    ['/dev/ttyS0?baud=fast', 'bad link address "/dev/ttyS0?baud=fast": baud must be a positive integer (?baud=115200)'],
  ])('%s is refused', (uri, message) => {
    expect(() => parseLinkAddress(uri)).toThrow(message);
  });
});
