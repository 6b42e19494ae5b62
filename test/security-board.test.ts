// A keyed QEMU MPS2 M4 board (docs/firmware.md "Device keys"): the key and
// boot count reach the board's key region from its key file, the firmware
// keys the agent in session boots << 16 | starts, answers are tagged, and a
// LOAD and RUN recorded before a reboot are refused as REPLAY after it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { provision } from '../host/cli/commands/provision.ts';
import { DeviceClient } from '../host/link/client.ts';
import { readKeyFile } from '../host/link/key-file.ts';
import { decodeRequest, ErrorCode } from '../host/link/messages.ts';
import { openSerial } from '../host/link/serial.ts';
import { agentOverhead } from '../host/sim/agent-host.ts';
import { buildFirmware, missingQemuToolchain, QEMU_RX_WINDOW, startQemuBoards, type QemuBoard } from '../host/sim/qemu.ts';
import { oneOpFragment } from './fixtures/link-fragments.ts';
import { recording, replay } from './fixtures/mitm.ts';
import { fullyConnectedModel, randomInputs } from './fixtures/small-models.ts';
import { toolGate } from './tool-gate.ts';

const qemu = toolGate(missingQemuToolchain());
const MEMORY = 48 * 1024 + agentOverhead(QEMU_RX_WINDOW);
const fc = fullyConnectedModel({ inShape: [1, 256], units: 24, activation: 'RELU', keepNumDims: false, perChannel: true });
const frag = oneOpFragment(fc, 0, randomInputs(fc)[0], { start: [0, 0], end: [1, 24] });

describe.skipIf(qemu.skip)(`a keyed MPS2 M4 board${qemu.note}`, () => {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'microsplit-board-key-')), 'm4.key');
  let board: QemuBoard | undefined;
  const boot = async () => {
    await board?.stop();
    [board] = await startQemuBoards([{ id: 'm4', board: 'qemu-mps2-an386', memory: MEMORY, keyFile }]);
    return board.path;
  };
  beforeAll(() => {
    qemu.check();
    buildFirmware(['build/qemu-mps2-an386/agent.elf']);
    provision(keyFile, {});
  }, 600_000);
  afterAll(() => board?.stop());

  test('runs signed work with tagged answers; after a reboot, recorded LOAD and RUN are refused as REPLAY', async () => {
    const key = readKeyFile(keyFile);
    const { transport, frames } = recording(await openSerial(await boot()));
    const c = await DeviceClient.connect(transport, { name: 'm4', key, connectTimeoutMs: 30_000 });
    try {
      expect(c.info).toMatchObject({ keyed: 1, session: (1 << 16) | 1 });
      await c.load(1, frag.blob, { arena: frag.arena, digest: frag.digest });
      expect((await c.run(1, frag.input)).output).toEqual(frag.expected);
      expect(c.stats.forgedReplies).toBe(0);
    } finally {
      await c.close();
    }
    const first = (type: string) => frames.find((p) => {
      const m = decodeRequest(p);
      return m.type === type && 'offset' in m && m.offset === 0;
    })!;
    const recorded = [first('LOAD'), first('RUN')];

    const path = await boot();
    const again = await DeviceClient.connect(await openSerial(path), { name: 'm4', key, connectTimeoutMs: 30_000 });
    try {
      expect(again.info).toMatchObject({ keyed: 1, session: (2 << 16) | 1, counter: 0 });
    } finally {
      await again.close();
    }
    const replies = await replay(path, recorded);
    expect(replies.map((r) => r.type === 'ERROR' && [r.code, r.text])).toEqual([
      [ErrorCode.REPLAY, `session ${(1 << 16) | 1} is not this boot's ${(2 << 16) | 1}`],
      [ErrorCode.REPLAY, `session ${(1 << 16) | 1} is not this boot's ${(2 << 16) | 1}`],
    ]);
  }, 120_000);
});
