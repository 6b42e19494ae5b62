// A testbed board's UART reached through a simulated device's paced line
// (host/sim/board-port.ts): bytes reach the board, and the gateway, at the
// stated rate in both directions, however fast the board's side moves them.
// On a fake clock, so the times are exact and the test takes no real time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockPair } from '../host/link/mock.ts';
import type { Transport } from '../host/link/transport.ts';
import { boardPort } from '../host/sim/board-port.ts';
import { SimDevice } from '../host/sim/device.ts';
import { parseTestbed } from '../host/sim/testbed.ts';

/** Counts the bytes arriving on `t`, and keeps them. */
function collect(t: Transport): { bytes: number[] } {
  const got = { bytes: [] as number[] };
  void (async () => {
    for (;;) got.bytes.push(...(await t.read()));
  })().catch(() => undefined);
  return got;
}

/** A frame of `n` bytes: n - 1 bytes that are not the delimiter, then the delimiter. */
const frame = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i === n - 1 ? 0 : 1 + (i % 250)));

describe('a board behind a paced line', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
  });
  afterEach(() => vi.useRealTimers());

  it('gets and sends its bytes at the stated rate, in order, in pieces of at least 64 bytes', async () => {
    // 1,000 bytes/s: one byte per ms; pieces of max(64, 10 ms of line) = 64 bytes.
    const [spec] = parseTestbed({ devices: [{ id: 'b', board: 'qemu-mps2-an386', memory: '64K', clockHz: 7_812_500, link: { kind: 'pty', rate: 1000 } }] }).devices;
    const gateway = mockPair();
    const uart = mockPair();
    const device = new SimDevice({ spec, seed: 1, createAgent: (write) => boardPort(uart.a, write, () => undefined) });
    void device.serve(gateway.b);
    const atBoard = collect(uart.b);
    const atGateway = collect(gateway.a);

    const request = frame(300);
    // The mock link delivers on a (fake) setImmediate: the write completes as the clock moves.
    const sent = gateway.a.write(request);
    await vi.advanceTimersByTimeAsync(63);
    expect(atBoard.bytes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2); // 65 ms: the first piece
    expect(atBoard.bytes).toHaveLength(64);
    await vi.advanceTimersByTimeAsync(234); // 299 ms: all but the last 44 bytes (256 at 256 ms)
    expect(atBoard.bytes).toHaveLength(256);
    await vi.advanceTimersByTimeAsync(2); // 301 ms
    expect(Uint8Array.from(atBoard.bytes)).toEqual(request);
    await sent;

    // The board answers at once, all 200 bytes in one write: the gateway gets them at the line's rate.
    const reply = frame(200);
    const answered = uart.b.write(reply);
    await vi.advanceTimersByTimeAsync(63);
    expect(atGateway.bytes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(130); // 193 ms: three pieces
    expect(atGateway.bytes).toHaveLength(192);
    await vi.advanceTimersByTimeAsync(8); // 201 ms
    expect(Uint8Array.from(atGateway.bytes)).toEqual(reply);
    await answered;
    device.stop();
  });

  it("says the board went away when its UART closes, with the firmware's last words when it printed any", async () => {
    vi.useRealTimers();
    const quiet = mockPair();
    const gone = new Promise<string>((r) => boardPort(quiet.a, () => undefined, r));
    await quiet.b.close();
    expect(await gone).toBe('mock://a: disconnected: peer closed');

    const faulted = mockPair();
    const words = new Promise<string>((r) => boardPort(faulted.a, () => undefined, r));
    await faulted.b.write(new TextEncoder().encode('\0microsplit: HARDFAULT pc=0x00001234 lr=0x00005679\r\n'));
    await faulted.b.close();
    expect(await words).toBe('microsplit: HARDFAULT pc=0x00001234 lr=0x00005679');
  });
});
