// host/sim/qemu.ts: bad board specs are refused with one line naming the
// board and the field, before anything is built or started.
import { describe, expect, it } from 'vitest';
import { qemuArgs, startQemuBoards } from '../host/sim/qemu.ts';

describe('startQemuBoards', () => {
  it.each([
    ['an unknown board', [{ id: 'a', board: 'qemu-mps2-an999' }], /^QEMU board 0: board: /],
    ['a bad id', [{ id: 'a b' }], /^QEMU board 0: id: ids use letters/],
    ['a negative memory', [{ id: 'a' }, { id: 'b', memory: -1 }], /^QEMU board 1: memory: /],
    ['an icount shift past 10', [{ id: 'a', icountShift: 11 }], /^QEMU board 0: icountShift: /],
    ['an unknown field', [{ id: 'a', speed: 3 }], /^QEMU board 0: /],
  ])('refuses %s', async (_, specs, message) => {
    await expect(startQemuBoards(specs as never)).rejects.toThrow(message);
  });
});

describe('qemuArgs', () => {
  it('boots the image with its UART where asked, counting instructions at the given speed', () => {
    expect(qemuArgs('mps2-an386', 'agent.elf', { icountShift: 2, realTime: true, serial: 'pty' })).toEqual([
      '-M', 'mps2-an386', '-display', 'none', '-monitor', 'none', '-semihosting-config', 'enable=on,target=native',
      '-icount', 'shift=2,align=on,sleep=on', '-kernel', 'agent.elf', '-serial', 'pty',
    ]);
  });
});
