// A keyed QEMU MPS2 M4 board (docs/firmware.md "Device keys"): the key and
// boot count reach the board's key region from its key file, the firmware
// keys the agent in session boots << 16 | starts, answers are tagged, and a
// LOAD and RUN recorded before a reboot are refused as REPLAY after it. A
// trap's report (the board's own ERROR TRAP) is tagged like every ERROR: the
// genuine one is accepted, an unsigned, rewritten or replayed one refused.
// The STM32F405 and rv32 boards: keyed boot, replay across a reboot, and
// un-keying. The linux build reads the same key file (--key) and keeps the
// boot count beside it: replay across a restart, rotation and un-keying on it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { provision } from '../host/cli/commands/provision.ts';
import { DeviceClient } from '../host/link/client.ts';
import { encodeReply, type ReplyOf } from '../host/link/messages.ts';
import { bootCounterFile, KEY_REGION, readKeyFile } from '../host/link/key-file.ts';
import { decodeRequest, ErrorCode } from '../host/link/messages.ts';
import { openSerial } from '../host/link/serial.ts';
import { agentOverhead } from '../host/sim/agent-host.ts';
import { startBoardImage, type RunningBoard } from '../host/sim/board-image.ts';
import { agentImage, buildFirmware, FIRMWARE_BUILD, missingQemuToolchain, missingRiscvToolchain, QEMU_BOARDS, QEMU_RX_WINDOW, startQemuBoards, type QemuBoard } from '../host/sim/qemu.ts';
import { oneOpFragment } from './fixtures/link-fragments.ts';
import { flipByte, manInTheMiddle, recording, replay } from './fixtures/mitm.ts';
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

  test('a trap is reported tagged for the session that trapped; an unsigned, rewritten or replayed report is refused', async () => {
    // test/fixtures/firmware/trap-agent.ts: the real agent, trapping when the received bytes end with this.
    const TRIGGER = Uint8Array.of(0x00, 0x7e, 0x7e, 0x00);
    buildFirmware(['fixture-trap']);
    const trapKeyFile = join(keyFile, '..', 'trap.key');
    provision(trapKeyFile, {});
    const key = readKeyFile(trapKeyFile);
    const [trapBoard] = await startQemuBoards([{ id: 'trap', board: 'qemu-mps2-an386', memory: MEMORY, keyFile: trapKeyFile }], {
      image: () => join(FIRMWARE_BUILD, 'fixture-trap/qemu-mps2-an386/agent.elf'),
    });
    const serial = await openSerial(trapBoard.path);
    let genuine: Uint8Array | undefined;
    const mitm = manInTheMiddle(serial, (p, r) => {
      if (r.type === 'ERROR' && r.code === ErrorCode.TRAP) genuine = p;
      return [p];
    });
    const c = await DeviceClient.connect(mitm.transport, { name: 'trap', key, connectTimeoutMs: 30_000 });
    const traps: ReplyOf<'ERROR'>[] = [];
    c.on('unsolicited', (r) => traps.push(r));
    const until = async (done: () => boolean, what: string) => {
      for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!done()) throw new Error(`timed out waiting for ${what}`);
    };
    try {
      expect(c.info).toMatchObject({ keyed: 1, session: (1 << 16) | 1 });
      await serial.write(TRIGGER);
      await until(() => traps.length > 0, 'the trap report');
      expect(traps).toEqual([
        expect.objectContaining({ seq: 0, code: ErrorCode.TRAP, text: expect.stringMatching(/^agent trapped: unreachable/) }),
      ]);
      expect(traps[0].tag).toHaveLength(32);
      expect(c.stats.forgedReplies).toBe(0);

      // The restarted agent is a new start: a new session, and it computes again.
      expect(await c.hello()).toMatchObject({ keyed: 1, session: (1 << 16) | 2, counter: 0 });
      await c.load(1, frag.blob, { arena: frag.arena, digest: frag.digest });
      expect((await c.run(1, frag.input)).output).toEqual(frag.expected);

      // On the link: a report forged without the key, the genuine one with its text rewritten, and
      // the genuine one replayed into the new session. Each is counted and never surfaces.
      const unsigned = encodeReply({ type: 'ERROR', seq: 0, code: ErrorCode.TRAP, text: 'agent trapped: forged; the board restarted its agent, every fragment is gone' });
      for (const forged of [unsigned, flipByte(genuine!, 20), genuine!]) mitm.inject(forged);
      await until(() => c.stats.forgedReplies === 3, 'three refused reports');
      expect(traps).toHaveLength(1);
      expect((await c.run(1, frag.input)).output).toEqual(frag.expected);
    } finally {
      await c.close();
      await trapBoard.stop();
    }
  }, 300_000);
});

