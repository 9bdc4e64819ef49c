/*
 * test_exceptions.c - in-system tests of exception channels: a fault
 * becomes a message on the thread's or the process's exception channel,
 * the faulting thread waits with its registers readable and writable,
 * and the handler's verdict resumes it (after mapping memory or moving
 * RIP) or kills its process.  Also: the thread's channel before the
 * process's, what happens when the handler closes the token or the
 * channel or dies, a queue that is full, a kernel out of memory, kills
 * of a waiting thread, no channel at all, every error of the four calls,
 * and that nothing leaks (live counts, free pages and this process's
 * kernel memory come back).
 *
 * Faulting processes are clones of this one (process_clone) whose one
 * thread, bound before it starts, runs a plain C function or the
 * assembly below: only system calls and memory accesses, no C library
 * thread state.  Every wait is for progress (a message, a signal) with
 * a 30 s bound that turns a hang into a failure; nothing is timed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mica.h"
#include "utest.h"

#define SEC 1000000000ull
#define MS 1000000ull
#define BOUND (30 * SEC)                /* a hang becomes a failure */
#define FAULT_ADDR 0x3F000000ull        /* unmapped here and in clones */
#define PF_EXIT (-(MICA_EXC_PAGE_FAULT + 1))
#define UD_EXIT (-(MICA_EXC_INVALID_OP + 1))

static uint64_t now_ns(void)
{
    uint64_t t = 0;
    mica_clock_get(&t);
    return t;
}

static int wait_for(mica_handle_t h, mica_signals_t want)
{
    return mica_object_wait_one(h, want, now_ns() + BOUND, NULL);
}

static mica_signals_t signals_of(mica_handle_t h)
{
    mica_signals_t seen = 0;
    mica_object_wait_one(h, 0, 1, &seen);
    return seen;
}

/*
 * exc_ud: an invalid opcode; past it, exc_ud_after ends the process
 * with RBX as its exit code, and exc_thread_exit ends the thread.
 * exc_steps (RDI: uint64_t[2]) stores 1, breaks (int3), stores 2,
 * executes ud2 (exc_steps_ud); exc_steps_after stores RBX in the second
 * word and ends the thread.
 */
_Static_assert(MICA_SYS_process_exit == 0x1011, "exc_ud_after");
_Static_assert(MICA_SYS_thread_exit == 0x1022, "exc_thread_exit");

extern char exc_ud[], exc_ud_after[], exc_thread_exit[];
extern char exc_steps[], exc_steps_bp_next[], exc_steps_ud[],
    exc_steps_after[];
__asm__(".text\n"
        ".globl exc_ud, exc_ud_after\n"
        "exc_ud:\n"
        "    ud2\n"
        "exc_ud_after:\n"
        "    movq %rbx, %rdi\n"
        "    movl $0x1011, %eax\n"
        "    syscall\n"
        "    ud2\n"
        ".globl exc_thread_exit\n"
        "exc_thread_exit:\n"
        "    movl $0x1022, %eax\n"
        "    syscall\n"
        "    ud2\n"
        ".globl exc_steps, exc_steps_bp_next, exc_steps_ud, exc_steps_after\n"
        "exc_steps:\n"
        "    movq $1, (%rdi)\n"
        "    int3\n"
        "exc_steps_bp_next:\n"
        "    movq $2, (%rdi)\n"
        "exc_steps_ud:\n"
        "    ud2\n"
        "exc_steps_after:\n"
        "    movq %rbx, 8(%rdi)\n"
        "    movl $0x1022, %eax\n"
        "    syscall\n"
        "    ud2\n");

/* --- processes and threads ------------------------------------------------ */

/* Stacks for threads and clones, touched before any test counts pages
 * (settle), so that first use allocates nothing here. */
#define STACK 16384
#define NSTACKS 4
static char stacks[NSTACKS][STACK] __attribute__((aligned(16)));
static unsigned next_stack;

static uint64_t new_stack(void)
{
    char *s = stacks[next_stack++ % NSTACKS];
    return (uint64_t)(s + STACK - 8);   /* entered like a called function */
}

/* A clone of this process and its one thread, not started yet. */
struct child {
    mica_handle_t proc, thread;
};

static int child_create(struct child *c)
{
    c->proc = c->thread = 0;
    int err = mica_process_clone(mica_process_self(), "faulter", 7, &c->proc);
    if (!err)
        err = mica_thread_create(c->proc, "main", 4, &c->thread);
    return err;
}

static int child_start(struct child *c, const void *fn, uint64_t a0,
                       uint64_t a1)
{
    return mica_thread_start(c->thread, (uint64_t)fn, new_stack(), a0, a1);
}

static int exit_code_of(mica_handle_t p)
{
    struct mica_process_info info = { .exit_code = 12345 };
    mica_process_info(p, &info);
    return info.exit_code;
}

