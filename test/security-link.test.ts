// Keyed devices over real links (docs/protocol.md section 4): a simulated
// device behind a socat PTY, keyed by a key file, counting its boots in the
// file beside it. Frames recorded by a listener on the link in one boot are
// refused as REPLAY after the device restarts; the gateway follows the new
// session and goes on.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DeviceClient } from '../host/link/client.ts';
import { encodeFrame, FrameDecoder } from '../host/link/frame.ts';
import { bootCounterFile, writeKeyFile } from '../host/link/key-file.ts';
import { decodeReply, decodeRequest, ErrorCode, type Reply } from '../host/link/messages.ts';
import { openTransport } from '../host/link/open.ts';
import type { Transport } from '../host/link/transport.ts';
import { startTestbed, type RunningTestbed } from '../host/sim/launcher.ts';
import { oneOpFragment } from './fixtures/link-fragments.ts';
import { fullyConnectedModel, randomInputs } from './fixtures/small-models.ts';

const fc = fullyConnectedModel({ inShape: [1, 256], units: 24, activation: 'RELU', keepNumDims: false, perChannel: true });
const frag = oneOpFragment(fc, 0, randomInputs(fc)[0], { start: [0, 0], end: [1, 24] });
const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

const dir = mkdtempSync(join(tmpdir(), 'microsplit-keys-'));
const keyFile = join(dir, 'dev.key');
writeKeyFile(keyFile, KEY);
const testbed = {
  name: 'one keyed PTY device',
  devices: [{ id: 'keyed', memory: '64K', speed: { default: 1e9 }, link: { kind: 'pty', rate: 10_000_000 }, receiveWindow: 1024, keyFile }],
};

/** A transport that keeps a copy of every frame the gateway writes: a listener on the link. */
function recording(t: Transport): { transport: Transport; frames: Uint8Array[] } {
  const frames: Uint8Array[] = [];
  const decoder = new FrameDecoder({ maxPayload: 1 << 16 });
  const transport: Transport = {
    get address() {
      return t.address;
    },
    get maxWrite() {
      return t.maxWrite;
    },
    get isOpen() {
      return t.isOpen;
    },
    write(bytes) {
      frames.push(...decoder.push(bytes));
      return t.write(bytes);
    },
    read: () => t.read(),
    close: () => t.close(),
  };
  return { transport, frames };
}

/** Writes raw frames to the device and returns its replies (one per frame). */
async function replay(uri: string, payloads: Uint8Array[]): Promise<Reply[]> {
  const t = await openTransport(uri);
  const decoder = new FrameDecoder({ maxPayload: 1 << 20 });
  const replies: Reply[] = [];
  try {
    for (const p of payloads) {
      await t.write(Uint8Array.of(0, ...encodeFrame(p)));
      while (replies.length < payloads.indexOf(p) + 1) for (const f of decoder.push(await t.read())) replies.push(decodeReply(f));
    }
  } finally {
    await t.close();
  }
  return replies;
}

describe('a keyed simulated device on a PTY, restarted', () => {
  let tb: RunningTestbed | undefined;
  afterAll(() => tb?.stop());

  test('LOAD and RUN recorded before the restart are refused as REPLAY; the gateway connects in the new session', async () => {
    tb = await startTestbed(testbed);
    const { transport, frames } = recording(await openTransport(tb.devices[0].uri));
    const first = await DeviceClient.connect(transport, { name: 'keyed', key: KEY });
    expect(first.info).toMatchObject({ keyed: 1, session: 1 });
    await first.load(1, frag.blob, { arena: frag.arena, digest: frag.digest });
    expect((await first.run(1, frag.input)).output).toEqual(frag.expected);
    await first.close();
    await tb.stop();
    const recorded = frames.map((p) => ({ p, m: decodeRequest(p) }));
    const load = recorded.find((r) => r.m.type === 'LOAD' && r.m.offset === 0)!;
    const run = recorded.find((r) => r.m.type === 'RUN' && r.m.offset === 0)!;
    expect(readFileSync(bootCounterFile(keyFile), 'utf8').trim()).toBe('1');

    tb = await startTestbed(testbed);
    const replies = await replay(tb.devices[0].uri, [load.p, run.p]);
    expect(replies.map((r) => r.type === 'ERROR' && [r.code, r.text])).toEqual([
      [ErrorCode.REPLAY, "session 1 is not this boot's 2"],
      [ErrorCode.REPLAY, "session 1 is not this boot's 2"],
    ]);
    const second = await DeviceClient.connect(await openTransport(tb.devices[0].uri), { name: 'keyed', key: KEY });
    try {
      expect(second.info).toMatchObject({ session: 2, counter: 0, authFailures: 2, fragments: [] });
      await second.load(1, frag.blob, { arena: frag.arena, digest: frag.digest });
      expect((await second.run(1, frag.input)).output).toEqual(frag.expected);
    } finally {
      await second.close();
    }
  });
});
