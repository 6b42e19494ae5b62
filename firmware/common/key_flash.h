/* A key region kept in a flash sector of its own (docs/firmware.md, "Device
 * keys"): the region (key_region.h) at the sector's start, then a tally.
 * Flash bits can only be cleared without erasing the sector, so the boot
 * count is the region's `boots` plus the tally's words programmed to 0, one
 * per boot (one write per boot, no erase). When the tally is full the sector
 * is erased and the region written again with the count folded in, the magic
 * last (a power cut in between leaves the device unkeyed: a gateway holding
 * the key then refuses it as NO_KEY, never accepts a repeated session). */
#ifndef MS_KEY_FLASH_H
#define MS_KEY_FLASH_H

#include <stdint.h>

#include "key_region.h"

/* What such a board provides. Both return 0 on success. */
/* Programs one word, and checks it reads back as written. */
int board_flash_program(volatile uint32_t* addr, uint32_t value);
/* Erases the sector starting at `sector`. */
int board_flash_erase(volatile uint32_t* sector);

/* The region for board_key_region(): a RAM copy read at the first call, with
 * `boots` the boots before this one; this boot is counted in flash before
 * the copy is returned, when `count_in_flash` (the firmware then advances the
 * copy to the same number); later calls (restarts after a trap) return the
 * copy. NULL when the sector holds no region, or the flash refused the write
 * (a session could repeat: the device stays unkeyed). */
ms_key_region* ms_key_region_in_flash(uintptr_t sector, uint32_t sector_bytes, int count_in_flash);

#endif
