// The agent's own SHA-256 and HMAC-SHA256 (assembly/agent/sha256.ts, hmac.ts),
// compiled with the agent's flags: FIPS 180-4 example vectors, RFC 4231 test
// cases, and node:crypto on random inputs.
import { createHash, createHmac } from 'node:crypto';
import asc from 'assemblyscript/asc';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

interface Probe {
  memory: WebAssembly.Memory;
  scratch(): number;
  shaInit(): void;
  shaUpdate(ptr: number, len: number): void;
  shaFinal(out: number): void;
  hmac(key: number, keyLen: number, data: number, len: number, out: number): void;
}

let probe: Probe;

beforeAll(async () => {
  let wasm: Uint8Array | undefined;
  const { error, stderr } = await asc.main(
    ['assembly/agent/probe/crypto.ts', '--outFile', 'probe.wasm', '--runtime', 'stub', '-O3', '--noAssert', '--use', 'abort=', '--initialMemory', '16', '--maximumMemory', '16'],
    { writeFile: (name: string, contents: Uint8Array | string) => { if (name.endsWith('.wasm')) wasm = contents as Uint8Array; } },
  );
  if (error || !wasm) throw new Error(`probe build failed: ${error?.message}\n${stderr.toString()}`);
  probe = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>)).exports as unknown as Probe;
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** SHA-256 of `parts` fed one update each, by the agent. */
function agentSha(...parts: Uint8Array[]): string {
  const at = probe.scratch();
  const mem = () => new Uint8Array(probe.memory.buffer);
  probe.shaInit();
  for (const p of parts) {
    mem().set(p, at + 32);
    probe.shaUpdate(at + 32, p.length);
  }
  probe.shaFinal(at);
  return hex(mem().slice(at, at + 32));
}

function agentHmac(key: Uint8Array, data: Uint8Array): string {
  const at = probe.scratch();
  const mem = new Uint8Array(probe.memory.buffer);
  mem.set(key, at + 32);
  mem.set(data, at + 32 + key.length);
  probe.hmac(at + 32, key.length, at + 32 + key.length, data.length, at);
  return hex(new Uint8Array(probe.memory.buffer).slice(at, at + 32));
}

const text = (s: string) => new TextEncoder().encode(s);

describe('SHA-256, FIPS 180-4 examples', () => {
  it.each([
    ['the empty message', '', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['"abc"', 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['the 448-bit message', 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
    [
      'the 896-bit message',
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
      'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
    ],
  ])('%s', (_, msg, digest) => {
    expect(agentSha(text(msg))).toBe(digest);
  });

  it('one million "a", fed in 1000 updates', () => {
    const chunk = new Uint8Array(1000).fill(0x61);
    expect(agentSha(...Array.from({ length: 1000 }, () => chunk))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('equals node:crypto on random messages split at random points', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(600), { maxLength: 4 }), (msg, cuts) => {
        const points = [...new Set(cuts.map((c) => Math.min(c, msg.length)))].sort((a, b) => a - b);
        const parts = [0, ...points].map((p, i, all) => msg.subarray(p, all[i + 1] ?? msg.length));
        expect(agentSha(...parts)).toBe(createHash('sha256').update(msg).digest('hex'));
      }),
      { numRuns: 200 },
    );
  });
});

describe('HMAC-SHA256, RFC 4231', () => {
  const h = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
  it.each([
    ['test case 1', new Uint8Array(20).fill(0x0b), text('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    ['test case 2 (short key)', text('Jefe'), text('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['test case 3', new Uint8Array(20).fill(0xaa), new Uint8Array(50).fill(0xdd), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    ['test case 4', h('0102030405060708090a0b0c0d0e0f10111213141516171819'), new Uint8Array(50).fill(0xcd), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
  ])('%s', (_, key, data, mac) => {
    expect(agentHmac(key, data)).toBe(mac);
  });

  it('equals node:crypto on random keys (1..64 bytes) and messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ maxLength: 300 }), (key, data) => {
        expect(agentHmac(key, data)).toBe(createHmac('sha256', key).update(data).digest('hex'));
      }),
      { numRuns: 200 },
    );
  });
});
