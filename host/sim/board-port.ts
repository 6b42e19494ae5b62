// A QEMU board's UART as the agent of a simulated device (device.ts): what
// the line delivers is written to the board's PTY, what the board sends is
// handed to the line. QEMU's serial port moves bytes as fast as the board's
// receive interrupt and QEMU's character device allow (a rate that depends
// on the host, not the link the testbed states), so a board is reached
// through this port and the simulated device's paced line, the same pacing
// every simulated link has, in both directions.
import { chunks, type Transport } from '../link/transport.ts';
import type { AgentPort } from './device.ts';

/**
 * A board whose UART is already open on `uart`; everything it sends goes to
 * `write`. `ended` is called once the UART closes (QEMU exited): the caller
 * ends the device's link, as the board's own PTY would have ended.
 */
export function boardPort(uart: Transport, write: (bytes: Uint8Array) => void, ended: (why: string) => void): AgentPort {
  // The firmware's last words (a HardFault's "microsplit: HARDFAULT pc=...") come as text on the UART.
  let tail = '';
  const lastWords = () => /microsplit: [^\0]*$/.exec(tail)?.[0].trim();
  void (async () => {
    try {
      for await (const chunk of chunks(uart)) {
        tail = (tail + Buffer.from(chunk).toString('latin1')).slice(-200);
        write(chunk);
      }
      ended(lastWords() ?? 'its UART closed');
    } catch (e) {
      ended(lastWords() ?? (e as Error).message);
    }
  })();
  // One write in flight per transport: bytes go out in the order the line delivered them.
  let writes: Promise<void> = Promise.resolve();
  return {
    feed(bytes: Uint8Array): void {
      const copy = bytes.slice();
      writes = writes.then(() => uart.write(copy)).catch(() => undefined);
    },
    // The board computes on its own, at its clock.
    poll: () => false,
  };
}
