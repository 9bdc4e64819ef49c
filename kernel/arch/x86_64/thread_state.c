/*
 * thread_state.c - a parked user thread's registers on x86_64.
 *
 * A user thread inside the kernel has its user registers in the trap
 * frame at the top of its kernel stack (system calls, interrupts and
 * exceptions from user mode all build it there), and its FS and GS
 * bases in struct arch_thread once it is off its CPU.  These hooks read
 * and write exactly that; the caller (thread_control.c) guarantees the
 * thread is off its CPU.
 *
 * Nothing written may make the return to user mode fault in ring 0, or
 * enter user mode with more privilege: CS and SS are never written;
 * RIP, RSP and the bases must lie below USER_TOP (canonical: IRETQ or
 * SYSRET to a non-canonical RIP faults in ring 0, and a non-canonical
 * base would make WRMSR fault at the next switch); RFLAGS keeps only the
 * arithmetic flags, TF, DF and AC, with IF forced on, so no IOPL (port
 * I/O), no interrupts off, and none of NT, RF, VM, VIF, VIP or ID.
 * Whether the way out may be SYSRET is decided afterwards, from the
 * frame as it then is (arch_frame_needs_iret), so a frame whose RCX and
 * R11 do not match RIP and RFLAGS leaves through IRETQ.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/trap.h"
#include "mica/errors.h"
#include "mica/thread_state.h"
#include "panic.h"
#include "thread.h"
#include "vm.h"

_Static_assert(MICA_USER_TOP == USER_TOP, "mica/thread_state.h");

#define RFLAGS_FIXED (1ull << 1)        /* reads as 1 */

static struct trap_frame *user_frame(const struct thread *t)
{
    struct trap_frame *tf =
        (struct trap_frame *)((uintptr_t)t->kstack + KSTACK_SIZE) - 1;
    KASSERT(tf->cs == (SEL_UCODE | 3) && tf->ss == (SEL_UDATA | 3));
    return tf;
}

static void frame_state(const struct trap_frame *tf, uint64_t fs_base,
                        uint64_t gs_base, struct mica_thread_state *s)
{
    *s = (struct mica_thread_state){
        .rax = tf->rax, .rbx = tf->rbx, .rcx = tf->rcx, .rdx = tf->rdx,
        .rsi = tf->rsi, .rdi = tf->rdi, .rbp = tf->rbp, .rsp = tf->rsp,
        .r8 = tf->r8, .r9 = tf->r9, .r10 = tf->r10, .r11 = tf->r11,
        .r12 = tf->r12, .r13 = tf->r13, .r14 = tf->r14, .r15 = tf->r15,
        .rip = tf->rip, .rflags = tf->rflags,
        .fs_base = fs_base, .gs_base = gs_base,
    };
}

void arch_thread_get_state(const struct thread *t, struct mica_thread_state *s)
{
    frame_state(user_frame(t), t->arch.fs_base, t->arch.gs_base, s);
}

/* On its CPU the bases are in the MSRs (the user GS base in the
 * swapped-out one, since the kernel's is loaded). */
void arch_frame_user_state(const struct trap_frame *tf,
                           struct mica_thread_state *s)
{
    frame_state(tf, rdmsr(MSR_FS_BASE), rdmsr(MSR_KERNEL_GS_BASE), s);
}

void arch_current_user_state(struct mica_thread_state *s)
{
    arch_frame_user_state(user_frame(thread_current()), s);
}

int arch_thread_state_check(struct mica_thread_state *s)
{
    if (s->rip >= USER_TOP || s->rsp >= USER_TOP ||
        s->fs_base >= USER_TOP || s->gs_base >= USER_TOP)
        return ERR_INVALID_ARGS;
    s->rflags = (s->rflags & MICA_RFLAGS_USER) | MICA_RFLAGS_IF | RFLAGS_FIXED;
    return 0;
}

void arch_thread_set_state(struct thread *t, const struct mica_thread_state *s)
{
    struct trap_frame *tf = user_frame(t);
    KASSERT(s->rip < USER_TOP && s->rsp < USER_TOP &&
            s->fs_base < USER_TOP && s->gs_base < USER_TOP &&
            (s->rflags & ~(MICA_RFLAGS_USER | RFLAGS_FIXED)) == MICA_RFLAGS_IF);
    tf->rax = s->rax; tf->rbx = s->rbx; tf->rcx = s->rcx; tf->rdx = s->rdx;
    tf->rsi = s->rsi; tf->rdi = s->rdi; tf->rbp = s->rbp; tf->rsp = s->rsp;
    tf->r8 = s->r8; tf->r9 = s->r9; tf->r10 = s->r10; tf->r11 = s->r11;
    tf->r12 = s->r12; tf->r13 = s->r13; tf->r14 = s->r14; tf->r15 = s->r15;
    tf->rip = s->rip;
    tf->rflags = s->rflags;
    t->arch.fs_base = s->fs_base;
    t->arch.gs_base = s->gs_base;
}
