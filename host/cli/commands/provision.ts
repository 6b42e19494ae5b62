// `microsplit provision KEYFILE`: keys a device (docs/protocol.md section 4,
// docs/firmware.md "Device keys"). Writes a fresh random 32-byte key (or the
// one given) to KEYFILE, which a simulated device's testbed entry names
// (`keyFile`) and the gateway reads; --region also writes the key region a
// board reads at boot, for flashing at its key-region address; --nvs the
// ESP32's key partition as a CSV for ESP-IDF's nvs_partition_gen.py. --rotate
// replaces a key, --unkey removes it; the boot counter beside the file stays,
// so sessions never repeat under a key used again.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { QEMU_BOARDS } from '../../sim/qemu.ts';
import { bootCounterFile, esp32KeyCsv, keyRegionImage, parseKeyHex, readBootCount, readKeyFile, removeKeyFile, writeKeyFile } from '../../link/key-file.ts';

interface ProvisionOptions {
  key?: string;
  rotate?: boolean;
  unkey?: boolean;
  region?: string;
  nvs?: string;
}

const KEY_BYTES = 32;
/** Where a real STM32F405/407 reads the region: the start of its flash's last sector (firmware/boards/stm32f4/board.c). */
const STM32F4_KEY_ADDR = `0x${QEMU_BOARDS['qemu-netduinoplus2'].keyRegion.rom.toString(16).padStart(8, '0').toUpperCase()}`;

export function register(program: Command): void {
  program
    .command('provision')
    .description('key a device: write its key file (simulated devices, the gateway) and optionally its board key region')
    .argument('<keyfile>', 'the device key file (hex on one line; its boot counter is kept in KEYFILE.boot)')
    .option('--key <hex>', `the key (1..64 bytes); default: ${KEY_BYTES} random bytes`)
    .option('--rotate', 'replace the key the file holds')
    .option('--unkey', 'remove the key: the device starts unkeyed at its next start')
    .option('--region <file>', `also write the board's key region (76 bytes) to flash at its key-region address (STM32F405/407: ${STM32F4_KEY_ADDR}, sector 11; docs/firmware.md "Device keys")`)
    .option('--nvs <file>', "also write the ESP32's key partition (mskey) as a CSV for ESP-IDF's nvs_partition_gen.py")
    .action((file: string, opts: ProvisionOptions) => {
      console.log(provision(file, opts));
    });
}

/** Does what the options say; returns the line to print. */
export function provision(file: string, opts: ProvisionOptions): string {
  if (opts.unkey) {
    if (opts.key || opts.rotate || opts.region || opts.nvs) throw new Error('--unkey takes no --key, --rotate, --region or --nvs');
    if (!existsSync(file)) throw new Error(`${file} holds no key`);
    removeKeyFile(file);
    return `unkeyed: removed ${file} (boards: erase the key region); the boot counter ${bootCounterFile(file)} stays`;
  }
  const exists = existsSync(file);
  if (exists && !opts.rotate) throw new Error(`${file} already holds a key; --rotate replaces it, --unkey removes it`);
  if (!exists && opts.rotate) throw new Error(`${file} holds no key to rotate`);
  const key = opts.key ? parseKeyHex(opts.key, '--key') : Uint8Array.from(randomBytes(KEY_BYTES));
  if (exists && Buffer.from(readKeyFile(file)).equals(Buffer.from(key))) throw new Error(`${file} already holds this key`);
  writeKeyFile(file, key);
  let line = `${exists ? 'rotated' : 'provisioned'}: ${key.length}-byte key in ${file}`;
  if (opts.region) {
    const boots = readBootCount(file);
    writeFileSync(opts.region, keyRegionImage(key, boots), { mode: 0o600 });
    line += `; key region (${boots} boots so far) in ${opts.region} (STM32F405/407: flash it at ${STM32F4_KEY_ADDR}, erasing sector 11)`;
  }
  if (opts.nvs) {
    writeFileSync(opts.nvs, esp32KeyCsv(key), { mode: 0o600 });
    line += `; ESP32 key partition CSV in ${opts.nvs} (nvs_partition_gen.py generate ${opts.nvs} mskey.bin 0x3000, then flash mskey.bin at 0x290000)`;
  }
  return line;
}
