// `microsplit provision`: writes, rotates and removes a device key file, and
// the board key region (firmware/common/key_region.h) and the flash sector
// holding it with its tally (common/key_flash.h); one clear error for each
// misuse.
import { mkdtempSync, readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { provision } from '../host/cli/commands/provision.ts';
import { bootCounterFile, KEY_REGION, keySectorImage, nextBootSession, readKeyFile } from '../host/link/key-file.ts';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'microsplit-provision-')), 'dev.key');

describe('microsplit provision', () => {
  test('writes a random 32-byte key readable by its owner only', () => {
    const file = fresh();
    expect(provision(file, {})).toBe(`provisioned: 32-byte key in ${file}`);
    expect(readKeyFile(file)).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const other = fresh();
    provision(other, {});
    expect(readKeyFile(file)).not.toEqual(readKeyFile(other));
  });

  test('rotates a key and keeps the boot counter; refuses to overwrite without --rotate', () => {
    const file = fresh();
    provision(file, { key: '00112233' });
    expect(nextBootSession(file)).toBe(1);
    expect(() => provision(file, { key: '44556677' })).toThrow(`${file} already holds a key; --rotate replaces it, --unkey removes it`);
    expect(() => provision(file, { key: '00112233', rotate: true })).toThrow(`${file} already holds this key`);
    expect(provision(file, { key: '44556677', rotate: true })).toBe(`rotated: 4-byte key in ${file}`);
    expect(Buffer.from(readKeyFile(file)).toString('hex')).toBe('44556677');
    expect(nextBootSession(file)).toBe(2);
  });

  test('un-keys: removes the key file, keeps the boot counter', () => {
    const file = fresh();
    provision(file, {});
    nextBootSession(file);
    expect(provision(file, { unkey: true })).toMatch(/^unkeyed: removed /);
    expect(existsSync(file)).toBe(false);
    expect(readFileSync(bootCounterFile(file), 'utf8')).toBe('1\n');
    expect(() => provision(file, { unkey: true })).toThrow(`${file} holds no key`);
  });

  test('writes the board key region: magic, boots so far, length, key', () => {
    const file = fresh();
    const region = `${file}.region`;
    writeFileSync(bootCounterFile(file), '7\n');
    expect(provision(file, { key: 'a1b2c3', region })).toBe(`provisioned: 3-byte key in ${file}; key region (7 boots so far) in ${region} (STM32F405/407: flash it at 0x080E0000, erasing sector 11)`);
    const bytes = readFileSync(region);
    expect(bytes.length).toBe(KEY_REGION.bytes);
    expect([bytes.readUInt32LE(0), bytes.readUInt32LE(4), bytes.readUInt32LE(8)]).toEqual([0x314b534d, 7, 3]);
    expect([...bytes.subarray(12, 16)]).toEqual([0xa1, 0xb2, 0xc3, 0]);
  });

  test('a key flash sector after n boots: the region holds the count at the last rewrite, the tally the boots since', () => {
    const key = Uint8Array.of(0xa1, 0xb2);
    const bytes = 256;
    const tallyWords = (bytes - KEY_REGION.bytes) / 4; // 45
    const view = (boots: number) => {
      const sector = Buffer.from(keySectorImage(key, boots, bytes));
      const tally = Array.from({ length: tallyWords }, (_, i) => sector.readUInt32LE(KEY_REGION.bytes + 4 * i));
      return { magic: sector.readUInt32LE(0), base: sector.readUInt32LE(4), programmed: tally.filter((w) => w === 0).length, firstErased: tally.indexOf(0xffffffff) };
    };
    expect(view(0)).toEqual({ magic: KEY_REGION.magic, base: 0, programmed: 0, firstErased: 0 });
    expect(view(7)).toEqual({ magic: KEY_REGION.magic, base: 0, programmed: 7, firstErased: 7 });
    expect(view(tallyWords)).toEqual({ magic: KEY_REGION.magic, base: 0, programmed: tallyWords, firstErased: -1 });
    // The boot after a full tally erased the sector and wrote the region with its count.
    expect(view(tallyWords + 1)).toEqual({ magic: KEY_REGION.magic, base: tallyWords + 1, programmed: 0, firstErased: 0 });
    expect(view(2 * (tallyWords + 1) + 3)).toEqual({ magic: KEY_REGION.magic, base: 2 * (tallyWords + 1), programmed: 3, firstErased: 3 });
  });

  test("writes the ESP32's key partition as a CSV for nvs_partition_gen.py: the key blob only, no boot count", () => {
    const file = fresh();
    const nvs = `${file}.csv`;
    expect(provision(file, { key: 'a1b2c3', nvs })).toBe(
      `provisioned: 3-byte key in ${file}; ESP32 key partition CSV in ${nvs} (nvs_partition_gen.py generate ${nvs} mskey.bin 0x3000, then flash mskey.bin at 0x290000)`,
    );
    expect(readFileSync(nvs, 'utf8')).toBe('key,type,encoding,value\nmicrosplit,namespace,,\nkey,data,hex2bin,a1b2c3\n');
    expect(() => provision(file, { unkey: true, nvs })).toThrow('--unkey takes no --key, --rotate, --region or --nvs');
  });

  test.each([
    ['a key that is not hex', { key: 'xyz' }, '--key: expected the key as hex bytes on one line'],
    ['a key over 64 bytes', { key: 'ab'.repeat(65) }, '--key: a device key is 1..64 bytes, got 65'],
    ['--rotate with no key yet', { rotate: true }, 'holds no key to rotate'],
  ])('refuses %s', (_, opts, message) => {
    expect(() => provision(fresh(), opts)).toThrow(message);
  });
});
