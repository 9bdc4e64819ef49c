/*
 * test_thread_control.c - in-system tests of thread control: suspending
 * and resuming threads, reading and writing a parked thread's registers
 * (and the kernel surviving hostile ones), interrupting blocking calls,
 * and every error of thread_suspend, thread_resume, thread_read_state,
 * thread_write_state and thread_interrupt.
 *
 * Every test waits for progress, never for time.  A thread is known to
 * be blocked in the kernel through a witness: target and witness are
 * pinned to CPU 0, the witness at priority 1 below the target's 16, so
 * the witness runs only while the target cannot; the target raises a
 * flag just before its blocking call, and a witness that sees the flag
 * proves the target is inside that call, blocked.  Deadlines appear only
 * as generous bounds (30 s) that turn a hang into a failure.
 *
 * Threads started with mica_thread_start run plain C (or the assembly
 * below) on a stack given here, without musl's thread setup.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mica.h"
#include "testchild.h"
#include "utest.h"

#define STACK 16384
#define BOUND_NS 30000000000ull         /* a hang becomes a failure */
#define LX_EINTR 4
#define LX_nanosleep 35
#define LX_arch_prctl 158
#define LX_futex 202
#define LX_clock_nanosleep 230
#define ARCH_GET_FS 0x1003
#define FUTEX_WAIT_PRIVATE 128

#define RFLAGS_CF   (1ull << 0)
#define RFLAGS_TF   (1ull << 8)
#define RFLAGS_IF   (1ull << 9)
#define RFLAGS_OF   (1ull << 11)
#define RFLAGS_IOPL (3ull << 12)
#define RFLAGS_NT   (1ull << 14)
#define RFLAGS_RF   (1ull << 16)
#define RFLAGS_VM   (1ull << 17)
#define RFLAGS_AC   (1ull << 18)
#define RFLAGS_VIF  (1ull << 19)
#define RFLAGS_VIP  (1ull << 20)
#define RFLAGS_ID   (1ull << 21)

/*
 * The spinner: counts in s->count until RBX is nonzero, stores RBX in
 * s->rbx and ends.  tc_other stores RAX in s->other and ends.  Both keep
 * the struct's address in R12, so a debugger can tell where they are.
 */
struct spin {
    volatile uint64_t count;            /* offset 0 */
    volatile uint64_t rbx;              /* offset 8 */
    volatile uint64_t other;            /* offset 16 */
};

_Static_assert(MICA_SYS_thread_exit == 0x1022, "tc_spin's exit");

extern char tc_spin[], tc_spin_loop[], tc_spin_end[], tc_other[];
__asm__(".text\n"
        ".globl tc_spin, tc_spin_loop, tc_spin_end, tc_other\n"
        "tc_spin:\n"
        "    movq %rdi, %r12\n"
        "    xorl %ebx, %ebx\n"
        "tc_spin_loop:\n"
        "    incq (%r12)\n"
        "    testq %rbx, %rbx\n"
        "    jz tc_spin_loop\n"
        "    movq %rbx, 8(%r12)\n"
        "    movl $0x1022, %eax\n"
        "    syscall\n"
        "    ud2\n"
        "tc_spin_end:\n"
        "tc_other:\n"
        "    movq %rax, 16(%r12)\n"
        "    movl $0x1022, %eax\n"
        "    syscall\n"
        "    ud2\n");

static uint64_t now_ns(void)
{
    uint64_t t = 0;
    mica_clock_get(&t);
    return t;
}

static int start_thread(mica_handle_t t, const void *fn, void *arg)
{
    char *stack = aligned_alloc(16, STACK);
    if (!stack)
        return ERR_NO_MEMORY;
    /* entered like a called function: rsp + 8 aligned to 16 */
    return mica_thread_start(t, (uint64_t)fn, (uint64_t)(stack + STACK - 8),
                             (uint64_t)arg, 0);
}

/* A thread of this process pinned to CPU 0 (see the witness above). */
static int new_thread(const char *name, mica_handle_t *t)
{
    int err = mica_thread_create(mica_process_self(), name, strlen(name), t);
    if (!err)
        err = mica_thread_set_affinity(*t, 1);
    return err;
}

static int spawn(const void *fn, void *arg, mica_handle_t *t)
{
    int err = new_thread("target", t);
    if (!err)
        err = start_thread(*t, fn, arg);
    return err;
}

static int wait_signal(mica_handle_t h, mica_signals_t want)
{
    return mica_object_wait_one(h, want, now_ns() + BOUND_NS, NULL);
}

/* The signals of h right now. */
static mica_signals_t signals_of(mica_handle_t h)
{
    mica_signals_t seen = 0;
    mica_object_wait_one(h, 0, 1, &seen);
    return seen;
}