/* Wait for the child's end; its exit code, or 12345 if it did not end. */
static int child_end(struct child *c)
{
    int code = 12345;
    if (wait_for(c->proc, SIGNAL_TERMINATED) == OK)
        code = exit_code_of(c->proc);
    else
        mica_process_kill(c->proc, 1);
    mica_object_wait_one(c->proc, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(c->thread);
    mica_handle_close(c->proc);
    return code;
}

/* Clone code: read the word at a0 and exit with it. */
static void read_and_exit(uint64_t a0, uint64_t a1)
{
    (void)a1;
    uint64_t v = *(volatile uint64_t *)a0;
    mica_process_exit((int)v);
    for (;;)
        ;
}

/* Clone code: fail one kernel allocation in a0 (seed a1), then fault. */
static void inject_and_fault(uint64_t a0, uint64_t a1)
{
    mica_debug_fail_inject((uint32_t)a0, a1);
    __asm__ volatile("ud2");
    for (;;)
        ;
}

/* --- exception messages --------------------------------------------------- */

struct exc {
    struct mica_exception info;
    mica_handle_t token, thread;
    uint32_t nbytes, nhandles;
};

/* The next exception on ch (waiting for it up to BOUND). */
static int next_exception(mica_handle_t ch, struct exc *x)
{
    memset(x, 0, sizeof(*x));
    int err = wait_for(ch, SIGNAL_READABLE | SIGNAL_PEER_CLOSED);
    if (err)
        return err;
    mica_handle_t hs[MICA_EXCEPTION_HANDLES + 1] = { 0 };
    struct mica_msg_buf b = {
        .bytes = &x->info, .bytes_cap = sizeof(x->info),
        .handles = hs, .handles_cap = MICA_EXCEPTION_HANDLES + 1,
    };
    err = mica_channel_read(ch, &b);
    x->nbytes = b.actual_bytes;
    x->nhandles = b.actual_handles;
    x->token = hs[MICA_EXCEPTION_TOKEN];
    x->thread = hs[MICA_EXCEPTION_THREAD];
    return err;
}

static void exc_close(struct exc *x)
{
    mica_handle_close(x->token);
    mica_handle_close(x->thread);
}

/* A message of the right shape for the child's thread. */
static bool well_formed(const struct exc *x, mica_handle_t proc,
                        uint32_t vector)
{
    struct mica_process_info pi = { 0 };
    mica_process_info(proc, &pi);
    return x->nbytes == sizeof(struct mica_exception) &&
           x->nhandles == MICA_EXCEPTION_HANDLES &&
           x->info.vector == vector && x->info.reserved == 0 &&
           x->info.pid == pi.pid && x->info.tid == pi.pid;
}

/* --- counting ------------------------------------------------------------- */

struct counts {
    struct mica_system_info si;
    uint64_t kmem;
};

static uint64_t kmem_used(void)
{
    struct mica_process_info info = { 0 };
    mica_process_info(mica_process_self(), &info);
    return info.kmem_used;
}

static bool same(const struct counts *a, const struct counts *b)
{
    return a->si.free_pages == b->si.free_pages &&
           a->si.live_processes == b->si.live_processes &&
           a->si.live_threads == b->si.live_threads &&
           a->si.live_channels == b->si.live_channels &&
           a->si.live_ports == b->si.live_ports &&
           a->si.live_vmos == b->si.live_vmos &&
           a->si.live_exceptions == b->si.live_exceptions &&
           a->kmem == b->kmem;
}

/* The handle table grows for good when a test holds many handles: grow
 * it to what the largest test needs before counting. */
static void grow_table(void)
{
    static mica_handle_t dup[400];
    int n = 0;
    while (n < 400 && mica_handle_duplicate(mica_process_self(),
                                            RIGHT_SAME_RIGHTS, &dup[n]) == OK)
        n++;
    while (n-- > 0)
        mica_handle_close(dup[n]);
}

/* The counts once dying processes and threads are gone: until they
 * equal *want, for up to BOUND. */
static void settle(struct counts *c, const struct counts *want)
{
    memset(stacks, 0, sizeof(stacks));
    if (!want)
        grow_table();
    uint64_t end = now_ns() + BOUND;
    for (;;) {
        mica_system_info(&c->si);
        c->kmem = kmem_used();
        if (!want || same(c, want) || now_ns() > end)
            return;
        mica_nanosleep(now_ns() + 10 * MS);
    }
}

#define EXPECT_SETTLED(before)                                              \
    do {                                                                    \
        struct counts after_;                                               \
        settle(&after_, &(before));                                         \
        UEXPECT(after_.si.live_processes == (before).si.live_processes);    \
        UEXPECT(after_.si.live_threads == (before).si.live_threads);        \
        UEXPECT(after_.si.live_channels == (before).si.live_channels);      \
        UEXPECT(after_.si.live_ports == (before).si.live_ports);            \
        UEXPECT(after_.si.live_vmos == (before).si.live_vmos);              \
        UEXPECT(after_.si.live_exceptions == (before).si.live_exceptions);  \
        UEXPECT(after_.kmem == (before).kmem);                              \
        UEXPECT(after_.si.free_pages == (before).si.free_pages);            \
    } while (0)

/* A child bound (process channel) to a new channel, whose other end is
 * *ch; started at fn(a0, a1). */
static int bound_child(struct child *c, mica_handle_t *ch, const void *fn,
                       uint64_t a0, uint64_t a1)
{
    mica_handle_t pair[2];
    int err = child_create(c);
    if (!err)
        err = mica_channel_create(0, pair);
    if (!err) {
        *ch = pair[1];
        err = mica_process_set_exception_channel(c->proc, pair[0]);
    }
    if (!err)
        err = child_start(c, fn, a0, a1);
    return err;
}

/* --- resuming ------------------------------------------------------------- */

/* The supervisor maps the page the child faulted on and resumes it: the
 * child reads what was put there. */
UTEST(exception_page_fault_resumed_after_mapping)
{
    struct counts before;
    settle(&before, NULL);
    uint64_t probe;
    UASSERT(mica_process_read_memory(mica_process_self(), FAULT_ADDR, &probe,
                                     8) == ERR_FAULT);  /* really unmapped */
    struct child c;
    mica_handle_t ch, v;
    UASSERT(bound_child(&c, &ch, read_and_exit, FAULT_ADDR, 0) == OK);
    struct exc x;
    UASSERT(next_exception(ch, &x) == OK);
    UEXPECT(well_formed(&x, c.proc, MICA_EXC_PAGE_FAULT));
    UEXPECT(x.info.fault_addr == FAULT_ADDR);
    UEXPECT(x.info.error_code & MICA_PF_USER);
    UEXPECT(!(x.info.error_code & (MICA_PF_WRITE | MICA_PF_PROTECTION |
                                   MICA_PF_FETCH)));
    /* the registers are the thread's, and it waits: readable */
    struct mica_thread_state st;
    UASSERT(mica_thread_read_state(x.thread, &st) == OK);
    UEXPECT(memcmp(&st, &x.info.regs, sizeof(st)) == 0);
    UEXPECT(st.rip >= (uint64_t)read_and_exit &&
            st.rip < (uint64_t)read_and_exit + 64);
    UEXPECT(!(signals_of(x.thread) & (SIGNAL_SUSPENDED | SIGNAL_TERMINATED)));
    /* give it the page, then resume */
    uint64_t addr = FAULT_ADDR, word = 0x1234;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(mica_vmo_write(v, &word, 0, sizeof(word)) == OK);
    UASSERT(mica_vm_map(c.proc, v, 0, 4096, MICA_VM_READ | MICA_VM_FIXED,
                        &addr) == OK);
    mica_handle_close(v);
    UEXPECT(mica_exception_resume(x.token) == OK);
    UEXPECT(mica_exception_resume(x.token) == ERR_BAD_STATE);
    UEXPECT(mica_exception_kill(x.token) == ERR_BAD_STATE);
    UEXPECT(child_end(&c) == 0x1234);
    UEXPECT(mica_thread_read_state(x.thread, &st) == ERR_BAD_STATE);
    /* the binding went with the process: the channel's writer is gone */
    UEXPECT(wait_for(ch, SIGNAL_PEER_CLOSED) == OK);
    exc_close(&x);
    mica_handle_close(ch);
    EXPECT_SETTLED(before);
}

/* The supervisor moves RIP past the bad instruction and sets a register
 * the child then exits with. */
UTEST(exception_registers_written_then_resumed)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t ch;
    UASSERT(bound_child(&c, &ch, exc_ud, 0, 0) == OK);
    struct exc x;
    UASSERT(next_exception(ch, &x) == OK);
    UEXPECT(well_formed(&x, c.proc, MICA_EXC_INVALID_OP));
    UEXPECT(x.info.regs.rip == (uint64_t)exc_ud);
    UEXPECT(x.info.fault_addr == 0 && x.info.error_code == 0);
    struct mica_thread_state st;
    UASSERT(mica_thread_read_state(x.thread, &st) == OK);
    st.rip = (uint64_t)exc_ud_after;
    st.rbx = 77;
    UASSERT(mica_thread_write_state(x.thread, &st) == OK);
    UEXPECT(mica_exception_resume(x.token) == OK);
    UEXPECT(child_end(&c) == 77);
    exc_close(&x);
    mica_handle_close(ch);
    EXPECT_SETTLED(before);
}

