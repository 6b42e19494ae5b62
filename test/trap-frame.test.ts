// The ERROR frame the board firmware sends when the module traps
// (firmware/common/trap_frame.c, CBOR and CRC written by hand from the
// generated abi.generated.h) decodes with the gateway's own frame decoder
// and message schema.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../host/link/frame.ts';
import { decodeReply, ErrorCode } from '../host/link/messages.ts';
import { toolGate } from './tool-gate.ts';

const CC = process.env.CC ?? 'cc';
const hasCc = spawnSync('sh', ['-c', `command -v ${CC}`]).status === 0;
const gate = toolGate(hasCc ? null : `${CC} is not installed (Debian package gcc; .ci/run installs it)`);

describe.skipIf(gate.skip)(`the board's trap frame${gate.note}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'microsplit-trap-'));
  beforeAll(() => gate.check());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function trapFrame(detail: string): Uint8Array {
    const exe = join(dir, 'trap-frame');
    const build = spawnSync(
      CC,
      ['-std=gnu11', '-Wall', '-Werror', '-Ifirmware/common', 'firmware/common/trap_frame.c', 'test/fixtures/firmware/trap-frame-main.c', '-o', exe],
      { encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`${CC} failed:\n${build.stderr}`);
    const run = spawnSync(exe, [detail]);
    if (run.status !== 0) throw new Error(`${exe} exited with ${run.status}`);
    return new Uint8Array(run.stdout);
  }

  it('decodes as ERROR TRAP with seq 0 and the trap named in its text', () => {
    const wire = trapFrame('out of bounds memory access');
    expect(wire[wire.length - 1]).toBe(0);
    const dec = new FrameDecoder({ maxPayload: 1024 });
    const frames = dec.push(wire);
    expect(dec.stats).toEqual({ corrupt: 0, oversized: 0 });
    expect(frames).toHaveLength(1);
    const reply = decodeReply(frames[0]);
    expect(reply).toEqual({
      type: 'ERROR',
      seq: 0,
      code: ErrorCode.TRAP,
      text: 'agent trapped: out of bounds memory access; the board restarted its agent, every fragment is gone',
    });
  });

  it('cuts a long detail so the frame stays one COBS block', () => {
    const frames = new FrameDecoder({ maxPayload: 1024 }).push(trapFrame('x'.repeat(400)));
    expect(frames).toHaveLength(1);
    const reply = decodeReply(frames[0]);
    expect(reply.type === 'ERROR' && reply.text.length).toBe(200);
  });
});
