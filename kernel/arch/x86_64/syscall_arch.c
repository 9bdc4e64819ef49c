/*
 * syscall_arch.c - enabling SYSCALL on each CPU, and the checks that
 * decide between SYSRET and IRETQ on the way out.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"
#include "percpu.h"
#include "syscall.h"
#include "vm.h"

_Static_assert(offsetof(struct percpu, kstack_top) == 8, "entry.S");
_Static_assert(offsetof(struct percpu, user_rsp) == 16, "entry.S");
_Static_assert(offsetof(struct percpu, current) == 24, "percpu.h");

extern char syscall_entry[];

#define FMASK_BITS ((1u << 8) | (1u << 9) | (1u << 10) | (1u << 14) | \
                    (1u << 18))             /* TF IF DF NT AC */

void syscall_init_cpu(void)
{
    wrmsr(MSR_STAR, ((uint64_t)(SEL_UCODE32 | 3) << 48) |
                    ((uint64_t)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, FMASK_BITS);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

/* Called by syscall_dispatch with the finished frame: may SYSRET restore
 * it exactly?  RIP must be canonical user space; RFLAGS must not ask for
 * anything SYSRET drops (RF) or that user code may not have (IOPL, VM). */
bool arch_frame_needs_iret(const struct trap_frame *tf)
{
    const uint64_t bad_flags = (1ul << 16) | (3ul << 12) | (1ul << 17);
    return tf->rip >= USER_TOP || (tf->rflags & bad_flags) ||
           tf->cs != (SEL_UCODE | 3) || tf->ss != (SEL_UDATA | 3) ||
           tf->rcx != tf->rip || tf->r11 != tf->rflags;
}