/* Resuming without a change retries the instruction: the same fault
 * comes again, as a new exception. */
UTEST(exception_resume_unchanged_faults_again)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t ch;
    UASSERT(bound_child(&c, &ch, exc_ud, 0, 0) == OK);
    struct exc x, y;
    UASSERT(next_exception(ch, &x) == OK);
    UEXPECT(mica_exception_resume(x.token) == OK);
    UASSERT(next_exception(ch, &y) == OK);
    UEXPECT(well_formed(&y, c.proc, MICA_EXC_INVALID_OP));
    UEXPECT(y.info.regs.rip == (uint64_t)exc_ud);
    UEXPECT(mica_exception_kill(y.token) == OK);
    UEXPECT(child_end(&c) == UD_EXIT);
    exc_close(&x);
    exc_close(&y);
    mica_handle_close(ch);
    EXPECT_SETTLED(before);
}

/* A thread of this very process, bound at thread level, handled here:
 * a breakpoint resumed as it is, then an invalid opcode stepped over;
 * the process is never at risk. */
UTEST(exception_thread_of_this_process_handled_here)
{
    static volatile uint64_t words[2];
    words[0] = words[1] = 0;
    struct counts before;
    settle(&before, NULL);
    mica_handle_t t, pair[2];
    UASSERT(mica_thread_create(mica_process_self(), "steps", 5, &t) == OK);
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_thread_set_exception_channel(t, pair[0]) == OK);
    UASSERT(mica_thread_start(t, (uint64_t)exc_steps, new_stack(),
                              (uint64_t)words, 0) == OK);
    struct exc x;
    UASSERT(next_exception(pair[1], &x) == OK);
    UEXPECT(x.info.vector == MICA_EXC_BREAKPOINT);
    UEXPECT(x.info.regs.rip == (uint64_t)exc_steps_bp_next);
    UEXPECT(words[0] == 1);
    UEXPECT(mica_exception_resume(x.token) == OK);
    exc_close(&x);
    UASSERT(next_exception(pair[1], &x) == OK);
    UEXPECT(x.info.vector == MICA_EXC_INVALID_OP);
    UEXPECT(x.info.regs.rip == (uint64_t)exc_steps_ud);
    UEXPECT(words[0] == 2);
    struct mica_thread_state st;
    UASSERT(mica_thread_read_state(x.thread, &st) == OK);
    st.rip = (uint64_t)exc_steps_after;
    st.rbx = 99;
    UASSERT(mica_thread_write_state(x.thread, &st) == OK);
    UEXPECT(mica_exception_resume(x.token) == OK);
    UEXPECT(wait_for(t, SIGNAL_TERMINATED) == OK);
    UEXPECT(words[1] == 99);
    /* the thread's binding ended with it */
    UEXPECT(wait_for(pair[1], SIGNAL_PEER_CLOSED) == OK);
    exc_close(&x);
    mica_handle_close(t);
    mica_handle_close(pair[1]);
    EXPECT_SETTLED(before);
}

