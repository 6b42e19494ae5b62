// The agent's ChaCha20 (assembly/agent/chacha20.ts), compiled with the
// agent's flags: RFC 8439's keystream and encryption examples, and
// node:crypto's chacha20 (OpenSSL) on random keys, nonces and lengths.
import { createCipheriv } from 'node:crypto';
import asc from 'assemblyscript/asc';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

interface Probe {
  memory: WebAssembly.Memory;
  scratch(): number;
  chacha(key: number, n0: number, n1: number, n2: number, ptr: number, len: number): void;
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

/** The agent's ChaCha20 of `data` (block counter from 0). */
function agent(key: Uint8Array, nonce: Uint8Array, data: Uint8Array): Uint8Array {
  const at = probe.scratch();
  const mem = new Uint8Array(probe.memory.buffer);
  mem.set(key, at);
  mem.set(data, at + 32);
  const n = Buffer.from(nonce);
  probe.chacha(at, n.readUInt32LE(0), n.readUInt32LE(4), n.readUInt32LE(8), at + 32, data.length);
  return new Uint8Array(probe.memory.buffer).slice(at + 32, at + 32 + data.length);
}

/** node:crypto's ChaCha20: the IV is the 32-bit initial block counter (little endian), then the nonce. */
function node(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter = 0): Uint8Array {
  const iv = Buffer.concat([Buffer.from(Uint32Array.of(counter).buffer), nonce]);
  const c = createCipheriv('chacha20', key, iv);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

describe('ChaCha20, RFC 8439', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  it('section 2.4.2: the sunscreen plaintext (counter 1) through node:crypto equals the RFC ciphertext; the agent agrees from block 0', () => {
    const nonce = hex('000000000000004a00000000');
    const plain = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const rfc = hex(`6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8
      07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d`);
    expect(node(key, nonce, plain, 1)).toEqual(rfc);
    // The agent starts at block 0: block 0's keystream, then the RFC's from block 1.
    const padded = new Uint8Array(64 + plain.length);
    padded.set(plain, 64);
    expect(agent(key, nonce, padded).subarray(64)).toEqual(rfc);
  });

  it('section 2.3.2: the keystream of block 1', () => {
    const nonce = hex('000000090000004a00000000');
    const block1 = hex(`10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e`);
    expect(agent(key, nonce, new Uint8Array(128)).subarray(64)).toEqual(block1);
  });
});

describe('ChaCha20 against node:crypto', () => {
  it('property: equal on random keys, nonces and lengths 0..300', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ maxLength: 300 }), (k, n, d) => {
        expect(agent(k, n, d)).toEqual(node(k, n, d));
      }),
      { numRuns: 200 },
    );
  });

  it('decrypts what it encrypts', () => {
    const k = new Uint8Array(32).fill(9);
    const n = new Uint8Array(12).fill(3);
    const d = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    expect(agent(k, n, agent(k, n, d))).toEqual(d);
  });
});
