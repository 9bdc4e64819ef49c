/*
 * linux_abi.h - Linux x86_64 system call numbers the kernel answers, and
 * errno values.  Used only by the Linux layer (core/linux.c).
 */
#ifndef MICA_LINUX_ABI_H
#define MICA_LINUX_ABI_H

#include "types.h"

enum {
    LX_read = 0, LX_write = 1, LX_mmap = 9, LX_mprotect = 10, LX_munmap = 11, LX_brk = 12,
    LX_rt_sigprocmask = 14, LX_ioctl = 16, LX_readv = 19, LX_writev = 20,
    LX_sched_yield = 24, LX_nanosleep = 35, LX_getpid = 39, LX_clone = 56,
    LX_exit = 60, LX_arch_prctl = 158, LX_gettid = 186, LX_futex = 202,
    LX_sched_setaffinity = 203,
    LX_set_tid_address = 218, LX_clock_gettime = 228,
    LX_clock_nanosleep = 230, LX_exit_group = 231,
};

struct trap_frame;
int64_t linux_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags,
                   uint64_t fd, uint64_t off);
int64_t linux_munmap(uint64_t addr, uint64_t len);
int64_t linux_mprotect(uint64_t addr, uint64_t len, uint64_t prot);
int64_t linux_clone(struct trap_frame *tf);

struct aspace;
/* Wake a waiter on an exiting thread's child-tid word. */
void linux_clear_child_tid_wake(struct aspace *as, uint64_t uaddr);

#endif
