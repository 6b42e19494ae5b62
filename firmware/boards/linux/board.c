/* The linux board: the same mains as the MPS2 boards, as a native process.
 * The link is a PTY it creates (its slave path printed as "pty PATH" on
 * stdout) or, with --stdio, stdin/stdout. The job image reads its blob from
 * the file named by --job. --key FILE keys the agent from a key file
 * (board_key_region below). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "board.h"

/* The Makefile renames the common mains to ms_board_main; this is the real one. */
#undef main

int ms_board_main(void);

static int in_fd = -1, out_fd = -1, slave_fd = -1;
static uint32_t agent_memory;
static const char* key_path;
const char* ms_linux_job_path;

static void usage(const char* argv0) {
  fprintf(stderr, "usage: %s [--stdio] [--memory BYTES] [--job FILE] [--key FILE]\n", argv0);
  exit(2);
}

static void open_pty(void) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    perror("microsplit linux board: cannot open a pty");
    exit(1);
  }
  const char* path = ptsname(master);
  /* Hold the slave open in raw mode: nothing is echoed before the gateway
   * configures it, and the master never sees EIO while the gateway reopens. */
  slave_fd = open(path, O_RDWR | O_NOCTTY);
  struct termios t;
  if (slave_fd < 0 || tcgetattr(slave_fd, &t) != 0) {
    perror("microsplit linux board: cannot configure the pty");
    exit(1);
  }
  cfmakeraw(&t);
  tcsetattr(slave_fd, TCSANOW, &t);
  in_fd = out_fd = master;
  printf("pty %s\n", path);
  fflush(stdout);
}

int main(int argc, char** argv) {
  int use_stdio = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--stdio") == 0) use_stdio = 1;
    else if (strcmp(argv[i], "--job") == 0 && i + 1 < argc) ms_linux_job_path = argv[++i];
    else if (strcmp(argv[i], "--memory") == 0 && i + 1 < argc) agent_memory = (uint32_t)strtoul(argv[++i], NULL, 0);
    else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) key_path = argv[++i];
    else usage(argv[0]);
  }
  if (use_stdio || ms_linux_job_path != NULL) {
    in_fd = 0;
    out_fd = 1;
  } else {
    open_pty();
  }
  return ms_board_main();
}

uint32_t board_agent_memory(void) { return agent_memory; }

static void key_failed(const char* what, const char* file) {
  fprintf(stderr, "microsplit linux board: %s %s\n", what, file);
  exit(2);
}

/* The key file as `microsplit provision` writes it: the key as hex bytes on one line. */
static void read_key(ms_key_region* r) {
  FILE* f = fopen(key_path, "r");
  if (f == NULL) key_failed("cannot read the key file", key_path);
  char hex[2 * MS_KEY_MAX_BYTES + 2];
  size_t n = fread(hex, 1, sizeof hex - 1, f);
  int more = fgetc(f) != EOF;
  fclose(f);
  while (n > 0 && isspace((unsigned char)hex[n - 1])) n--;
  if (more || n == 0 || n % 2 != 0 || n / 2 > MS_KEY_MAX_BYTES)
    key_failed("a key file holds the key as 1..64 hex bytes on one line (microsplit provision):", key_path);
  for (size_t i = 0; i < n; i += 2) {
    char pair[3] = {hex[i], hex[i + 1], 0};
    if (!isxdigit((unsigned char)pair[0]) || !isxdigit((unsigned char)pair[1])) key_failed("the key is not hex bytes:", key_path);
    r->key[i / 2] = (uint8_t)strtoul(pair, NULL, 16);
  }
  r->length = (uint32_t)(n / 2);
}

/* Boots so far, from <key file>.boot (absent: none), and that count plus
 * this boot written back before the agent starts, atomically (a crash
 * mid-write leaves the old count): the file is this board's flash word, kept
 * as the simulated devices keep theirs (host/link/key-file.ts). */
static uint32_t count_boot(void) {
  char path[4096], tmp[4110];
  if (snprintf(path, sizeof path, "%s.boot", key_path) >= (int)sizeof path) key_failed("key file path too long:", key_path);
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
  uint32_t boots = 0;
  FILE* f = fopen(path, "r");
  if (f != NULL) {
    uint64_t v = 0;
    int ok = fscanf(f, "%" SCNu64, &v) == 1 && v <= 0xffffffffu;
    fclose(f);
    if (!ok) key_failed("the boot counter is not a 32-bit number:", path);
    boots = (uint32_t)v;
  } else if (errno != ENOENT) {
    key_failed("cannot read the boot counter", path);
  }
  f = fopen(tmp, "w");
  if (f == NULL || fprintf(f, "%" PRIu32 "\n", boots + 1) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
    key_failed("cannot write the boot counter", path);
  return boots;
}

/* The key region, from --key FILE: read at the first start of the agent
 * (the firmware then advances the count in RAM once, to the number the file
 * now holds; restarts after a trap reuse the region). No --key, or no FILE
 * (un-keyed by removing it, as `microsplit provision --unkey` does): none. */
ms_key_region* board_key_region(void) {
  static ms_key_region region;
  static int loaded;
  if (loaded || key_path == NULL) return loaded ? &region : NULL;
  if (access(key_path, F_OK) != 0 && errno == ENOENT) {
    fprintf(stderr, "microsplit linux board: no key file %s: not keyed\n", key_path);
    key_path = NULL;
    return NULL;
  }
  read_key(&region);
  region.boots = count_boot();
  region.magic = MS_KEY_REGION_MAGIC;
  loaded = 1;
  return &region;
}

void board_log(const uint8_t* p, uint32_t n) {
  fprintf(stderr, "agent: %.*s\n", (int)n, (const char*)p);
}

void board_init(void) { fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK); }

void board_write(const uint8_t* p, uint32_t n) {
  while (n > 0) {
    ssize_t k = write(out_fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && errno == EAGAIN) {
      struct pollfd w = {out_fd, POLLOUT, 0};
      poll(&w, 1, 100);
      continue;
    }
    if (k <= 0) exit(1); /* the link is gone */
    p += k;
    n -= (uint32_t)k;
  }
}

static int input_closed;

uint32_t board_read(uint8_t* dst, uint32_t max) {
  ssize_t k = read(in_fd, dst, max);
  if (k == 0 && in_fd == 0) input_closed = 1;
  return k > 0 ? (uint32_t)k : 0;
}

void board_wait_for_input(void) {
  if (input_closed) exit(0); /* --stdio: end of input ends the process */
  struct pollfd r = {in_fd, POLLIN, 0};
  poll(&r, 1, 10);
}

uint64_t board_micros(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t board_ticks(void) { return 0; }
uint32_t board_instructions_per_tick(void) { return 0; }

void board_exit(int code) { exit(code); }