// The STM32F405 keeps its key region in its flash's last sector (loaded there by QEMU's loader; QEMU
// models no flash interface, so the board's own flash write is not exercised), the rv32 in a sector of
// virt's CFI flash, which QEMU does emulate: each boots keyed, refuses LOAD and RUN recorded before a
// reboot, boots unkeyed without a key, and reads its boot count from its sector's tally.
for (const [name, gate] of [
  ['qemu-netduinoplus2', qemu],
  ['qemu-riscv32-virt', toolGate(missingQemuToolchain() ?? missingRiscvToolchain())],
] as const) {
  describe.skipIf(gate.skip)(`a keyed ${name} board${gate.note}`, () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), `microsplit-${name}-key-`)), 'board.key');
    let board: QemuBoard | undefined;
    const boot = async () => {
      await board?.stop();
      [board] = await startQemuBoards([{ id: name, board: name, keyFile }]);
      return board.path;
    };
    beforeAll(() => {
      gate.check();
      buildFirmware([agentImage(name)]);
      provision(keyFile, {});
    }, 600_000);
    afterAll(() => board?.stop());

    test('boots keyed from its key region; after a reboot, recorded LOAD and RUN are refused as REPLAY; un-keyed, it boots unkeyed', async () => {
      const key = readKeyFile(keyFile);
      const { transport, frames } = recording(await openSerial(await boot()));
      const c = await DeviceClient.connect(transport, { name, key, connectTimeoutMs: 30_000 });
      try {
        expect(c.info).toMatchObject({ keyed: 1, session: (1 << 16) | 1 });
        await c.load(1, frag.blob, { arena: frag.arena, digest: frag.digest });
        expect((await c.run(1, frag.input)).output).toEqual(frag.expected);
        expect(c.stats.forgedReplies).toBe(0);
      } finally {
        await c.close();
      }
      const recorded = ['LOAD', 'RUN'].map((type) => frames.find((p) => {
        const m = decodeRequest(p);
        return m.type === type && 'offset' in m && m.offset === 0;
      })!);

      const path = await boot();
      const again = await DeviceClient.connect(await openSerial(path), { name, key, connectTimeoutMs: 30_000 });
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

      provision(keyFile, { unkey: true });
      const unkeyed = await boot();
      await expect(DeviceClient.connect(await openSerial(unkeyed), { name, key, connectTimeoutMs: 30_000 })).rejects.toMatchObject({ code: 'NO_KEY' });
      const plain = await DeviceClient.connect(await openSerial(unkeyed), { name, connectTimeoutMs: 30_000 });
      try {
        expect(plain.info).toMatchObject({ keyed: 0, session: 0 });
        await plain.load(1, frag.blob, { arena: frag.arena, digest: frag.digest });
        expect((await plain.run(1, frag.input)).output).toEqual(frag.expected);
      } finally {
        await plain.close();
      }
    }, 180_000);

    // The launcher loads the sector as a chip holds it after that many boots; the rv32 then programs its tally
    // (or, with the tally full, erases and rewrites the sector) in QEMU's CFI flash model, and is keyed only
    // if that write reads back; the STM32 reads the tally, QEMU giving it no flash interface to write.
    test("counts boots through its flash sector's tally: a partly filled tally, and a full one", async () => {
      const at = QEMU_BOARDS[name].keyRegion;
      const tallyWords = (at.sectorBytes - KEY_REGION.bytes) / 4;
      const tallyFile = join(keyFile, '..', 'tally.key');
      provision(tallyFile, {});
      const key = readKeyFile(tallyFile);
      for (const before of [1000, tallyWords]) {
        writeFileSync(bootCounterFile(tallyFile), `${before}\n`);
        await board?.stop();
        [board] = await startQemuBoards([{ id: name, board: name, keyFile: tallyFile }]);
        const c = await DeviceClient.connect(await openSerial(board.path), { name, key, connectTimeoutMs: 30_000 });
        try {
          expect(c.info).toMatchObject({ keyed: 1, session: (before + 1) * 0x10000 + 1 }); // past 2^31: no << here
        } finally {
          await c.close();
        }
      }
    }, 120_000);
  });
}

