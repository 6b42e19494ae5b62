// `npm run bench:link [-- --json]`: what the wire protocol costs.
//
// 1. Overhead: a RUN sends an input tensor of 1, 4, 16 and 64 KiB to a
//    simulated device over a socat PTY; bytes the gateway wrote / tensor
//    bytes. The reverse direction's ACK bytes are reported beside it.
// 2. Goodput: the same transfer over PTYs paced by the simulator at 115200,
//    921600 and 2,000,000 baud (8N1: baud/10 bytes/s); tensor bytes per
//    second from the first chunk sent to the RESULT received, as a fraction
//    of the line rate.
//
// 3. Keyed links: the same goodput unkeyed, signed (HMAC-SHA256 tags) and
//    signed and sealed (ChaCha20, docs/protocol.md section 4), at 921600
//    baud and unpaced (there the gateway's and the Node agent's crypto is
//    what limits it); side by side as ratios to unkeyed.
//
// The fragment is a MAX_POOL over the whole tensor, so the RESULT is 16
// bytes and the time is the input's. Devices announce a 4096-byte window;
// one more goodput run at 2,000,000 baud uses 16 KiB, to show how much of the
// loss there is acknowledgement latency (more in flight hides it).
import { DeviceClient } from '../../host/link/client.ts';
import { openTransport } from '../../host/link/open.ts';
import { startTestbed } from '../../host/sim/launcher.ts';
import { FrameDecoder } from '../../host/link/frame.ts';
import { decodeReply } from '../../host/link/messages.ts';
import { mapReads, type Transport } from '../../host/link/transport.ts';
import { FrameSplitter } from '../../host/sim/splitter.ts';
import { transferFragment } from '../../test/fixtures/link-fragments.ts';

const KIB = 1024;
const SIZES = [1, 4, 16, 64];
const BAUDS = [115200, 921600, 2_000_000];
const WINDOW = 4096;
/** Tensor size per baud rate: a transfer of about a second or less. */
const GOODPUT_BYTES: Record<number, number> = { 115200: 16 * KIB, 921600: 64 * KIB, 2_000_000: 64 * KIB };
const REPEATS = 3;

/** Counts wire bytes per reply type the device sends, by splitting its stream into frames. */
class ReplyTap {
  readonly bytes = new Map<string, number>();
  private readonly split = new FrameSplitter(1 << 24);
  private readonly decoder = new FrameDecoder({ maxPayload: 1 << 22 });

