/* The device key region (docs/firmware.md, "Device keys"): a dedicated flash
 * region, written by `microsplit provision --region` (or, under QEMU, by the
 * launcher from the device's key file), that the board reads at boot.
 * Little-endian words:
 *   0  magic   0x314B534D ("MSK1"); anything else: the device is not keyed
 *   4  boots   starts of the board so far; advanced once per boot (one flash write)
 *   8  length  key bytes, 1..64
 *  12  key     64 bytes (the first `length` used)
 * Erasing the region (magic gone) un-keys the device; writing a new key
 * rotates it. The session the agent gets is boots << 16 | restarts (the
 * agent's starts since boot: restarts after a trap are counted in RAM), so no
 * two starts under one key share a session. */
#ifndef MS_KEY_REGION_H
#define MS_KEY_REGION_H

#include <stdint.h>

#define MS_KEY_REGION_MAGIC 0x314B534Du
#define MS_KEY_MAX_BYTES 64u

typedef struct {
  uint32_t magic;
  uint32_t boots;
  uint32_t length;
  uint8_t key[MS_KEY_MAX_BYTES];
} ms_key_region;

#endif
