/*
 * mica/thread_state.h - a thread's user registers, as thread_read_state
 * and thread_write_state (syscalls.h) see them on x86_64.
 *
 * Only a parked thread (SIGNAL_SUSPENDED), or one waiting for the
 * verdict on its exception (mica/exception.h), has its registers read
 * or written.  Writing takes rip, rsp, fs_base and gs_base only below the
 * top of user space (MICA_USER_TOP), and of rflags only the bits user
 * code may change (MICA_RFLAGS_USER); IF is always set.  The segment
 * selectors are not part of the state: a user thread always runs with
 * the user code and data segments.
 */
#ifndef MICA_ABI_THREAD_STATE_H
#define MICA_ABI_THREAD_STATE_H

#include <stdint.h>

struct mica_thread_state {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags;
    uint64_t fs_base, gs_base;
};

_Static_assert(sizeof(struct mica_thread_state) == 20 * 8,
               "struct mica_thread_state is 160 bytes");

/* The end of user space: no user address is at or above it. */
#define MICA_USER_TOP 0x00007FFFFFFFF000ull

/* rflags bits a thread_write_state may set or clear: CF PF AF ZF SF TF
 * DF OF and AC.  IF (bit 9) and the reserved bit 1 are always set; the
 * rest (IOPL, NT, RF, VM, VIF, VIP, ID) are always clear. */
#define MICA_RFLAGS_USER 0x40DD5ull
#define MICA_RFLAGS_IF   (1ull << 9)

#endif
