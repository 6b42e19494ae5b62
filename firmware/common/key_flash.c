/* The key region in a flash sector, its boots counted by a tally (key_flash.h). */
#include "key_flash.h"

#define ERASED 0xFFFFFFFFu

/* Counts this boot in the sector: clears the next tally word or, with the
 * tally full, erases the sector and writes `r` back with this boot folded
 * into its count. */
static int count_boot(uintptr_t sector, uint32_t tally_words, const ms_key_region* r, uint32_t tally) {
  volatile uint32_t* words = (volatile uint32_t*)sector;
  if (tally < tally_words) return board_flash_program(&words[sizeof *r / 4u + tally], 0);
  if (board_flash_erase(words)) return 1;
  const uint32_t* src = (const uint32_t*)r;
  for (uint32_t i = sizeof *r / 4u; i-- > 0;) /* the magic last: a cut leaves no half region */
    if (board_flash_program(&words[i], i == 1 ? r->boots + 1u : src[i])) return 1;
  return 0;
}

ms_key_region* ms_key_region_in_flash(uintptr_t sector, uint32_t sector_bytes, int count_in_flash) {
  static ms_key_region region;
  static int loaded;
  if (loaded) return &region;
  const ms_key_region* flash = (const ms_key_region*)sector;
  if (flash->magic != MS_KEY_REGION_MAGIC) return 0;
  region = *flash;
  const volatile uint32_t* tally = (const volatile uint32_t*)(sector + sizeof region);
  uint32_t tally_words = (sector_bytes - (uint32_t)sizeof region) / 4u, n = 0;
  while (n < tally_words && tally[n] != ERASED) n++;
  region.boots += n;
  if (count_in_flash && count_boot(sector, tally_words, &region, n)) return 0;
  loaded = 1;
  return &region;
}
