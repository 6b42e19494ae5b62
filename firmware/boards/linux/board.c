/* The linux board: the same mains as the MPS2 boards, as a native process.
 * The link is a PTY it creates (its slave path printed as "pty PATH" on
 * stdout) or, with --stdio, stdin/stdout. The job image reads its blob from
 * the file named by --job. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
const char* ms_linux_job_path;

static void usage(const char* argv0) {
  fprintf(stderr, "usage: %s [--stdio] [--memory BYTES] [--job FILE]\n", argv0);
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

/* No key region: the linux build is not keyed (simulated devices are). */
ms_key_region* board_key_region(void) { return NULL; }

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