/* Many threads of one process fault at once (on several CPUs when
 * there are): each exception is its own, each thread is sent by its own
 * verdict to exit, and the process ends with the last one. */
#define MANY 16

UTEST(exception_many_threads_each_resumed)
{
    static mica_handle_t ts[MANY];
    static uint32_t tids[MANY + 1];
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t pair[2];
    UASSERT(child_create(&c) == OK);
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_process_set_exception_channel(c.proc, pair[0]) == OK);
    int n = 0;
    for (; n < MANY; n++) {
        if (mica_thread_create(c.proc, "f", 1, &ts[n]) != OK)
            break;
        if (mica_thread_start(ts[n], (uint64_t)exc_ud, new_stack(), 0,
                              0) != OK) {
            mica_handle_close(ts[n]);
            break;
        }
    }
    UEXPECT(n == MANY);
    UASSERT(child_start(&c, exc_ud, 0, 0) == OK);
    for (int i = 0; i <= n; i++) {
        struct exc x;
        UASSERT(next_exception(pair[1], &x) == OK);
        UEXPECT(x.info.vector == MICA_EXC_INVALID_OP);
        tids[i] = x.info.tid;
        for (int j = 0; j < i; j++)
            UEXPECT(tids[j] != tids[i]);
        struct mica_thread_state st;
        UASSERT(mica_thread_read_state(x.thread, &st) == OK);
        st.rip = (uint64_t)exc_thread_exit;
        UASSERT(mica_thread_write_state(x.thread, &st) == OK);
        UEXPECT(mica_exception_resume(x.token) == OK);
        UEXPECT(wait_for(x.thread, SIGNAL_TERMINATED) == OK);
        exc_close(&x);
    }
    UEXPECT(child_end(&c) == 0);        /* its last thread's exit */
    while (n-- > 0)
        mica_handle_close(ts[n]);
    mica_handle_close(pair[1]);
    EXPECT_SETTLED(before);
}

/* Suspended while it waits for the verdict, the thread parks after it. */
UTEST(exception_suspended_while_waiting_parks_after_resume)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t ch;
    UASSERT(bound_child(&c, &ch, exc_ud, 0, 0) == OK);
    struct exc x;
    UASSERT(next_exception(ch, &x) == OK);
    UEXPECT(mica_thread_suspend(x.thread) == OK);
    struct mica_thread_state st;
    UASSERT(mica_thread_read_state(x.thread, &st) == OK);
    st.rip = (uint64_t)exc_ud_after;
    st.rbx = 5;
    UASSERT(mica_thread_write_state(x.thread, &st) == OK);
    UEXPECT(mica_exception_resume(x.token) == OK);
    UASSERT(wait_for(x.thread, SIGNAL_SUSPENDED) == OK);
    UASSERT(mica_thread_read_state(x.thread, &st) == OK);
    UEXPECT(st.rip == (uint64_t)exc_ud_after && st.rbx == 5);
    UEXPECT(mica_thread_resume(x.thread) == OK);
    UEXPECT(child_end(&c) == 5);
    exc_close(&x);
    mica_handle_close(ch);
    EXPECT_SETTLED(before);
}

/* --- killing -------------------------------------------------------------- */

UTEST(exception_verdict_kill)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t ch;
    UASSERT(bound_child(&c, &ch, read_and_exit, FAULT_ADDR, 0) == OK);
    struct exc x;
    UASSERT(next_exception(ch, &x) == OK);
    UEXPECT(mica_exception_kill(x.token) == OK);
    UEXPECT(mica_exception_resume(x.token) == ERR_BAD_STATE);
    UEXPECT(child_end(&c) == PF_EXIT);
    struct mica_thread_state st;
    UEXPECT(mica_thread_read_state(x.thread, &st) == ERR_BAD_STATE);
    UEXPECT(signals_of(x.thread) & SIGNAL_TERMINATED);
    exc_close(&x);
    mica_handle_close(ch);
    EXPECT_SETTLED(before);
}

/* With no channel at all the process is killed and reported, as ever. */
UTEST(exception_no_channel_kills_as_before)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    UASSERT(child_create(&c) == OK);
    UASSERT(child_start(&c, read_and_exit, FAULT_ADDR, 0) == OK);
    UEXPECT(child_end(&c) == PF_EXIT);
    /* a binding taken back (0) is no channel either */
    mica_handle_t pair[2];
    UASSERT(child_create(&c) == OK);
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_process_set_exception_channel(c.proc, pair[0]) == OK);
    UEXPECT(mica_process_set_exception_channel(c.proc, 0) == OK);
    UEXPECT(wait_for(pair[1], SIGNAL_PEER_CLOSED) == OK);
    UASSERT(child_start(&c, exc_ud, 0, 0) == OK);
    UEXPECT(child_end(&c) == UD_EXIT);
    mica_handle_close(pair[1]);
    EXPECT_SETTLED(before);
}

/* --- precedence ----------------------------------------------------------- */

UTEST(exception_thread_channel_before_process_channel)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t pch[2], tch[2];
    UASSERT(child_create(&c) == OK);
    UASSERT(mica_channel_create(0, pch) == OK);
    UASSERT(mica_channel_create(0, tch) == OK);
    UASSERT(mica_process_set_exception_channel(c.proc, pch[0]) == OK);
    UASSERT(mica_thread_set_exception_channel(c.thread, tch[0]) == OK);
    UASSERT(child_start(&c, exc_ud, 0, 0) == OK);
    struct exc x;
    UASSERT(next_exception(tch[1], &x) == OK);
    UEXPECT(well_formed(&x, c.proc, MICA_EXC_INVALID_OP));
    struct mica_msg_buf b = { 0 };
    UEXPECT(mica_channel_read(pch[1], &b) == ERR_SHOULD_WAIT);
    UEXPECT(mica_exception_kill(x.token) == OK);
    UEXPECT(child_end(&c) == UD_EXIT);
    UEXPECT(mica_channel_read(pch[1], &b) == ERR_PEER_CLOSED);
    exc_close(&x);
    mica_handle_close(pch[1]);
    mica_handle_close(tch[1]);
    EXPECT_SETTLED(before);
}

