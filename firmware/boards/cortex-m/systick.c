#include "systick.h"

#define SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018u)

static volatile uint32_t systick_wraps;
static uint32_t systick_reload;

void systick_handler(void) { systick_wraps++; }

void systick_start(uint32_t reload) {
  systick_reload = reload;
  SYST_RVR = reload;
  SYST_CVR = 0;
  SYST_CSR = 7; /* processor clock, wrap interrupt, enabled */
}

/* Read twice around the counter so a wrap between the reads is not lost. */
uint64_t systick_ticks(void) {
  uint32_t wraps, cv;
  do {
    wraps = systick_wraps;
    cv = SYST_CVR;
  } while (wraps != systick_wraps);
  return (uint64_t)wraps * (systick_reload + 1u) + (systick_reload - cv);
}