  wrap(t: Transport): Transport {
    return mapReads(t, (chunk) => {
      for (const frame of this.split.push(chunk)) {
        for (const p of this.decoder.push(frame)) {
          const type = decodeReply(p).type;
          this.bytes.set(type, (this.bytes.get(type) ?? 0) + frame.length);
        }
      }
      return chunk;
    });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Loads `f` on `client`, then the fastest of REPEATS RUNs of it, in seconds; a wrong RESULT is an error naming `what`. */
async function bestRunSeconds(client: DeviceClient, f: ReturnType<typeof transferFragment>, what: string): Promise<number> {
  await client.load(1, f.blob, { arena: f.arena, digest: f.digest });
  let best = Infinity;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const r = await client.run(1, f.input);
    best = Math.min(best, (performance.now() - t0) / 1000);
    if (!sameBytes(r.output, f.expected)) throw new Error(`${what}: wrong RESULT`);
  }
  return best;
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

const json = process.argv.includes('--json');
/** Goodput runs: every baud rate with the 4 KiB window, and the fastest again with a 16 KiB one. */
const GOODPUT_RUNS = [...BAUDS.map((baud) => ({ baud, window: WINDOW })), { baud: 2_000_000, window: 16 * KIB }];
const runId = (r: { baud: number; window: number }) => (r.window === WINDOW ? `${r.baud}` : `${r.baud}_w${r.window}`);
const device = (id: string, rate: number, window: number) => ({
  id,
  memory: '256K',
  speed: { default: 1e12 },
  link: { kind: 'pty', rate },
  receiveWindow: window,
});
const KEY_HEX = '5a'.repeat(32);
/** Keyed comparison: line rates, and the modes compared on each. */
const KEYED_RATES = [92_160, 1e9];
const MODES = ['unkeyed', 'signed', 'sealed'] as const;
const modeDevice = (rate: number, mode: (typeof MODES)[number]) => ({
  ...device(`${mode}-${rate}`, rate, WINDOW),
  ...(mode === 'unkeyed' ? {} : { keyHex: KEY_HEX }),
});
const tb = await startTestbed({
  devices: [
    device('unpaced', 1e9, WINDOW),
    ...GOODPUT_RUNS.map((r) => device(`baud-${runId(r)}`, r.baud / 10, r.window)),
    ...KEYED_RATES.flatMap((rate) => MODES.map((m) => modeDevice(rate, m))),
  ],
});
const results: Record<string, number> = { window: WINDOW };
try {
  const clients = new Map<string, DeviceClient>();
  const tap = new ReplyTap();
  for (const d of tb.devices) {
    const link = d.id === 'unpaced' ? tap.wrap(await openTransport(d.uri)) : await openTransport(d.uri);
    const keyed = d.spec?.keyHex ? { key: Buffer.from(d.spec.keyHex, 'hex'), encrypt: d.id.startsWith('sealed') } : {};
    clients.set(d.id, await DeviceClient.connect(link, { name: d.id, resultTimeoutMs: 30_000, ...keyed }));
  }

  console.log(`overhead: RUN input over a PTY, window ${WINDOW} bytes`);
  console.log('tensor   wire bytes out   out/payload   ACK bytes back   (out+ACK)/payload   chunks resent');
  const c = clients.get('unpaced')!;
  for (const k of SIZES) {
    const f = transferFragment(k * KIB);
    await c.load(k, f.blob, { arena: f.arena, digest: f.digest });
    const out0 = c.stats.bytesOut;
    const resent0 = c.stats.retransmits;
    const ack0 = tap.bytes.get('ACK') ?? 0;
    const r = await c.run(k, f.input);
    if (!sameBytes(r.output, f.expected)) throw new Error(`${k} KiB: wrong RESULT`);
    // Resends count as wire bytes; on an error-free link they come only from timeouts under load.
    results[`retransmits_${k}k`] = c.stats.retransmits - resent0;
    const out = c.stats.bytesOut - out0;
    const back = (tap.bytes.get('ACK') ?? 0) - ack0;
    results[`overhead_${k}k`] = round(out / (k * KIB));
    results[`overhead_with_acks_${k}k`] = round((out + back) / (k * KIB));
    console.log(
      `${`${k} KiB`.padEnd(8)} ${String(out).padStart(15)} ${results[`overhead_${k}k`].toFixed(4).padStart(13)} ${String(back).padStart(16)} ${results[`overhead_with_acks_${k}k`].toFixed(4).padStart(19)} ${String(results[`retransmits_${k}k`]).padStart(15)}`,
    );
  }

  console.log('\ngoodput: tensor bytes/s over a paced PTY / line rate (baud/10), best of ' + REPEATS);
  console.log('baud       window  tensor   seconds   goodput B/s   fraction   chunks resent');
  for (const run of GOODPUT_RUNS) {
    const { baud, window } = run;
    const n = GOODPUT_BYTES[baud];
    const client = clients.get(`baud-${runId(run)}`)!;
    const f = transferFragment(n);
    const best = await bestRunSeconds(client, f, `${baud} baud`);
    const goodput = n / best;
    const key = `goodput_${runId(run)}`;
    results[key] = round(goodput / (baud / 10));
    console.log(
      `${String(baud).padEnd(10)} ${String(window).padStart(6)}  ${`${n / KIB} KiB`.padEnd(8)} ${best.toFixed(3).padStart(7)} ${Math.round(goodput).toString().padStart(13)} ${results[key].toFixed(3).padStart(10)} ${String(client.stats.retransmits).padStart(15)}`,
    );
  }

  console.log('\nkeyed links: goodput of a 64 KiB RUN input, best of ' + REPEATS + ', and its ratio to unkeyed');
  console.log('line B/s     unkeyed B/s    signed B/s  ratio    sealed B/s  ratio');
  const n = 64 * KIB;
  const f = transferFragment(n);
  for (const rate of KEYED_RATES) {
    const goodput: Record<string, number> = {};
    for (const mode of MODES) {
      const client = clients.get(`${mode}-${rate}`)!;
      goodput[mode] = n / (await bestRunSeconds(client, f, `${mode} at ${rate} B/s`));
    }
    const label = rate >= 1e9 ? 'unpaced' : String(rate);
    results[`keyed_goodput_${label}`] = Math.round(goodput.unkeyed);
    results[`signed_over_unkeyed_${label}`] = round(goodput.signed / goodput.unkeyed);
    results[`sealed_over_unkeyed_${label}`] = round(goodput.sealed / goodput.unkeyed);
    console.log(
      `${label.padEnd(10)} ${Math.round(goodput.unkeyed).toString().padStart(12)} ${Math.round(goodput.signed).toString().padStart(13)} ${results[`signed_over_unkeyed_${label}`].toFixed(3).padStart(6)} ${Math.round(goodput.sealed).toString().padStart(13)} ${results[`sealed_over_unkeyed_${label}`].toFixed(3).padStart(6)}`,
    );
  }
  for (const cl of clients.values()) await cl.close();
} finally {
  await tb.stop();
}
if (json) console.log(JSON.stringify(results));