/* A thread channel whose handler has gone is passed over for the
 * process's. */
UTEST(exception_dead_thread_channel_falls_to_process_channel)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t pch[2], tch[2];
    UASSERT(child_create(&c) == OK);
    UASSERT(mica_channel_create(0, pch) == OK);
    UASSERT(mica_channel_create(0, tch) == OK);
    UASSERT(mica_process_set_exception_channel(c.proc, pch[0]) == OK);
    UASSERT(mica_thread_set_exception_channel(c.thread, tch[0]) == OK);
    mica_handle_close(tch[1]);
    UASSERT(child_start(&c, exc_ud, 0, 0) == OK);
    struct exc x;
    UASSERT(next_exception(pch[1], &x) == OK);
    UEXPECT(well_formed(&x, c.proc, MICA_EXC_INVALID_OP));
    UEXPECT(mica_exception_kill(x.token) == OK);
    UEXPECT(child_end(&c) == UD_EXIT);
    exc_close(&x);
    mica_handle_close(pch[1]);
    EXPECT_SETTLED(before);
}

/* --- broken handlers ------------------------------------------------------ */

/* Closing the token without a verdict kills. */
UTEST(exception_token_closed_without_verdict_kills)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t ch, dup;
    UASSERT(bound_child(&c, &ch, exc_ud, 0, 0) == OK);
    struct exc x;
    UASSERT(next_exception(ch, &x) == OK);
    UASSERT(mica_handle_duplicate(x.token, RIGHT_SAME_RIGHTS, &dup) == OK);
    mica_handle_close(x.token);         /* not the last handle yet */
    UEXPECT(!(signals_of(c.proc) & SIGNAL_TERMINATED));
    struct mica_thread_state st;
    UEXPECT(mica_thread_read_state(x.thread, &st) == OK);  /* still waits */
    mica_handle_close(dup);
    UEXPECT(child_end(&c) == UD_EXIT);
    mica_handle_close(x.thread);
    mica_handle_close(ch);
    EXPECT_SETTLED(before);
}

/* Closing the channel with the exception unread kills. */
UTEST(exception_channel_closed_unread_kills)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t ch;
    UASSERT(bound_child(&c, &ch, exc_ud, 0, 0) == OK);
    UASSERT(wait_for(ch, SIGNAL_READABLE) == OK);
    mica_handle_close(ch);
    UEXPECT(child_end(&c) == UD_EXIT);
    EXPECT_SETTLED(before);
}

/* The message outlives everything else: its process is gone and every
 * handle to it closed, then the channel closes with it unread.  The
 * message, its token and its thread go last, and nothing is left. */
UTEST(exception_message_outlives_its_process)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t ch;
    UASSERT(bound_child(&c, &ch, exc_ud, 0, 0) == OK);
    UASSERT(wait_for(ch, SIGNAL_READABLE) == OK);
    UEXPECT(mica_process_kill(c.proc, 13) == OK);
    UEXPECT(child_end(&c) == 13);
    UEXPECT(wait_for(ch, SIGNAL_PEER_CLOSED) == OK);
    mica_handle_close(ch);
    EXPECT_SETTLED(before);
}

/* A handler whose other end closed before the fault: killed at once. */
UTEST(exception_channel_closed_before_fault_kills)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t pair[2];
    UASSERT(child_create(&c) == OK);
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_process_set_exception_channel(c.proc, pair[0]) == OK);
    mica_handle_close(pair[1]);
    UASSERT(child_start(&c, exc_ud, 0, 0) == OK);
    UEXPECT(child_end(&c) == UD_EXIT);
    EXPECT_SETTLED(before);
}

/* Clone code: a handler that takes the exception and dies with it. */
static void handler_dies(uint64_t ch, uint64_t a1)
{
    (void)a1;
    mica_handle_t hs[2];
    struct mica_exception info;
    struct mica_msg_buf b = {
        .bytes = &info, .bytes_cap = sizeof(info),
        .handles = hs, .handles_cap = 2,
    };
    mica_object_wait_one((mica_handle_t)ch, SIGNAL_READABLE, 0, NULL);
    int err = mica_channel_read((mica_handle_t)ch, &b);
    mica_process_exit(err == OK && b.actual_handles == 2 ? 3 : 4);
    for (;;)
        ;
}

/* The handler's process dies holding the token: the faulting process
 * is killed, nothing hangs. */
UTEST(exception_handler_process_dies_kills)
{
    struct counts before;
    settle(&before, NULL);
    struct child h, c;
    mica_handle_t pair[2], moved;
    UASSERT(child_create(&h) == OK);
    UASSERT(child_create(&c) == OK);
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_process_set_exception_channel(c.proc, pair[0]) == OK);
    UASSERT(mica_handle_transfer(pair[1], h.proc, RIGHT_SAME_RIGHTS,
                                 &moved) == OK);
    UASSERT(child_start(&h, handler_dies, moved, 0) == OK);
    UASSERT(child_start(&c, exc_ud, 0, 0) == OK);
    UEXPECT(child_end(&h) == 3);
    UEXPECT(child_end(&c) == UD_EXIT);
    EXPECT_SETTLED(before);
}

/* --- kills while waiting -------------------------------------------------- */

