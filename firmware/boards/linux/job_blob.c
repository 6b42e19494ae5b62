/* The job blob is the file named by --job, read whole. */
#include <stdio.h>
#include <stdlib.h>

#include "job.h"

extern const char* ms_linux_job_path;

const uint8_t* board_job_blob(uint32_t* len) {
  if (ms_linux_job_path == NULL) return NULL;
  FILE* f = fopen(ms_linux_job_path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* p = malloc(n > 0 ? (size_t)n : 1u);
  if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    return NULL;
  }
  fclose(f);
  *len = (uint32_t)n;
  return p;
}