/* Make sure a thread ends, and let its handle go. */
static void finish(mica_handle_t t)
{
    mica_thread_kill(t);
    mica_object_wait_one(t, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(t);
}

static void witness(uint64_t arg)
{
    volatile int *flag = (volatile int *)arg;
    while (!*flag)
        ;
    mica_thread_exit();
}

/* Returns once the CPU-0 thread that raised *flag just before a blocking
 * call is blocked in it. */
static int wait_blocked(volatile int *flag)
{
    mica_handle_t w;
    int err = new_thread("witness", &w);
    if (!err)
        err = mica_thread_set_priority(w, 1);
    if (!err)
        err = start_thread(w, witness, (void *)flag);
    if (!err)
        err = wait_signal(w, SIGNAL_TERMINATED);
    mica_handle_close(w);
    return err;
}

/* A spinner that has made progress, and then parked. */
static int spin_and_park(struct spin *s, mica_handle_t *t)
{
    memset((void *)s, 0, sizeof(*s));
    int err = spawn(tc_spin, (void *)s, t);
    while (!err && s->count == 0)
        mica_thread_yield();
    if (!err)
        err = mica_thread_suspend(*t);
    if (!err)
        err = wait_signal(*t, SIGNAL_SUSPENDED);
    return err;
}

UTEST(thread_suspend_parks_and_registers_change)
{
    static struct spin s;
    mica_handle_t t;
    UASSERT(spin_and_park(&s, &t) == OK);
    struct mica_thread_state st, back;
    UASSERT(mica_thread_read_state(t, &st) == OK);
    UEXPECT(st.rip >= (uint64_t)tc_spin && st.rip < (uint64_t)tc_spin_end);
    UEXPECT(st.r12 == (uint64_t)&s);
    UEXPECT(st.rbx == 0);
    UEXPECT((st.rflags & RFLAGS_IF) && !(st.rflags & RFLAGS_IOPL));
    uint64_t c = s.count;
    mica_thread_yield();
    UEXPECT(s.count == c);                      /* parked: no progress */
    st.rbx = 0x5ca1ab1e;
    UASSERT(mica_thread_write_state(t, &st) == OK);
    UASSERT(mica_thread_read_state(t, &back) == OK);
    UEXPECT(memcmp(&st, &back, sizeof(st)) == 0);
    UEXPECT(mica_thread_resume(t) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(s.rbx == 0x5ca1ab1e);               /* it saw the new RBX */
    finish(t);
}

UTEST(thread_write_state_moves_rip)
{
    static struct spin s;
    mica_handle_t t;
    UASSERT(spin_and_park(&s, &t) == OK);
    struct mica_thread_state st;
    UASSERT(mica_thread_read_state(t, &st) == OK);
    st.rip = (uint64_t)tc_other;
    st.rax = 77;
    UASSERT(mica_thread_write_state(t, &st) == OK);
    UEXPECT(mica_thread_resume(t) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(s.other == 77 && s.rbx == 0);
    finish(t);
}

UTEST(thread_suspend_nests)
{
    static struct spin s;
    mica_handle_t t;
    UASSERT(spin_and_park(&s, &t) == OK);
    UEXPECT(mica_thread_suspend(t) == OK);      /* count 2 */
    UEXPECT(mica_thread_resume(t) == OK);       /* count 1: still parked */
    UEXPECT(signals_of(t) & SIGNAL_SUSPENDED);
    struct mica_thread_state st;
    UEXPECT(mica_thread_read_state(t, &st) == OK);
    UEXPECT(mica_thread_resume(t) == OK);       /* count 0: runs */
    UEXPECT(!(signals_of(t) & SIGNAL_SUSPENDED));
    UEXPECT(mica_thread_read_state(t, &st) == ERR_BAD_STATE);
    UEXPECT(mica_thread_write_state(t, &st) == ERR_BAD_STATE);
    UEXPECT(mica_thread_resume(t) == ERR_BAD_STATE);
    uint64_t c = s.count;
    while (s.count == c)
        mica_thread_yield();                    /* it runs again */
    /* suspended again, it parks again */
    UEXPECT(mica_thread_suspend(t) == OK);
    UEXPECT(wait_signal(t, SIGNAL_SUSPENDED) == OK);
    UEXPECT(mica_thread_resume(t) == OK);
    finish(t);
}

struct selfsus {
    mica_handle_t self;
    volatile int r;
    volatile int after;
};

static void self_suspender(uint64_t arg)
{
    struct selfsus *s = (struct selfsus *)arg;
    s->r = mica_thread_suspend(s->self);
    s->after = 1;
    mica_thread_exit();
}

/* Suspending yourself parks you at the end of that very call, with its
 * result in RAX; the way out after a write is SYSRET or IRETQ as the
 * frame allows, and either lands where RIP says. */
UTEST(thread_suspend_self_parks_at_end_of_call)
{
    static struct selfsus s;
    static struct spin sp;
    memset((void *)&sp, 0, sizeof(sp));
    mica_handle_t t;
    s.r = 12345;
    s.after = 0;
    UASSERT(new_thread("selfsus", &t) == OK);
    s.self = t;
    UASSERT(start_thread(t, self_suspender, &s) == OK);
    UASSERT(wait_signal(t, SIGNAL_SUSPENDED) == OK);
    UEXPECT(s.r == 12345 && s.after == 0);      /* not back in user mode */
    struct mica_thread_state st;
    UASSERT(mica_thread_read_state(t, &st) == OK);
    UEXPECT(st.rax == OK);                      /* the call's result */
    UEXPECT(st.rcx == st.rip && st.r11 == st.rflags);   /* SYSCALL's */
    UEXPECT(st.rip > (uint64_t)self_suspender);
    /* leave through SYSRET (RCX, R11 match) into tc_other */
    st.rip = st.rcx = (uint64_t)tc_other;
    st.r12 = (uint64_t)&sp;
    st.rax = 99;
    UASSERT(mica_thread_write_state(t, &st) == OK);
    UEXPECT(mica_thread_resume(t) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(sp.other == 99 && s.after == 0);
    finish(t);
}

/* A thread suspended before it starts parks before its first
 * instruction, with the registers thread_start gave it. */
UTEST(thread_suspend_before_start)
{
    static struct spin s;
    memset((void *)&s, 0, sizeof(s));
    mica_handle_t t;
    UASSERT(new_thread("early", &t) == OK);
    UEXPECT(mica_thread_suspend(t) == OK);
    char *stack = aligned_alloc(16, STACK);
    UASSERT(stack != NULL);
    uint64_t sp = (uint64_t)(stack + STACK - 8);
    UASSERT(mica_thread_start(t, (uint64_t)tc_spin, sp, (uint64_t)&s, 0) ==
            OK);
    UASSERT(wait_signal(t, SIGNAL_SUSPENDED) == OK);
    struct mica_thread_state st;
    UASSERT(mica_thread_read_state(t, &st) == OK);
    UEXPECT(st.rip == (uint64_t)tc_spin && st.rsp == sp);
    UEXPECT(st.rdi == (uint64_t)&s && s.count == 0);
    st.rbx = 5;                                 /* ends at once */
    st.r12 = (uint64_t)&s;
    st.rip = (uint64_t)tc_spin_loop;            /* past its xor of RBX */
    UASSERT(mica_thread_write_state(t, &st) == OK);
    UEXPECT(mica_thread_resume(t) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(s.count == 1 && s.rbx == 5);
    finish(t);
}

struct blocker {
    volatile int flag;                  /* raised just before the call */
    volatile int done;
    volatile long result;
    volatile uint32_t word;             /* a futex */
    mica_handle_t h;                    /* something to wait on */
};

static void futex_blocker(uint64_t arg)
{
    struct blocker *b = (struct blocker *)arg;
    b->flag = 1;
    b->result = mica_syscall6(LX_futex, (long)&b->word, FUTEX_WAIT_PRIVATE,
                              0, 0, 0, 0);
    b->done = 1;
    mica_thread_exit();
}

/* A thread blocked in a call stays blocked when suspended; when the
 * call ends it parks before returning to user mode. */
UTEST(thread_suspend_blocked_parks_when_call_ends)
{
    static struct blocker b;
    memset((void *)&b, 0, sizeof(b));
    mica_handle_t t;
    UASSERT(spawn(futex_blocker, &b, &t) == OK);
    UASSERT(wait_blocked(&b.flag) == OK);
    UEXPECT(mica_thread_suspend(t) == OK);
    UEXPECT(!(signals_of(t) & SIGNAL_SUSPENDED));   /* still in the call */
    struct mica_thread_state st;
    UEXPECT(mica_thread_read_state(t, &st) == ERR_BAD_STATE);
    UEXPECT(mica_syscall6(LX_futex, (long)&b.word, 1 | FUTEX_WAIT_PRIVATE,
                          1, 0, 0, 0) == 1);    /* FUTEX_WAKE */
    UASSERT(wait_signal(t, SIGNAL_SUSPENDED) == OK);
    UASSERT(mica_thread_read_state(t, &st) == OK);
    UEXPECT(st.rax == 0 && b.done == 0);        /* the wait's result */
    UEXPECT(mica_thread_resume(t) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(b.done == 1 && b.result == 0);
    finish(t);
}

/* Hostile values are refused without changing anything, or sanitized;
 * the thread then runs with what was taken and the kernel survives. */
UTEST(thread_write_state_hostile_values)
{
    static struct spin s;
    mica_handle_t t;
    UASSERT(spin_and_park(&s, &t) == OK);
    struct mica_thread_state st0, st, back;
    UASSERT(mica_thread_read_state(t, &st0) == OK);
    static const uint64_t bad_addr[] = {
        0x8000000000000000ull, 0x0000800000000000ull, MICA_USER_TOP,
        0xFFFF800000000000ull, 0xFFFFFFFF80000000ull, ~0ull,
    };
    for (unsigned i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
        for (int field = 0; field < 4; field++) {
            st = st0;
            uint64_t *f = field == 0 ? &st.rip : field == 1 ? &st.rsp :
                          field == 2 ? &st.fs_base : &st.gs_base;
            *f = bad_addr[i];
            UEXPECT(mica_thread_write_state(t, &st) == ERR_INVALID_ARGS);
        }
    }
    UASSERT(mica_thread_read_state(t, &back) == OK);
    UEXPECT(memcmp(&st0, &back, sizeof(st0)) == 0);     /* unchanged */
    /* rflags: only the user bits are taken, IF is forced on */
    st = st0;
    st.rflags = RFLAGS_IOPL | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM |
                RFLAGS_VIF | RFLAGS_VIP | RFLAGS_ID | RFLAGS_CF |
                RFLAGS_OF | RFLAGS_TF | RFLAGS_AC | 0xFFFFFFFF00000000ull;
    st.rcx = st.rip;                            /* tempt SYSRET */
    st.r11 = st.rflags;
    UASSERT(mica_thread_write_state(t, &st) == OK);
    UASSERT(mica_thread_read_state(t, &back) == OK);
    UEXPECT(back.rflags == (RFLAGS_CF | RFLAGS_OF | RFLAGS_TF | RFLAGS_AC |
                            RFLAGS_IF | 2));
    UEXPECT(back.r11 == st.r11);                /* a plain register */
    /* without TF (a single step would end this process), run with it */
    st.rflags &= ~RFLAGS_TF;
    UASSERT(mica_thread_write_state(t, &st) == OK);
    UEXPECT(mica_thread_resume(t) == OK);
    uint64_t c = s.count;
    while (s.count == c)
        mica_thread_yield();                    /* it runs: we survived */
    UEXPECT(mica_thread_suspend(t) == OK);
    UASSERT(wait_signal(t, SIGNAL_SUSPENDED) == OK);
    UASSERT(mica_thread_read_state(t, &back) == OK);
    UEXPECT(!(back.rflags & (RFLAGS_IOPL | RFLAGS_NT | RFLAGS_VM)));
    UEXPECT(back.rflags & RFLAGS_IF);
    /* the largest addresses allowed are taken */
    st = back;
    st.fs_base = st.gs_base = MICA_USER_TOP - 1;
    UEXPECT(mica_thread_write_state(t, &st) == OK);
    st.fs_base = back.fs_base;
    st.gs_base = back.gs_base;
    st.rbx = 1;
    UEXPECT(mica_thread_write_state(t, &st) == OK);
    UEXPECT(mica_thread_resume(t) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(s.rbx == 1);
    finish(t);
}

/* Child code: 0: spin; 2: process_exit(5). */
static const uint8_t child_code[] = {
    0xEB, 0xFE,                                 /* jmp . */
    0xB8, 0x11, 0x10, 0x00, 0x00,               /* mov $0x1011, %eax */
    0xBF, 0x05, 0x00, 0x00, 0x00,               /* mov $5, %edi */
    0x0F, 0x05,                                 /* syscall */
    0xEB, 0xFE,                                 /* jmp . */
};

/* A spinning child, its only thread parked. */
static int child_parked(mica_handle_t *p, mica_handle_t *t)
{
    int err = child_spawn(child_code, sizeof(child_code), 0, p, t);
    if (!err)
        err = mica_thread_suspend(*t);
    if (!err)
        err = wait_signal(*t, SIGNAL_SUSPENDED);
    return err;
}

static int exit_code_of(mica_handle_t p)
{
    struct mica_process_info info = { .exit_code = 12345 };
    mica_process_info(p, &info);
    return info.exit_code;
}

/* What a debugger does to another process: a hostile but allowed RIP or
 * TF ends only that process, with a user-mode fault. */
UTEST(thread_write_state_faults_kill_only_the_child)
{
    static const struct { uint64_t rip, rflags_add; int code; } cases[] = {
        { 0x10000, 0, -15 },                    /* unmapped: page fault */
        { CHILD_CODE, RFLAGS_TF, -2 },          /* single step: #DB */
    };
    for (unsigned i = 0; i < 2; i++) {
        mica_handle_t p, t;
        UASSERT(child_parked(&p, &t) == OK);
        struct mica_thread_state st;
        UASSERT(mica_thread_read_state(t, &st) == OK);
        UEXPECT(st.rip == CHILD_CODE);
        st.rip = cases[i].rip;
        st.rflags |= cases[i].rflags_add;
        UEXPECT(mica_thread_write_state(t, &st) == OK);
        UEXPECT(mica_thread_resume(t) == OK);
        UEXPECT(wait_signal(p, SIGNAL_TERMINATED) == OK);
        UEXPECT(exit_code_of(p) == cases[i].code);
        mica_handle_close(t);
        mica_handle_close(p);
    }
}

UTEST(thread_kill_suspended_thread)
{
    static struct spin s;
    mica_handle_t t;
    UASSERT(spin_and_park(&s, &t) == OK);
    UEXPECT(mica_thread_kill(t) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(!(signals_of(t) & SIGNAL_SUSPENDED));
    struct mica_thread_state st;
    UEXPECT(mica_thread_read_state(t, &st) == ERR_BAD_STATE);
    UEXPECT(mica_thread_suspend(t) == ERR_BAD_STATE);
    UEXPECT(mica_thread_resume(t) == ERR_BAD_STATE);
    UEXPECT(mica_thread_interrupt(t) == ERR_BAD_STATE);
    mica_handle_close(t);
}

/* Killing a process, or its exit from another thread, ends its parked
 * threads too. */
UTEST(thread_process_dies_with_suspended_threads)
{
    mica_handle_t p, t, t2;
    UASSERT(child_parked(&p, &t) == OK);
    UEXPECT(mica_process_kill(p, 7) == OK);
    UEXPECT(wait_signal(p, SIGNAL_TERMINATED) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(exit_code_of(p) == 7);
    mica_handle_close(t);
    mica_handle_close(p);

    UASSERT(child_parked(&p, &t) == OK);
    UASSERT(mica_thread_create(p, "exit", 4, &t2) == OK);
    UASSERT(mica_thread_start(t2, CHILD_CODE + 2,
                              CHILD_STACK + CHILD_STACK_SIZE - 4096, 0, 0) ==
            OK);
    UEXPECT(wait_signal(p, SIGNAL_TERMINATED) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(exit_code_of(p) == 5);
    mica_handle_close(t2);
    mica_handle_close(t);
    mica_handle_close(p);
}

static void sleep_blocker(uint64_t arg)
{
    struct blocker *b = (struct blocker *)arg;
    b->flag = 1;
    b->result = mica_nanosleep(~0ull >> 1);
    b->done = 1;
    mica_thread_exit();
}

static void wait_one_blocker(uint64_t arg)
{
    struct blocker *b = (struct blocker *)arg;
    b->flag = 1;
    b->result = mica_object_wait_one(b->h, SIGNAL_USER0, 0, NULL);
    b->done = 1;
    mica_thread_exit();
}

static void wait_many_blocker(uint64_t arg)
{
    struct blocker *b = (struct blocker *)arg;
    struct mica_wait_item items[2] = {
        { b->h, SIGNAL_USER0, 0xDEAD }, { b->h, SIGNAL_USER0 << 1, 0xDEAD },
    };
    b->flag = 1;
    b->result = mica_object_wait_many(items, 2, 0);
    b->word = items[0].pending != 0xDEAD && items[1].pending != 0xDEAD;
    b->done = 1;
    mica_thread_exit();
}

static void lx_nanosleep_blocker(uint64_t arg)
{
    struct blocker *b = (struct blocker *)arg;
    static const int64_t ts[2] = { 100000, 0 };
    b->flag = 1;
    b->result = mica_syscall6(LX_nanosleep, (long)ts, 0, 0, 0, 0, 0);
    b->done = 1;
    mica_thread_exit();
}

static void lx_clock_nanosleep_blocker(uint64_t arg)
{
    struct blocker *b = (struct blocker *)arg;
    static const int64_t ts[2] = { 100000, 0 };
    b->flag = 1;
    b->result = mica_syscall6(LX_clock_nanosleep, 1, 0, (long)ts, 0, 0, 0);
    b->done = 1;
    mica_thread_exit();
}

/* Start fn, wait until it is blocked in its call, interrupt it: the call
 * must end, with the result fn stores in b->result. */
static long interrupt_blocked(void (*fn)(uint64_t), struct blocker *b)
{
    mica_handle_t t;
    b->flag = b->done = 0;
    b->result = 12345;
    if (spawn(fn, b, &t) != OK || wait_blocked(&b->flag) != OK)
        return 12345;
    if (mica_thread_interrupt(t) != OK ||
        wait_signal(t, SIGNAL_TERMINATED) != OK || !b->done) {
        finish(t);
        return 12345;
    }
    finish(t);
    return b->result;
}

UTEST(thread_interrupt_blocked_calls)
{
    static struct blocker b;
    memset((void *)&b, 0, sizeof(b));
    UASSERT(mica_vmo_create(4096, &b.h) == OK);
    UEXPECT(interrupt_blocked(sleep_blocker, &b) == ERR_INTERRUPTED);
    UEXPECT(interrupt_blocked(wait_one_blocker, &b) == ERR_INTERRUPTED);
    b.word = 0;
    UEXPECT(interrupt_blocked(wait_many_blocker, &b) == ERR_INTERRUPTED);
    UEXPECT(b.word == 1);                       /* pending written back */
    b.word = 0;
    UEXPECT(interrupt_blocked(futex_blocker, &b) == -LX_EINTR);
    UEXPECT(interrupt_blocked(lx_nanosleep_blocker, &b) == -LX_EINTR);
    UEXPECT(interrupt_blocked(lx_clock_nanosleep_blocker, &b) == -LX_EINTR);
    mica_handle_close(b.h);
}

struct requeued {
    volatile int flag1, flag2;
    volatile uint32_t a, b[4];
    volatile uint32_t *target;
    volatile long r1, r2;
};

static void requeued_waiter(uint64_t arg)
{
    struct requeued *q = (struct requeued *)arg;
    q->flag1 = 1;
    q->r1 = mica_syscall6(LX_futex, (long)&q->a, FUTEX_WAIT_PRIVATE, 0, 0,
                          0, 0);
    q->flag2 = 1;
    q->r2 = mica_syscall6(LX_futex, (long)q->target, FUTEX_WAIT_PRIVATE, 0,
                          0, 0, 0);
    mica_thread_exit();
}

/* A futex waiter requeued to another word and then interrupted must
 * leave the queue it was moved to: waiting there again, and a wake of
 * that word, must find it once (the words are in different hash buckets
 * for at least one of the four tries). */
UTEST(futex_requeued_waiter_interrupted)
{
    static struct requeued q;
    for (int i = 0; i < 4; i++) {
        memset((void *)&q, 0, sizeof(q));
        q.target = &q.b[i];
        q.r1 = q.r2 = 12345;
        mica_handle_t t;
        UASSERT(spawn(requeued_waiter, &q, &t) == OK);
        UASSERT(wait_blocked(&q.flag1) == OK);
        UEXPECT(mica_syscall6(LX_futex, (long)&q.a, 3 | FUTEX_WAIT_PRIVATE,
                              0, 1, (long)q.target, 0) == 1);  /* REQUEUE */
        UEXPECT(mica_thread_interrupt(t) == OK);
        UASSERT(wait_blocked(&q.flag2) == OK);
        UEXPECT(mica_syscall6(LX_futex, (long)q.target,
                              1 | FUTEX_WAIT_PRIVATE, 2, 0, 0, 0) == 1);
        UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
        UEXPECT(q.r1 == -LX_EINTR && q.r2 == 0);
        finish(t);
    }
}

struct runner {
    volatile int running;
    volatile int go;
    volatile int r1, r2, r3;
};

static void pending_runner(uint64_t arg)
{
    struct runner *r = (struct runner *)arg;
    r->running = 1;
    while (!r->go)
        ;                                       /* no system call here */
    r->r1 = mica_nanosleep(~0ull >> 1);         /* ends at once */
    uint64_t t;
    mica_clock_get(&t);
    r->r2 = mica_nanosleep(t + 1000000);        /* the flag is gone */
    mica_thread_exit();
}

/* An interrupt that finds the thread running is kept for the next
 * blocking wait, and used up when that system call returns. */
UTEST(thread_interrupt_pending_for_next_wait)
{
    static struct runner r;
    memset((void *)&r, 0, sizeof(r));
    r.r1 = r.r2 = 12345;
    mica_handle_t t;
    UASSERT(spawn(pending_runner, &r, &t) == OK);
    while (!r.running)
        mica_thread_yield();
    UEXPECT(mica_thread_interrupt(t) == OK);
    r.go = 1;
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(r.r1 == ERR_INTERRUPTED);
    UEXPECT(r.r2 == OK);
    finish(t);
}

static void nonblocking_runner(uint64_t arg)
{
    struct runner *r = (struct runner *)arg;
    r->running = 1;
    while (!r->go)
        ;
    uint64_t t;
    r->r1 = mica_clock_get(&t);                 /* does not block... */
    r->r2 = mica_nanosleep(t + 1000000);        /* ...but uses it up */
    mica_thread_exit();
}

UTEST(thread_interrupt_used_up_by_any_call)
{
    static struct runner r;
    memset((void *)&r, 0, sizeof(r));
    r.r1 = r.r2 = 12345;
    mica_handle_t t;
    UASSERT(spawn(nonblocking_runner, &r, &t) == OK);
    while (!r.running)
        mica_thread_yield();
    UEXPECT(mica_thread_interrupt(t) == OK);
    r.go = 1;
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(r.r1 == OK && r.r2 == OK);
    finish(t);
}

/* What a signal delivery looks like: suspend and interrupt a blocked
 * thread; its call ends with ERR_INTERRUPTED and it parks with that
 * result in RAX, ready to be redirected. */
UTEST(thread_interrupt_then_park)
{
    static struct blocker b;
    static struct spin sp;
    memset((void *)&b, 0, sizeof(b));
    memset((void *)&sp, 0, sizeof(sp));
    mica_handle_t t;
    UASSERT(spawn(sleep_blocker, &b, &t) == OK);
    UASSERT(wait_blocked(&b.flag) == OK);
    UEXPECT(mica_thread_suspend(t) == OK);
    UEXPECT(mica_thread_interrupt(t) == OK);
    UASSERT(wait_signal(t, SIGNAL_SUSPENDED) == OK);
    struct mica_thread_state st;
    UASSERT(mica_thread_read_state(t, &st) == OK);
    UEXPECT((int64_t)st.rax == ERR_INTERRUPTED && b.done == 0);
    /* a parked thread is not in a call: an interrupt leaves it parked */
    UEXPECT(mica_thread_interrupt(t) == OK);
    UEXPECT(signals_of(t) & SIGNAL_SUSPENDED);
    st.rip = (uint64_t)tc_other;
    st.r12 = (uint64_t)&sp;
    UASSERT(mica_thread_write_state(t, &st) == OK);
    UEXPECT(mica_thread_resume(t) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT((int64_t)sp.other == ERR_INTERRUPTED && b.done == 0);
    finish(t);
}

struct musl_sleep {
    volatile int flag;
    volatile int r;
    volatile int err;
};

static void musl_sleeper(uint64_t arg)
{
    struct musl_sleep *m = (struct musl_sleep *)arg;
    struct timespec d = { 100000, 0 };
    m->flag = 1;
    m->r = nanosleep(&d, NULL);
    m->err = errno;
    mica_thread_exit();
}

/* musl's nanosleep in a native thread: it gets a thread pointer (this
 * thread's, FS base written while it is parked before its start) and
 * sees EINTR when interrupted. */
UTEST(thread_interrupt_musl_nanosleep_eintr)
{
    static struct musl_sleep m;
    memset((void *)&m, 0, sizeof(m));
    m.r = 12345;
    uint64_t fs = 0;
    UASSERT(mica_syscall6(LX_arch_prctl, ARCH_GET_FS, (long)&fs, 0, 0, 0,
                          0) == 0 && fs != 0);
    mica_handle_t t;
    UASSERT(new_thread("musl", &t) == OK);
    UEXPECT(mica_thread_suspend(t) == OK);
    UASSERT(start_thread(t, musl_sleeper, &m) == OK);
    UASSERT(wait_signal(t, SIGNAL_SUSPENDED) == OK);
    struct mica_thread_state st;
    UASSERT(mica_thread_read_state(t, &st) == OK);
    UEXPECT(st.fs_base == 0);
    st.fs_base = fs;
    UASSERT(mica_thread_write_state(t, &st) == OK);
    UEXPECT(mica_thread_resume(t) == OK);
    UASSERT(wait_blocked(&m.flag) == OK);
    UEXPECT(mica_thread_interrupt(t) == OK);
    UEXPECT(wait_signal(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(m.r == -1 && m.err == EINTR);
    errno = 0;                                  /* it was ours */
    finish(t);
}

/* Handles for the error tests: a parked spinner and a vmo; without()
 * copies the spinner's handle with every right it has but `drop`. */
struct victims {
    struct spin s;
    mica_handle_t t, v;
};

static int victims_make(struct victims *x)
{
    int err = spin_and_park(&x->s, &x->t);
    if (!err)
        err = mica_vmo_create(4096, &x->v);
    return err;
}

static mica_handle_t without(mica_handle_t t, mica_rights_t drop)
{
    mica_handle_t h = 0;
    mica_handle_duplicate(t, (RIGHTS_BASIC | RIGHTS_IO | RIGHT_MANAGE) & ~drop,
                          &h);
    return h;
}

static void victims_end(struct victims *x)
{
    finish(x->t);
    mica_handle_close(x->v);
}

/* A thread that has ended. */
static mica_handle_t dead_thread(void)
{
    mica_handle_t t;
    static struct spin s;
    if (spawn(tc_spin, (void *)&s, &t) != OK)
        return 0;
    mica_thread_kill(t);
    wait_signal(t, SIGNAL_TERMINATED);
    return t;
}

UTEST(abi_thread_suspend_errors)
{
    static struct victims x;
    UASSERT(victims_make(&x) == OK);
    mica_handle_t weak = without(x.t, RIGHT_MANAGE), dead = dead_thread();
    UEXPECT(mica_thread_suspend(0) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_suspend(x.v) == ERR_WRONG_TYPE);
    UEXPECT(mica_thread_suspend(mica_process_self()) == ERR_WRONG_TYPE);
    UEXPECT(mica_thread_suspend(weak) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_suspend(dead) == ERR_BAD_STATE);
    UEXPECT(mica_thread_suspend(x.t) == OK);
    UEXPECT(mica_thread_resume(x.t) == OK);
    mica_handle_close(weak);
    mica_handle_close(dead);
    victims_end(&x);
}

UTEST(abi_thread_resume_errors)
{
    static struct victims x;
    UASSERT(victims_make(&x) == OK);
    mica_handle_t weak = without(x.t, RIGHT_MANAGE), dead = dead_thread();
    UEXPECT(mica_thread_resume(0) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_resume(x.v) == ERR_WRONG_TYPE);
    UEXPECT(mica_thread_resume(weak) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_resume(dead) == ERR_BAD_STATE);
    UEXPECT(mica_thread_resume(x.t) == OK);
    UEXPECT(mica_thread_resume(x.t) == ERR_BAD_STATE);     /* count 0 */
    mica_handle_close(weak);
    mica_handle_close(dead);
    victims_end(&x);
}

UTEST(abi_thread_read_state_errors)
{
    static struct victims x;
    UASSERT(victims_make(&x) == OK);
    struct mica_thread_state st;
    mica_handle_t weak = without(x.t, RIGHT_READ), dead = dead_thread();
    UEXPECT(mica_thread_read_state(x.t, NULL) == ERR_FAULT);
    UEXPECT(mica_thread_read_state(x.t, (void *)0xFFFF800000000000ull) ==
            ERR_FAULT);
    UEXPECT(mica_thread_read_state(0, &st) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_read_state(x.v, &st) == ERR_WRONG_TYPE);
    UEXPECT(mica_thread_read_state(weak, &st) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_read_state(dead, &st) == ERR_BAD_STATE);
    /* a read-only page: the copy out faults */
    UEXPECT(mica_thread_read_state(x.t, (void *)tc_spin) == ERR_FAULT);
    UEXPECT(mica_thread_read_state(x.t, &st) == OK);
    UEXPECT(mica_thread_resume(x.t) == OK);
    UEXPECT(mica_thread_read_state(x.t, &st) == ERR_BAD_STATE);
    mica_handle_close(weak);
    mica_handle_close(dead);
    victims_end(&x);
}

UTEST(abi_thread_write_state_errors)
{
    static struct victims x;
    UASSERT(victims_make(&x) == OK);
    struct mica_thread_state st, back, bad;
    UASSERT(mica_thread_read_state(x.t, &st) == OK);
    mica_handle_t weak = without(x.t, RIGHT_WRITE), dead = dead_thread();
    UEXPECT(mica_thread_write_state(x.t, NULL) == ERR_FAULT);
    UEXPECT(mica_thread_write_state(x.t, (void *)0xFFFF800000000000ull) ==
            ERR_FAULT);
    /* the last bytes unmapped: nothing is taken */
    uint64_t addr = 0;
    mica_handle_t v;
    UASSERT(mica_vmo_create(8192, &v) == OK);
    UASSERT(mica_vm_map(mica_process_self(), v, 0, 8192,
                        MICA_VM_READ | MICA_VM_WRITE, &addr) == OK);
    UASSERT(mica_vm_unmap(mica_process_self(), addr + 4096, 4096) == OK);
    bad = st;
    bad.rbx = 0xBAD;
    memcpy((void *)(addr + 4096 - 8), &bad, 8);
    UEXPECT(mica_thread_write_state(x.t, (void *)(addr + 4096 - 8)) ==
            ERR_FAULT);
    mica_vm_unmap(mica_process_self(), addr, 4096);
    mica_handle_close(v);
    bad = st;
    bad.rip = ~0ull;
    UEXPECT(mica_thread_write_state(0, &bad) == ERR_INVALID_ARGS);
    UEXPECT(mica_thread_write_state(0, &st) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_write_state(x.v, &st) == ERR_WRONG_TYPE);
    UEXPECT(mica_thread_write_state(weak, &st) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_write_state(dead, &st) == ERR_BAD_STATE);
    UASSERT(mica_thread_read_state(x.t, &back) == OK);
    UEXPECT(memcmp(&st, &back, sizeof(st)) == 0);       /* unchanged */
    UEXPECT(mica_thread_write_state(x.t, &st) == OK);
    UEXPECT(mica_thread_resume(x.t) == OK);
    UEXPECT(mica_thread_write_state(x.t, &st) == ERR_BAD_STATE);
    mica_handle_close(weak);
    mica_handle_close(dead);
    victims_end(&x);
}

UTEST(abi_thread_interrupt_errors)
{
    static struct victims x;
    UASSERT(victims_make(&x) == OK);
    mica_handle_t weak = without(x.t, RIGHT_MANAGE), dead = dead_thread();
    UEXPECT(mica_thread_interrupt(0) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_interrupt(x.v) == ERR_WRONG_TYPE);
    UEXPECT(mica_thread_interrupt(weak) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_interrupt(dead) == ERR_BAD_STATE);
    UEXPECT(mica_thread_interrupt(x.t) == OK);
    UEXPECT(mica_thread_resume(x.t) == OK);
    mica_handle_close(weak);
    mica_handle_close(dead);
    victims_end(&x);
}