UTEST(exception_thread_killed_while_waiting)
{
    struct counts before;
    settle(&before, NULL);
    for (int how = 0; how < 2; how++) {
        struct child c;
        mica_handle_t ch;
        UASSERT(bound_child(&c, &ch, exc_ud, 0, 0) == OK);
        struct exc x;
        UASSERT(next_exception(ch, &x) == OK);
        if (how == 0)
            UEXPECT(mica_thread_kill(x.thread) == OK);
        else
            UEXPECT(mica_process_kill(c.proc, 21) == OK);
        UEXPECT(wait_for(x.thread, SIGNAL_TERMINATED) == OK);
        UEXPECT(mica_exception_resume(x.token) == ERR_BAD_STATE);
        UEXPECT(mica_exception_kill(x.token) == ERR_BAD_STATE);
        struct mica_thread_state st;
        UEXPECT(mica_thread_read_state(x.thread, &st) == ERR_BAD_STATE);
        int code = child_end(&c);
        UEXPECT(how == 0 ? code == 0 : code == 21);
        exc_close(&x);
        mica_handle_close(ch);
    }
    EXPECT_SETTLED(before);
}

/* --- the kernel's limits -------------------------------------------------- */

/* 64 exceptions fill the handler's queue; the 65th cannot be sent, and
 * its process is killed as if it had no channel. */
#define FAULTERS ((int)MICA_CHANNEL_MAX_QUEUED + 1)

UTEST(exception_full_queue_kills)
{
    static mica_handle_t ts[FAULTERS];
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t pair[2];
    UASSERT(child_create(&c) == OK);
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_process_set_exception_channel(c.proc, pair[0]) == OK);
    int n = 0;
    for (; n < FAULTERS; n++) {
        if (mica_thread_create(c.proc, "f", 1, &ts[n]) != OK)
            break;
        if (mica_thread_start(ts[n], (uint64_t)exc_ud, new_stack(), 0,
                              0) != OK) {
            mica_handle_close(ts[n]);
            break;
        }
    }
    UEXPECT(n == FAULTERS);
    UASSERT(child_start(&c, exc_ud, 0, 0) == OK);
    UEXPECT(child_end(&c) == UD_EXIT);
    int got = 0;
    struct exc x;
    while (next_exception(pair[1], &x) == OK) {
        got++;
        UEXPECT(mica_exception_resume(x.token) == ERR_BAD_STATE);
        exc_close(&x);
    }
    UEXPECT(got == (int)MICA_CHANNEL_MAX_QUEUED);
    while (n-- > 0)
        mica_handle_close(ts[n]);
    mica_handle_close(pair[1]);
    EXPECT_SETTLED(before);
}

/* The kernel out of memory for the token or the message: killed as if
 * there were no channel; when both could be made, the handler has it. */
UTEST(exception_out_of_memory_kills)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t ch;
    UASSERT(bound_child(&c, &ch, inject_and_fault, 1, 1) == OK);
    UEXPECT(child_end(&c) == UD_EXIT);
    struct mica_msg_buf b = { 0 };
    UEXPECT(mica_channel_read(ch, &b) == ERR_PEER_CLOSED);   /* nothing */
    mica_handle_close(ch);
    /* one allocation in two: until both outcomes were seen */
    int sent = 0, lost = 0;
    for (uint64_t seed = 1; seed <= 64 && (!sent || !lost); seed++) {
        UASSERT(bound_child(&c, &ch, inject_and_fault, 2, seed) == OK);
        struct exc x;
        if (next_exception(ch, &x) == OK) {
            sent++;
            UEXPECT(mica_exception_kill(x.token) == OK);
            exc_close(&x);
        } else {
            lost++;
        }
        UEXPECT(child_end(&c) == UD_EXIT);
        mica_handle_close(ch);
    }
    mica_debug_fail_inject(0, 0);
    UEXPECT(sent > 0 && lost > 0);
    EXPECT_SETTLED(before);
}

/* --- a supervisor --------------------------------------------------------- */

/* Clone code: a server that crashes on its first start (a0 = 0) and
 * exits with 8 when started again (a0 = 1). */
static void flaky_server(uint64_t a0, uint64_t a1)
{
    (void)a1;
    if (a0 == 0)
        __asm__ volatile("ud2");
    mica_process_exit(8);
    for (;;)
        ;
}

/* What a supervisor does: every child's exception channel bound to one
 * port; a crash arrives with the child's key, the crashed child is
 * killed and a new one started in its place. */
UTEST(exception_supervisor_restarts_crashed_server)
{
    struct counts before;
    settle(&before, NULL);
    mica_handle_t port, pair[2];
    UASSERT(mica_port_create(0, &port) == OK);
    struct child c;
    UASSERT(child_create(&c) == OK);
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_channel_bind(pair[1], port, 42) == OK);
    UASSERT(mica_process_set_exception_channel(c.proc, pair[0]) == OK);
    UASSERT(child_start(&c, flaky_server, 0, 0) == OK);
    struct mica_exception info;
    mica_handle_t hs[2] = { 0 };
    struct mica_msg_buf b = {
        .bytes = &info, .bytes_cap = sizeof(info),
        .handles = hs, .handles_cap = 2,
    };
    UASSERT(mica_port_receive(port, &b, now_ns() + BOUND) == OK);
    UEXPECT(b.key == 42 && b.kind == MICA_RECV_MESSAGE);
    UEXPECT(info.vector == MICA_EXC_INVALID_OP && b.actual_handles == 2);
    UEXPECT(mica_exception_kill(hs[MICA_EXCEPTION_TOKEN]) == OK);
    UEXPECT(child_end(&c) == UD_EXIT);
    mica_handle_close(hs[0]);
    mica_handle_close(hs[1]);
    mica_handle_close(pair[1]);
    /* restart */
    UASSERT(child_create(&c) == OK);
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_channel_bind(pair[1], port, 43) == OK);
    UASSERT(mica_process_set_exception_channel(c.proc, pair[0]) == OK);
    UASSERT(child_start(&c, flaky_server, 1, 0) == OK);
    UEXPECT(child_end(&c) == 8);
    UEXPECT(mica_port_receive(port, &b, now_ns() + 1) == ERR_TIMED_OUT);
    mica_handle_close(pair[1]);
    mica_handle_close(port);
    EXPECT_SETTLED(before);
}

