/* Reset for the rv32 board: stack, global pointer, data and bss, a trap
 * vector, then main; its return value ends QEMU (board_exit). */
  .section .text.start, "ax"
  .globl _start
_start:
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  la sp, _stack_top
  la t0, trap_entry
  csrw mtvec, t0
  la a0, _data_start
  la a1, _data_load
  la a2, _data_end
  sub a2, a2, a0
  call memcpy
  la a0, _bss_start
  li a1, 0
  la a2, _bss_end
  sub a2, a2, a0
  call memset
  call main
  call board_exit

/* Any trap (the firmware takes no interrupts: mstatus.MIE stays 0) is a
 * fault: report mcause, mepc and mtval, then stop. */
  .align 4
trap_entry:
  la sp, _stack_top
  csrr a0, mcause
  csrr a1, mepc
  csrr a2, mtval
  call trap_report

/* Interrupt enables for WFI: machine external interrupts (the UART, through
 * the PLIC) wake the core; with mstatus.MIE clear none is taken. */
  .globl rv_enable_external_wakeup
rv_enable_external_wakeup:
  li t0, 0x800
  csrs mie, t0
  ret
