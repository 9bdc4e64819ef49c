/*
 * syscall.h - system call dispatch.
 *
 * Every native call has the same shape (Zircon's): look up each handle
 * with the rights it needs (handle_get), fail early with a status, then
 * act.  Arguments arrive as the six argument registers of the frame.
 */
#ifndef MICA_SYSCALL_H
#define MICA_SYSCALL_H

#include "arch/x86_64/trap.h"
#include "types.h"

/* From entry.S: run the call, return nonzero to leave through IRETQ. */
int syscall_dispatch(struct trap_frame *tf);

/* The Linux system call layer (numbers below MICA_SYSCALL_BASE). */
int64_t linux_syscall(struct trap_frame *tf);

void syscall_init_cpu(void);
bool arch_frame_needs_iret(const struct trap_frame *tf);

/* Checks on the way back to user mode: a pending kill ends the thread,
 * a suspension parks it until resumed, a pending reschedule switches.
 * Interrupts off.  The frame is final once this returns. */
void user_return_work(struct trap_frame *tf);

#endif
