// The ERROR frame the board firmware sends when the module traps
// (firmware/common/trap_frame.c, CBOR and CRC written by hand from the
// generated abi.generated.h) decodes with the gateway's own frame decoder
// and message schema; a keyed board's message, tagged by the agent's
// tag_trap export, verifies with the gateway's reply check for the session
// that trapped, and for no other.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../host/link/frame.ts';
import { errorBinding, replyTagValid } from '../host/link/hmac.ts';
import { decodeReply, ErrorCode } from '../host/link/messages.ts';
import { loadAgentModule } from '../host/sim/agent-host.ts';
import { toolGate } from './tool-gate.ts';

const CC = process.env.CC ?? 'cc';
const hasCc = spawnSync('sh', ['-c', `command -v ${CC}`]).status === 0;
const gate = toolGate(hasCc ? null : `${CC} is not installed (Debian package gcc; .ci/run installs it)`);

describe.skipIf(gate.skip)(`the board's trap frame${gate.note}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'microsplit-trap-'));
  beforeAll(() => gate.check());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function trapFrame(...args: string[]): Uint8Array {
    const exe = join(dir, 'trap-frame');
    const build = spawnSync(
      CC,
      ['-std=gnu11', '-Wall', '-Werror', '-Ifirmware/common', 'firmware/common/trap_frame.c', 'test/fixtures/firmware/trap-frame-main.c', '-o', exe],
      { encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`${CC} failed:\n${build.stderr}`);
    const run = spawnSync(exe, args);
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

  /** agent.wasm in Node, keyed with `key` in `session`; returns its tag_trap over `message` (0 or an error code) and the message after. */
  function tagByAgent(message: Uint8Array, trapped: number, key?: Uint8Array): { rc: number; tagged: Uint8Array } {
    const window = 1024;
    const { exports } = new WebAssembly.Instance(loadAgentModule(), { env: { link_write: () => {}, clock_us: () => 0n, log: () => {} } });
    const agent = exports as unknown as {
      memory: WebAssembly.Memory;
      init(memory: number, window: number, engine: number): number;
      rx_buffer(): number;
      provision_key(len: number, session: number): number;
      tag_trap(len: number, session: number): number;
    };
    agent.memory.grow(1);
    expect(agent.init(2 * 65536, window, 0)).toBe(0);
    const rx = () => new Uint8Array(agent.memory.buffer, agent.rx_buffer(), window);
    if (key) {
      rx().set(key);
      expect(agent.provision_key(key.length, trapped + 1)).toBe(0); // the restarted agent's own session
    }
    rx().set(message);
    const rc = agent.tag_trap(message.length, trapped);
    return { rc, tagged: rx().slice(0, message.length) };
  }

  it('is tagged on a keyed board by the restarted agent for the session that trapped, and verifies for that one only', () => {
    const message = trapFrame('--tagged', 'unreachable executed');
    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
    const trapped = (3 << 16) | 2;
    const { rc, tagged } = tagByAgent(message, trapped, key);
    expect(rc).toBe(0);
    const reply = decodeReply(tagged);
    expect(reply).toMatchObject({ type: 'ERROR', seq: 0, code: ErrorCode.TRAP, text: expect.stringMatching(/^agent trapped: unreachable executed;/) });
    const tag = reply.type === 'ERROR' ? reply.tag : undefined;
    expect(tag).toHaveLength(32);
    expect(tag!.some((b) => b !== 0)).toBe(true);
    expect(replyTagValid(key, tagged, tag, [errorBinding(trapped, 0)])).toBe(true);
    // Not for the restarted start's session, another key, or a rewritten text.
    expect(replyTagValid(key, tagged, tag, [errorBinding(trapped + 1, 0)])).toBe(false);
    expect(replyTagValid(key.map((b) => b ^ 1), tagged, tag, [errorBinding(trapped, 0)])).toBe(false);
    const rewritten = tagged.slice();
    rewritten[20] ^= 1;
    expect(replyTagValid(key, rewritten, tag, [errorBinding(trapped, 0)])).toBe(false);
  });

  it('is not tagged by an unkeyed agent', () => {
    const message = trapFrame('--tagged', 'x');
    expect(tagByAgent(message, 1)).toEqual({ rc: ErrorCode.BAD_MESSAGE, tagged: message });
  });
});