/* --- errors --------------------------------------------------------------- */

static mica_handle_t stale_handle(void)
{
    mica_handle_t v = 0;
    mica_vmo_create(4096, &v);
    mica_handle_close(v);
    return v;
}

static mica_handle_t with_rights(mica_handle_t h, mica_rights_t rights)
{
    mica_handle_t d = 0;
    mica_handle_duplicate(h, rights, &d);
    return d;
}

/* Whether h is still an open handle of this process. */
static bool is_open(mica_handle_t h)
{
    return mica_object_wait_one(h, 0, 1, NULL) != ERR_BAD_HANDLE;
}

/* The errors shared by both calls (system call nr): `target` and
 * `target2` are threads or processes that can take a binding, `dead`
 * one that has ended, `other` an object of the other type. */
static void set_errors(uint64_t nr, mica_handle_t target, mica_handle_t dead,
                       mica_handle_t other, mica_handle_t target2)
{
#define SET(t, c) MICA_CALL(nr, (t), (c), 0, 0, 0, 0)
    mica_handle_t pair[2], pair2[2], v, stale = stale_handle();
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_vmo_create(4096, &v) == OK);
    /* the target */
    UEXPECT(SET(stale, pair[0]) == ERR_BAD_HANDLE);
    UEXPECT(SET(0, pair[0]) == ERR_BAD_HANDLE);
    UEXPECT(SET(0, 0) == ERR_BAD_HANDLE);
    UEXPECT(SET(v, pair[0]) == ERR_WRONG_TYPE);
    UEXPECT(SET(other, pair[0]) == ERR_WRONG_TYPE);
    static const mica_rights_t lacking[] = {
        RIGHTS_BASIC | RIGHT_WRITE | RIGHT_MANAGE,
        RIGHTS_BASIC | RIGHT_READ | RIGHT_MANAGE,
        RIGHTS_BASIC | RIGHTS_IO,
    };
    for (unsigned i = 0; i < 3; i++) {
        mica_handle_t weak = with_rights(target, lacking[i]);
        UEXPECT(SET(weak, pair[0]) == ERR_ACCESS_DENIED);
        UEXPECT(SET(weak, 0) == ERR_ACCESS_DENIED);
        mica_handle_close(weak);
    }
    /* the channel */
    UEXPECT(SET(target, stale) == ERR_BAD_HANDLE);
    UEXPECT(SET(target, 0xFFFFFFFFu) == ERR_BAD_HANDLE);
    UEXPECT(SET(target, v) == ERR_WRONG_TYPE);
    UEXPECT(SET(target, target) == ERR_WRONG_TYPE);
    mica_handle_t no_write = with_rights(pair[0], RIGHT_READ | RIGHTS_BASIC);
    mica_handle_t no_transfer = with_rights(pair[0], RIGHTS_IO | RIGHT_WAIT);
    UEXPECT(SET(target, no_write) == ERR_ACCESS_DENIED);
    UEXPECT(SET(target, no_transfer) == ERR_ACCESS_DENIED);
    UEXPECT(is_open(no_write) && is_open(no_transfer));
    mica_handle_close(no_write);
    mica_handle_close(no_transfer);
    /* a channel whose other end has closed */
    UASSERT(mica_channel_create(0, pair2) == OK);
    mica_handle_close(pair2[1]);
    UEXPECT(SET(target, pair2[0]) == ERR_PEER_CLOSED);
    UEXPECT(is_open(pair2[0]));         /* an error moves nothing */
    mica_handle_close(pair2[0]);
    /* an endpoint with another handle: only the kernel may write there */
    mica_handle_t dup = with_rights(pair[0], RIGHT_SAME_RIGHTS);
    UEXPECT(SET(target, pair[0]) == ERR_BAD_STATE);
    UEXPECT(SET(target, dup) == ERR_BAD_STATE);
    UEXPECT(is_open(pair[0]) && is_open(dup));
    mica_handle_close(dup);
    /* a target that has ended */
    UEXPECT(SET(dead, pair[0]) == ERR_BAD_STATE);
    UEXPECT(is_open(pair[0]));
    UEXPECT(SET(dead, 0) == OK);        /* nothing to unbind */
    /* bound: the endpoint leaves this table (handles are 32 bits) */
    UEXPECT(SET(target | (1ull << 32), pair[0] | (1ull << 40)) == OK);
    UEXPECT(!is_open(pair[0]));
    /* the channel goes one way: nothing can be written to the kernel */
    UEXPECT(mica_channel_write(pair[1], "x", 1, NULL, 0) ==
            ERR_NOT_SUPPORTED);
    char buf[4];
    struct mica_msg m = { .bytes = "x", .num_bytes = 1 };
    struct mica_msg_buf rb = { .bytes = buf, .bytes_cap = sizeof(buf) };
    UEXPECT(mica_channel_call(pair[1], &m, &rb, now_ns() + BOUND) ==
            ERR_NOT_SUPPORTED);
    /* nor can the other end be bound too: nobody could read either */
    UEXPECT(SET(target2, pair[1]) == ERR_BAD_STATE);
    UEXPECT(is_open(pair[1]));
    UASSERT(mica_channel_create(0, pair2) == OK);
    UEXPECT(SET(target, pair2[0]) == ERR_ALREADY_EXISTS);
    UEXPECT(is_open(pair2[0]));
    /* unbinding closes the kernel's end; binding anew then works */
    UEXPECT(SET(target, 0) == OK);
    UEXPECT(wait_for(pair[1], SIGNAL_PEER_CLOSED) == OK);
    UEXPECT(mica_channel_write(pair[1], "x", 1, NULL, 0) == ERR_PEER_CLOSED);
    UEXPECT(SET(target, 0) == OK);      /* unbinding nothing */
    UEXPECT(SET(target, pair2[0]) == OK);
    /* a binding whose handler end has closed is replaced */
    mica_handle_close(pair2[1]);
    mica_handle_close(pair[1]);
    UASSERT(mica_channel_create(0, pair) == OK);
    UEXPECT(SET(target, pair[0]) == OK);
    /* only the low 32 bits of a handle count: this is 0, an unbind */
    UEXPECT(SET(target, 1ull << 32) == OK);
    UEXPECT(wait_for(pair[1], SIGNAL_PEER_CLOSED) == OK);
    mica_handle_close(pair[1]);
    mica_handle_close(v);
