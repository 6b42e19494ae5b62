// Device keys at rest (docs/protocol.md section 4): a key file holds the key
// as hex on one line; a simulated device keeps its boot counter next to it
// (`<key file>.boot`), the file standing for a board's flash word. Both are
// replaced atomically, so a crash mid-write leaves the old content.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export const MIN_KEY_BYTES = 1;
export const MAX_KEY_BYTES = 64;

/** Where a device with key file `keyFile` keeps its boot counter. */
export const bootCounterFile = (keyFile: string) => `${keyFile}.boot`;

function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

/** Parses a key written as hex bytes; throws one line saying what is wrong. */
export function parseKeyHex(text: string, source = 'key'): Uint8Array {
  const hex = text.trim();
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new Error(`${source}: expected the key as hex bytes on one line`);
  const key = Uint8Array.from(Buffer.from(hex, 'hex'));
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) throw new Error(`${source}: a device key is ${MIN_KEY_BYTES}..${MAX_KEY_BYTES} bytes, got ${key.length}`);
  return key;
}

export function readKeyFile(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read device key ${file}: ${(e as Error).message}`);
  }
  return parseKeyHex(text, file);
}

/** Writes (or replaces: rotation) a key file, readable by its owner only. */
export function writeKeyFile(file: string, key: Uint8Array): void {
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) throw new RangeError(`a device key is ${MIN_KEY_BYTES}..${MAX_KEY_BYTES} bytes, got ${key.length}`);
  writeAtomic(file, `${Buffer.from(key).toString('hex')}\n`, 0o600);
}

/**
 * Un-keys: removes the key file. The boot counter stays, so a device keyed
 * again with the same key never reuses a session.
 */
export function removeKeyFile(file: string): void {
  rmSync(file, { force: true });
}

/** Where a board keeps its key: the key region's layout (firmware/common/key_region.h). */
export const KEY_REGION = { magic: 0x314b534d, bytes: 12 + MAX_KEY_BYTES } as const;

/**
 * The key region's bytes for `key` after `boots` starts: what `microsplit
 * provision --region` writes for flashing, and what the QEMU launcher loads.
 */
export function keyRegionImage(key: Uint8Array, boots: number): Uint8Array {
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) throw new RangeError(`a device key is ${MIN_KEY_BYTES}..${MAX_KEY_BYTES} bytes, got ${key.length}`);
  const out = new Uint8Array(KEY_REGION.bytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, KEY_REGION.magic, true);
  view.setUint32(4, boots, true);
  view.setUint32(8, key.length, true);
  out.set(key, 12);
  return out;
}

/**
 * A flash sector holding the key region and its tally of boots
 * (firmware/common/key_flash.h) as a board leaves it after `boots` boots
 * counted from a region written with 0: one tally word programmed to 0 per
 * boot, and each time the tally was full, the sector erased and the region
 * written again with the count in it. The QEMU launcher loads it, so a board
 * reads its count as it would on a chip.
 */
export function keySectorImage(key: Uint8Array, boots: number, sectorBytes: number): Uint8Array {
  const tallyWords = Math.floor((sectorBytes - KEY_REGION.bytes) / 4);
  const tally = boots % (tallyWords + 1);
  const sector = new Uint8Array(sectorBytes).fill(0xff);
  sector.set(keyRegionImage(key, boots - tally));
  sector.fill(0, KEY_REGION.bytes, KEY_REGION.bytes + 4 * tally);
  return sector;
}

/**
 * The ESP32's key partition (firmware/boards/esp32/partitions.csv: mskey, an
 * NVS partition) as the CSV ESP-IDF's nvs_partition_gen.py turns into its
 * image: the key as the blob "key" in namespace "microsplit". The boot count
 * is not in it: the board keeps it in its default nvs partition.
 */
export function esp32KeyCsv(key: Uint8Array): string {
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) throw new RangeError(`a device key is ${MIN_KEY_BYTES}..${MAX_KEY_BYTES} bytes, got ${key.length}`);
  return `key,type,encoding,value\nmicrosplit,namespace,,\nkey,data,hex2bin,${Buffer.from(key).toString('hex')}\n`;
}

/** Starts counted so far for the device keyed by `keyFile` (0 before the first). */
export function readBootCount(keyFile: string): number {
  const file = bootCounterFile(keyFile);
  if (!existsSync(file)) return 0;
  const text = readFileSync(file, 'utf8').trim();
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) throw new Error(`${file}: boot counter is not a 32-bit number: ${JSON.stringify(text)}`);
  return Number(text);
}

/** Counts one boot of the device keyed by `keyFile` and returns its session (1, 2, ...). */
export function nextBootSession(keyFile: string): number {
  const last = readBootCount(keyFile);
  const file = bootCounterFile(keyFile);
  if (last >= 0xffffffff) throw new Error(`${file}: boot counter exhausted; provision a new key and remove this file`);
  writeAtomic(file, `${last + 1}\n`, 0o600);
  return last + 1;
}
