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
import { provision } from '../host/cli/commands/provision.ts';
import { bootCounterFile, readKeyFile, writeKeyFile } from '../host/link/key-file.ts';
import { decodeRequest, ErrorCode } from '../host/link/messages.ts';
import { openTransport } from '../host/link/open.ts';
import { startTestbed, type RunningTestbed } from '../host/sim/launcher.ts';
import { oneOpFragment } from './fixtures/link-fragments.ts';
import { recording, replay } from './fixtures/mitm.ts';
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

describe('rotating and removing the key of a simulated device on a PTY', () => {
  test('after a rotation the old key fails the handshake and the new one works; after un-keying the device is unkeyed', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'microsplit-rotate-')), 'dev.key');
    const bed = { devices: [{ ...testbed.devices[0], keyFile: file }] };
    provision(file, {});
    const first = readKeyFile(file);
    const restart = async () => {
      await tb?.stop();
      tb = await startTestbed(bed);
      return tb.devices[0].uri;
    };
    let tb: RunningTestbed | undefined;
    try {
      const use = async (uri: string, key?: Uint8Array) => {
        const c = await DeviceClient.connect(await openTransport(uri), { name: 'dev', key });
        try {
          await c.load(1, frag.blob, { arena: frag.arena, digest: frag.digest });
          expect((await c.run(1, frag.input)).output).toEqual(frag.expected);
          return c.info;
        } finally {
          await c.close();
        }
      };
      expect(await use(await restart(), first)).toMatchObject({ keyed: 1, session: 1 });
      provision(file, { rotate: true });
      const second = readKeyFile(file);
      const uri = await restart();
      await expect(DeviceClient.connect(await openTransport(uri), { name: 'dev', key: first })).rejects.toMatchObject({ code: 'FORGED' });
      expect(await use(uri, second)).toMatchObject({ keyed: 1, session: 2 });
      provision(file, { unkey: true });
      const unkeyed = await restart();
      await expect(DeviceClient.connect(await openTransport(unkeyed), { name: 'dev', key: second })).rejects.toMatchObject({ code: 'NO_KEY' });
      expect(await use(unkeyed)).toMatchObject({ keyed: 0, session: 0 });
    } finally {
      await tb?.stop();
    }
  });
});