#undef SET
}

UTEST(abi_process_set_exception_channel_errors)
{
    struct counts before;
    settle(&before, NULL);
    struct child live, live2, dead;
    UASSERT(child_create(&live) == OK);
    UASSERT(child_create(&live2) == OK);
    UASSERT(child_create(&dead) == OK);
    UASSERT(mica_process_kill(dead.proc, 0) == OK);
    UASSERT(wait_for(dead.proc, SIGNAL_TERMINATED) == OK);
    set_errors(MICA_SYS_process_set_exception_channel, live.proc, dead.proc,
               live.thread, live2.proc);
    /* a binding goes with its process, also one never started */
    mica_handle_t pair[2];
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_process_set_exception_channel(live.proc, pair[0]) == OK);
    UEXPECT(mica_process_kill(live.proc, 0) == OK);
    UEXPECT(wait_for(pair[1], SIGNAL_PEER_CLOSED) == OK);
    mica_handle_close(pair[1]);
    mica_process_kill(live2.proc, 0);
    child_end(&live);
    child_end(&live2);
    child_end(&dead);
    EXPECT_SETTLED(before);
}

UTEST(abi_thread_set_exception_channel_errors)
{
    struct counts before;
    settle(&before, NULL);
    struct child c;
    mica_handle_t live, live2, dead;
    UASSERT(child_create(&c) == OK);
    UASSERT(mica_thread_create(c.proc, "live", 4, &live) == OK);
    UASSERT(mica_thread_create(c.proc, "live2", 5, &live2) == OK);
    UASSERT(mica_thread_create(c.proc, "dead", 4, &dead) == OK);
    UASSERT(mica_thread_kill(dead) == OK);
    UASSERT(wait_for(dead, SIGNAL_TERMINATED) == OK);
    set_errors(MICA_SYS_thread_set_exception_channel, live, dead, c.proc,
               live2);
    /* a binding goes with its thread, also one never started */
    mica_handle_t pair[2];
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_thread_set_exception_channel(live, pair[0]) == OK);
    UEXPECT(mica_thread_kill(live) == OK);
    UEXPECT(wait_for(pair[1], SIGNAL_PEER_CLOSED) == OK);
    mica_handle_close(pair[1]);
    mica_handle_close(live);
    mica_handle_close(live2);
    mica_handle_close(dead);
    mica_process_kill(c.proc, 0);
    child_end(&c);
    EXPECT_SETTLED(before);
}

/* The errors of exception_resume and exception_kill, which are the same. */
static void verdict_errors(int (*verdict)(mica_handle_t))
{
    struct child c;
    mica_handle_t ch, stale = stale_handle();
    UASSERT(bound_child(&c, &ch, exc_ud, 0, 0) == OK);
    struct exc x;
    UASSERT(next_exception(ch, &x) == OK);
    UEXPECT(verdict(stale) == ERR_BAD_HANDLE);
    UEXPECT(verdict(0) == ERR_BAD_HANDLE);
    UEXPECT(verdict(x.thread) == ERR_WRONG_TYPE);
    UEXPECT(verdict(ch) == ERR_WRONG_TYPE);
    mica_handle_t weak = with_rights(x.token, RIGHTS_BASIC);
    UASSERT(weak != 0);
    UEXPECT(verdict(weak) == ERR_ACCESS_DENIED);
    UEXPECT(!(signals_of(c.proc) & SIGNAL_TERMINATED));    /* still waits */
    mica_handle_close(weak);
    UEXPECT(mica_process_kill(c.proc, 0) == OK);
    UEXPECT(wait_for(x.thread, SIGNAL_TERMINATED) == OK);
    UEXPECT(verdict(x.token) == ERR_BAD_STATE);            /* thread gone */
    child_end(&c);
    exc_close(&x);
    mica_handle_close(ch);
    /* after a verdict */
    UASSERT(bound_child(&c, &ch, exc_ud, 0, 0) == OK);
    UASSERT(next_exception(ch, &x) == OK);
    UEXPECT(mica_exception_kill(x.token) == OK);
    UEXPECT(verdict(x.token) == ERR_BAD_STATE);
    child_end(&c);
    exc_close(&x);
    mica_handle_close(ch);
}

UTEST(abi_exception_resume_errors)
{
    struct counts before;
    settle(&before, NULL);
    verdict_errors(mica_exception_resume);
    EXPECT_SETTLED(before);
}

UTEST(abi_exception_kill_errors)
{
    struct counts before;
    settle(&before, NULL);
    verdict_errors(mica_exception_kill);
    EXPECT_SETTLED(before);
}
