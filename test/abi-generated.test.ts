// spec/abi.json is the one source of the device contract: the committed
// TypeScript, AssemblyScript and C files are exactly what tools/gen-abi.ts
// writes from it, and the ABI hash they carry changes with any name, order,
// type or value of the spec (not with a meaning's wording).
import { describe, expect, it } from 'vitest';
import { abiHash, checkSpec, readSpec, render, stale, type Spec } from '../tools/gen-abi.ts';
import { ABI_HASH, W } from '../host/abi/abi.generated.ts';

const clone = (s: Spec): Spec => structuredClone(s);

describe('the generated device contract', () => {
  it('matches the spec: run npm run gen:abi after editing spec/abi.json', () => {
    expect(stale()).toEqual([]);
  });

  it('carries the hash of the spec in every output', () => {
    const spec = readSpec();
    expect(ABI_HASH).toBe(abiHash(spec));
    const hex = ABI_HASH.toString(16).toUpperCase().padStart(8, '0');
    for (const [path, text] of Object.entries(render(spec))) expect(text, path).toContain(`0x${hex}`);
  });

  it('derives record word indices from the order of the fields', () => {
    expect([W.MAGIC, W.IN_SHAPE, W.OUT_SHAPE, W.KH, W.OUT_BITS]).toEqual([0, 4, 8, 16, 49]);
  });

  it('changes the hash when two record fields swap, a key moves or a field is renamed', () => {
    const spec = readSpec();
    const base = abiHash(spec);
    const swapped = clone(spec);
    const r = swapped.kernel.record;
    [r[25], r[26]] = [r[26], r[25]];
    const rekeyed = clone(spec);
    rekeyed.protocol.replies[0].fields[1].key = 16;
    const renamed = clone(spec);
    renamed.blob.header[2].name = 'INPUT_OFFSET';
    const retyped = clone(spec);
    retyped.protocol.requests[3].fields[4].type = 'bytes';
    for (const s of [swapped, rekeyed, renamed, retyped]) expect(abiHash(s)).not.toBe(base);
  });

  it('keeps the hash when only a meaning is reworded', () => {
    const spec = readSpec();
    const reworded = clone(spec);
    reworded.kernel.record[0].meaning = 'another wording';
    expect(abiHash(reworded)).toBe(abiHash(spec));
  });

  it('refuses a spec whose keys collide or whose call block is not its stated size', () => {
    const spec = readSpec();
    expect(checkSpec(spec)).toEqual([]);
    const bad = clone(spec);
    bad.protocol.requests[3].fields[1].key = 2;
    bad.kernel.call.pop();
    expect(checkSpec(bad)).toEqual([
      'LOAD keys: 2 appears twice',
      'call block: 31 words, callWords says 32',
    ]);
    expect(() => render(bad)).toThrow(/spec\/abi.json:\n {2}LOAD keys: 2 appears twice/);
  });
});