describe.skipIf(qemu.skip)(`a keyed linux board (--key FILE)${qemu.note}`, () => {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'microsplit-linux-key-')), 'linux.key');
  let board: RunningBoard | undefined;
  const boot = async () => {
    await board?.stop();
    board = await startBoardImage('linux', 'wasm2c', { keyFile });
    return board.path;
  };
  beforeAll(() => qemu.check());
  afterAll(() => board?.stop());

  test('sessions count boots in the key file\'s counter: recorded LOAD and RUN refused after a restart; rotation and un-keying take effect at the next boot', async () => {
    provision(keyFile, {});
    const first = readKeyFile(keyFile);
    const use = async (path: string, key?: Uint8Array) => {
      const { transport, frames } = recording(await openSerial(path));
      const c = await DeviceClient.connect(transport, { name: 'linux', key, connectTimeoutMs: 30_000 });
      try {
        await c.load(1, frag.blob, { arena: frag.arena, digest: frag.digest });
        expect((await c.run(1, frag.input)).output).toEqual(frag.expected);
        expect(c.stats.forgedReplies).toBe(0);
        return { info: c.info, frames };
      } finally {
        await c.close();
      }
    };
    const { info, frames } = await use(await boot(), first);
    expect(info).toMatchObject({ keyed: 1, session: (1 << 16) | 1 });
    const recorded = ['LOAD', 'RUN'].map((type) => frames.find((p) => {
      const m = decodeRequest(p);
      return m.type === type && 'offset' in m && m.offset === 0;
    })!);

    const path = await boot();
    const replies = await replay(path, recorded);
    expect(replies.map((r) => r.type === 'ERROR' && [r.code, r.text])).toEqual([
      [ErrorCode.REPLAY, `session ${(1 << 16) | 1} is not this boot's ${(2 << 16) | 1}`],
      [ErrorCode.REPLAY, `session ${(1 << 16) | 1} is not this boot's ${(2 << 16) | 1}`],
    ]);

    provision(keyFile, { rotate: true });
    const second = readKeyFile(keyFile);
    const rotated = await boot();
    await expect(DeviceClient.connect(await openSerial(rotated), { name: 'linux', key: first, connectTimeoutMs: 30_000 })).rejects.toMatchObject({ code: 'FORGED' });
    expect((await use(rotated, second)).info).toMatchObject({ keyed: 1, session: (3 << 16) | 1 });

    provision(keyFile, { unkey: true });
    const unkeyed = await boot();
    await expect(DeviceClient.connect(await openSerial(unkeyed), { name: 'linux', key: second, connectTimeoutMs: 30_000 })).rejects.toMatchObject({ code: 'NO_KEY' });
    expect((await use(unkeyed)).info).toMatchObject({ keyed: 0, session: 0 });
  }, 120_000);
});
