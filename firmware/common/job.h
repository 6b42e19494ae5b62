/* A job: kernel calls on the kernels module, given as one blob the host
 * packs (tools/bench/job.ts). Used for cross-engine bit-exactness and for
 * counting instructions per MAC. Little-endian u32 words:
 *
 *   0 magic MS_JOB_MAGIC   1 dest (linear-memory offset of the payload)
 *   2 payload bytes        3 step count
 *   then per step 4 words {kind, a, b, c}, then the payload.
 *
 * Each step prints one line: "step <i> rc=<code> ticks=<n>", and a DUMP step
 * "dump <i> <hex bytes>". The run ends with "done ipt=<instructions per tick>". */
#ifndef MS_JOB_H
#define MS_JOB_H

#include <stdint.h>

#define MS_JOB_MAGIC 0x314A534Du /* "MSJ1" */

enum {
  MS_STEP_PREPARE = 1, /* a = record: prepareRecord(a) */
  MS_STEP_RUN = 2,     /* a = record, b = call block: runFragment(a, b) */
  MS_STEP_PLAIN = 3,   /* the same fragment by the plain C kernels */
  MS_STEP_DUMP = 4,    /* print linear memory [a, a + b) in hex */
};

/* Where the board finds the blob; NULL when there is none. */
const uint8_t* board_job_blob(uint32_t* len);

/* The plain C kernels: conv 3x3, depthwise, FC over the same record and call
 * block layout as the kernels module (assembly/kernels/ABI.md). */
int32_t ms_plain_run(uint8_t* mem, uint32_t rec, uint32_t call);

#endif
