/* The job blob is placed in the 16 MiB RAM at 0x21000000 by QEMU's generic
 * loader (-device loader,file=JOB,addr=0x21000000); its header gives its size. */
#include "job.h"

#define JOB_ADDR 0x21000000u
#define JOB_REGION_BYTES (16u << 20)

const uint8_t* board_job_blob(uint32_t* len) {
  *len = JOB_REGION_BYTES;
  return (const uint8_t*)JOB_ADDR;
}
