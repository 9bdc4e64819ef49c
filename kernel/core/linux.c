/*
 * linux.c - the Linux system calls the kernel answers itself.
 *
 * The only file that knows Linux numbers.  It handles just the calls
 * that are the same thing as a native primitive (DESIGN.md section 8):
 * thread-local storage, thread ids, futexes (priority-inheriting ones
 * too), yield, CPU affinity, exit, clocks, sleep, anonymous private
 * memory, an unmovable brk, thread-shaped clone (the new thread keeps
 * its creator's affinity), and the standard streams: for a process
 * given a console channel, read/readv/write/writev and the
 * terminal-size ioctl on fds 0-2 go to its console server
 * (console_client.c); for one holding the log capability and no
 * console, write/writev on fds 1 and 2 go to the kernel log.  Everything
 * else is -ENOSYS until the personality server answers it.  Errors are
 * Linux's negative errno.
 */
#include "channel.h"
#include "clock.h"
#include "console_client.h"
#include "futex.h"
#include "lib.h"
#include "linux_abi.h"
#include "log.h"
#include "mica/errors.h"
#include "mica/linux_errno.h"
#include "percpu.h"
#include "process.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"
#include "vm.h"

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define TIOCGWINSZ  0x5413
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_LOCK_PI2 13
#define FUTEX_CMD_MASK 0x7f             /* drops PRIVATE and CLOCK_REALTIME */

static int64_t err(int mica_status)
{
    return -(int64_t)linux_errno(mica_status);
}

/* A console's failure as Linux says it for a terminal: a server gone is
 * an I/O error, a killed caller never sees its result. */
static int64_t console_errno(int status)
{
    return status == ERR_PEER_CLOSED ? -LX_EIO
           : status == ERR_CANCELED ? -LX_EINTR : err(status);
}

static int64_t log_write_user(uint64_t ubuf, uint64_t len)
{
    char buf[256];
    uint64_t done = 0;
    while (done < len) {
        uint64_t n = MIN(len - done, sizeof(buf));
        if (copy_from_user(buf, ubuf + done, n))
            return done ? (int64_t)done : -LX_EFAULT;
        log_write(buf, n);
        done += n;
    }
    return (int64_t)done;
}

/* What a writev (or a write: one span) on the console gives: spans of
 * at most 1 MiB in all. */
static int64_t console_write(struct channel *con, struct console_span *s,
                             unsigned n)
{
    uint64_t done, total = 0;
    for (unsigned i = 0; i < n; i++) {
        s[i].len = MIN(s[i].len, ((uint64_t)1 << 20) - total);
        total += s[i].len;
    }
    int e = console_client_write(con, s, n, &done);
    return done || !e ? (int64_t)done : console_errno(e);
}

/* fds 0-2 of a process with a console go to it; without one, fds 1 and
 * 2 of a process with the log capability go to the log. */
static int64_t lx_write(uint64_t fd, uint64_t ubuf, uint64_t len)
{
    if (fd > 2)
        return -LX_EBADF;
    struct channel *con = console_client_get();
    if (con) {
        struct console_span s = { ubuf, len };
        int64_t r = console_write(con, &s, 1);
        object_unref(&con->obj);
        return r;
    }
    if (fd == 0 || !process_current()->log_cap)
        return -LX_EBADF;
    return log_write_user(ubuf, MIN(len, (uint64_t)1 << 20));
}

#define WRITEV_SPANS 16

/* writev on the console: the iovecs 16 at a time, each group packed
 * into as few calls as its bytes need. */
static int64_t console_writev(struct channel *con, uint64_t uiov,
                              uint64_t cnt)
{
    int64_t total = 0;
    for (uint64_t i = 0; i < cnt;) {
        struct console_span s[WRITEV_SPANS];
        unsigned n = (unsigned)MIN(cnt - i, (uint64_t)WRITEV_SPANS);
        uint64_t want = 0;
        if (copy_from_user(s, uiov + i * 16, n * sizeof(s[0])))
            return total ? total : -LX_EFAULT;
        for (unsigned k = 0; k < n; k++)
            want += s[k].len;
        int64_t r = console_write(con, s, n);
        if (r < 0)
            return total ? total : r;
        total += r;
        if ((uint64_t)r < want || total >= (1 << 20))
            break;                      /* short: the rest waits */
        i += n;
    }
    return total;
}

static int64_t lx_writev(uint64_t fd, uint64_t uiov, uint64_t cnt)
{
    if (cnt > 1024)
        return -LX_EINVAL;
    struct channel *con = fd <= 2 ? console_client_get() : NULL;
    if (con) {
        int64_t r = console_writev(con, uiov, cnt);
        object_unref(&con->obj);
        return r;
    }
    int64_t total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t iov[2];
        if (copy_from_user(iov, uiov + i * 16, sizeof(iov)))
            return -LX_EFAULT;
        int64_t r = lx_write(fd, iov[0], iov[1]);
        if (r < 0)
            return total ? total : r;
        total += r;
    }
    return total;
}

/* Where a read's bytes go: the user's iovecs, in order. */
struct scatter {
    uint64_t uiov, cnt;
};

static int scatter_out(void *ctx, const void *data, uint32_t n)
{
    const struct scatter *s = ctx;
    const char *p = data;
    for (uint64_t i = 0; i < s->cnt && n; i++) {
        uint64_t iov[2];
        if (copy_from_user(iov, s->uiov + i * 16, sizeof(iov)))
            return ERR_FAULT;
        uint64_t k = MIN(iov[1], (uint64_t)n);
        if (copy_to_user(iov[0], p, k))
            return ERR_FAULT;
        p += k;
        n -= (uint32_t)k;
    }
    return 0;
}

/* read and readv on fds 0-2 of a process with a console: one READ call
 * for what the iovecs hold (at most CONSOLE_CLIENT_READ_MAX bytes).  The
 * rest is for the personality server: -ENOSYS. */
static int64_t lx_readv(uint64_t fd, uint64_t uiov, uint64_t cnt)
{
    struct channel *con = console_client_get();
    if (!con)
        return -LX_ENOSYS;
    int64_t r = fd > 2 ? -LX_EBADF : cnt > 1024 ? -LX_EINVAL : 0;
    uint64_t want = 0;
    for (uint64_t i = 0; i < cnt && !r; i++) {
        uint64_t iov[2];
        if (copy_from_user(iov, uiov + i * 16, sizeof(iov)))
            r = -LX_EFAULT;
        else
            want += MIN(iov[1], (uint64_t)CONSOLE_CLIENT_READ_MAX);
    }
    if (!r && want) {
        struct scatter s = { uiov, cnt };
        uint32_t got;
        int e = console_client_read(con, (uint32_t)MIN(want, 1u << 20),
                                    scatter_out, &s, &got);
        r = e ? console_errno(e) : (int64_t)got;
    }
    object_unref(&con->obj);
    return r;
}

static int user_out(void *ctx, const void *data, uint32_t n)
{
    return copy_to_user(*(const uint64_t *)ctx, data, n);
}

static int64_t lx_read(uint64_t fd, uint64_t ubuf, uint64_t len)
{
    struct channel *con = console_client_get();
    if (!con)
        return -LX_ENOSYS;
    int64_t r = fd > 2 ? -LX_EBADF : 0;
    if (!r && len) {
        uint32_t got;
        int e = console_client_read(con, (uint32_t)MIN(len, 1u << 20),
                                    user_out, &ubuf, &got);
        r = e ? console_errno(e) : (int64_t)got;
    }
    object_unref(&con->obj);
    return r;
}

static int64_t lx_ioctl(uint64_t fd, uint64_t req, uint64_t arg)
{
    struct channel *con = console_client_get();
    bool console = con != NULL;
    if (con)
        object_unref(&con->obj);
    if (fd > 2 || (!console && (fd == 0 || !process_current()->log_cap)))
        return -LX_EBADF;
    if (req != TIOCGWINSZ)
        return -LX_ENOTTY;
    uint16_t ws[4] = { 25, 80, 0, 0 };
    return copy_to_user(arg, ws, sizeof(ws)) ? -LX_EFAULT : 0;
}

static int64_t lx_exit_thread(int code)
{
    struct thread *me = thread_current();
    me->exit_code = code;
    me->kill_pending = true;
    return 0;
}

static int64_t lx_exit_group(int code)
{
    struct thread *me = thread_current();
    me->exit_code = code;
    process_kill(me->proc, code);
    return 0;
}

static int64_t lx_arch_prctl(uint64_t code, uint64_t addr)
{
    struct thread *me = thread_current();
    if (code == ARCH_SET_FS) {
        if (addr >= USER_TOP)
            return -LX_EPERM;
        me->arch.fs_base = addr;
        arch_set_fs_base(addr);
        return 0;
    }
    if (code == ARCH_GET_FS)
        return copy_to_user(addr, &me->arch.fs_base, 8) ? -LX_EFAULT : 0;
    return -LX_EINVAL;
}

static uint64_t timespec_ns(const int64_t ts[2])
{
    return (uint64_t)ts[0] * 1000000000ull + (uint64_t)ts[1];
}

static int64_t lx_clock_gettime(uint64_t clk, uint64_t uts)
{
    if (clk > 7)
        return -LX_EINVAL;
    uint64_t ns = clock_ns();
    int64_t ts[2] = { (int64_t)(ns / 1000000000), (int64_t)(ns % 1000000000) };
    return copy_to_user(uts, ts, sizeof(ts)) ? -LX_EFAULT : 0;
}

static int64_t sleep_for(uint64_t ureq, bool absolute)
{
    int64_t ts[2];
    if (copy_from_user(ts, ureq, sizeof(ts)))
        return -LX_EFAULT;
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
        return -LX_EINVAL;
    uint64_t deadline = absolute ? timespec_ns(ts) : clock_ns() + timespec_ns(ts);
    if (deadline <= clock_ns())
        return 0;
    int r = sched_sleep_until(deadline);
    return r == ERR_TIMED_OUT ? 0 : -LX_EINTR;
}

#define FUTEX_PRIVATE_FLAG 128

/* The key of the futex word at uaddr: private (address space, address),
 * or shared (vmo, offset, with a reference the caller drops). */
static int futex_key_of(uint64_t uaddr, bool private, struct futex_key *k,
                        struct vmo **ref)
{
    struct aspace *as = process_current()->aspace;
    *ref = NULL;
    if (private) {
        *k = (struct futex_key){ as, uaddr };
        return 0;
    }
    uint64_t off;
    int r = aspace_vmo_at(as, uaddr, ref, &off);
    if (!r)
        *k = (struct futex_key){ *ref, off };
    return r;
}

static bool futex_is_pi(int cmd)
{
    return cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 ||
           cmd == FUTEX_TRYLOCK_PI || cmd == FUTEX_UNLOCK_PI;
}

/* A user timespec, checked, in ns: 0 or -errno. */
static int64_t timespec_in(uint64_t uts, uint64_t *ns)
{
    int64_t ts[2];
    if (copy_from_user(ts, uts, sizeof(ts)))
        return -LX_EFAULT;
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
        return -LX_EINVAL;
    *ns = timespec_ns(ts);
    return 0;
}

static int64_t futex_deadline(int cmd, uint64_t uts, uint64_t *deadline)
{
    *deadline = 0;
    if ((cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET) || !uts)
        return 0;
    int64_t e = timespec_in(uts, deadline);
    if (e)
        return e;
    if (cmd == FUTEX_WAIT)
        *deadline += clock_ns();
    if (*deadline == 0)
        *deadline = 1;
    return 0;
}

static int futex_op(int cmd, const struct futex_key *k, uint64_t uaddr,
                    uint64_t val, uint64_t deadline, uint64_t val2,
                    const struct futex_key *k2, uint64_t val3)
{
    int n = (int)MIN(val, (uint64_t)INT32_MAX);
    switch (cmd) {
    case FUTEX_WAIT:
        return futex_wait(k, uaddr, (uint32_t)val, deadline, ~0u);
    case FUTEX_WAIT_BITSET:
        return futex_wait(k, uaddr, (uint32_t)val, deadline, (uint32_t)val3);
    case FUTEX_WAKE:
        return futex_wake(k, n, ~0u);
    case FUTEX_WAKE_BITSET:
        return futex_wake(k, n, (uint32_t)val3);

    default:                            /* REQUEUE, CMP_REQUEUE */
        return futex_requeue(k, uaddr, n, k2,
                             (int)MIN(val2, (uint64_t)INT32_MAX),
                             cmd == FUTEX_CMP_REQUEUE, (uint32_t)val3);
    }
}

/* The PI operations' own errors (futex.h), as Linux spells them. */
static int64_t pi_errno(int r)
{
    switch (r) {
    case ERR_BAD_STATE:     return -LX_EDEADLK;     /* owned, or a cycle */
    case ERR_ACCESS_DENIED: return -LX_EPERM;       /* unlock: not ours */
    case ERR_NOT_FOUND:     return -LX_ESRCH;       /* no such owner */
    case ERR_SHOULD_WAIT:   return -LX_EAGAIN;      /* trylock: held */
    case ERR_CANCELED:      return -LX_EINTR;
    default:                return r < 0 ? err(r) : r;
    }
}

/* FUTEX_LOCK_PI(2), whose timeout is absolute (every clock is the one
 * boot clock), FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI. */
static int64_t lx_futex_pi(int cmd, uint64_t uaddr, bool private,
                           uint64_t uts)
{
    uint64_t deadline = 0;
    bool timed = cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2;
    int64_t e = timed && uts ? timespec_in(uts, &deadline) : 0;
    if (e)
        return e;
    if (timed && uts && deadline == 0)
        deadline = 1;
    struct futex_key k;
    struct vmo *ref;
    int r = futex_key_of(uaddr, private, &k, &ref);
    if (!r && cmd == FUTEX_UNLOCK_PI)
        r = futex_unlock_pi(&k, uaddr);
    else if (!r)
        r = futex_lock_pi(&k, uaddr, private, cmd == FUTEX_TRYLOCK_PI,
                          deadline);
    if (ref)
        object_unref(&ref->obj);
    return pi_errno(r);
}

static int64_t lx_futex(uint64_t uaddr, uint64_t op, uint64_t val,
                        uint64_t uts, uint64_t uaddr2, uint64_t val3)
{
    int cmd = (int)(op & FUTEX_CMD_MASK);
    bool private = op & FUTEX_PRIVATE_FLAG;
    bool requeue = cmd == FUTEX_REQUEUE || cmd == FUTEX_CMP_REQUEUE;
    if (cmd != FUTEX_WAIT && cmd != FUTEX_WAKE && cmd != FUTEX_WAIT_BITSET &&
        cmd != FUTEX_WAKE_BITSET && !requeue)
        return futex_is_pi(cmd) ? lx_futex_pi(cmd, uaddr, private, uts)
                                : -LX_ENOSYS;
    uint64_t deadline;
    int64_t e = futex_deadline(cmd, uts, &deadline);
    if (e)
        return e;
    struct futex_key k, k2 = { 0, 0 };
    struct vmo *ref = NULL, *ref2 = NULL;
    int r = futex_key_of(uaddr, private, &k, &ref);
    if (!r && requeue)
        r = futex_key_of(uaddr2, private, &k2, &ref2);
    if (!r)
        r = futex_op(cmd, &k, uaddr, val, deadline, uts, &k2, val3);
    if (ref)
        object_unref(&ref->obj);
    if (ref2)
        object_unref(&ref2->obj);
    if (r == ERR_SHOULD_WAIT)
        return -LX_EAGAIN;
    if (r == ERR_CANCELED)
        return -LX_EINTR;
    return r < 0 ? err(r) : r;
}

/* A thread's exit wakes its child-tid word both ways: musl waits on it
 * as a private futex, other code may wait on it shared. */
void linux_clear_child_tid_wake(struct aspace *as, uint64_t uaddr)
{
    struct futex_key k = { as, uaddr };
    futex_wake(&k, 1, ~0u);
    struct vmo *v;
    uint64_t off;
    if (aspace_vmo_at(as, uaddr, &v, &off) == 0) {
        struct futex_key ks = { v, off };
        futex_wake(&ks, 1, ~0u);
        object_unref(&v->obj);
    }
}

/* Without a personality server a process has no signals: every mask is
 * empty, and blocking them is vacuously done. */
static int64_t lx_sigprocmask(uint64_t uold, uint64_t size)
{
    uint64_t empty = 0;
    if (size != 8)
        return -LX_EINVAL;
    if (uold && copy_to_user(uold, &empty, 8))
        return -LX_EFAULT;
    return 0;
}

#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_KNOWN (MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | 0x4000 /* NORESERVE */)

static uint32_t vm_prot(uint64_t prot)
{
    return ((prot & PROT_READ) ? VM_READ : 0) |
           ((prot & PROT_WRITE) ? VM_WRITE : 0) |
           ((prot & PROT_EXEC) ? VM_EXEC : 0);
}

int64_t linux_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags,
                   uint64_t fd, uint64_t off)
{
    if (!(flags & MAP_ANONYMOUS) || !(flags & MAP_PRIVATE) ||
        (flags & ~MAP_KNOWN) || (int64_t)fd != -1)
        return -LX_ENOSYS;              /* files and sharing: the server */
    if (len == 0 || off || (addr & PAGE_MASK) || (prot & ~7ull) ||
        len > USER_TOP)
        return -LX_EINVAL;
    struct process *p = process_current();
    struct vmo *v;
    int r = vmo_create(ALIGN_UP(len, PAGE_SIZE), &p->acct, &v);
    if (r)
        return r == ERR_OUT_OF_RANGE ? -LX_ENOMEM : err(r);
    vaddr_t got;
    uint32_t f = vm_prot(prot) | VM_MAX_RWX |
                 ((flags & MAP_FIXED) ? VM_FIXED | VM_REPLACE : 0);
    r = aspace_map(p->aspace, v, 0, v->size, addr, f, &got);
    object_unref(&v->obj);
    return r ? err(r) : (int64_t)got;
}

int64_t linux_munmap(uint64_t addr, uint64_t len)
{
    int r = aspace_unmap(process_current()->aspace, addr,
                         ALIGN_UP(len, PAGE_SIZE));
    return r == ERR_OUT_OF_RANGE || r == ERR_INVALID_ARGS ? -LX_EINVAL : err(r);
}

int64_t linux_mprotect(uint64_t addr, uint64_t len, uint64_t prot)
{
    if (prot & ~7ull)
        return -LX_EINVAL;
    int r = aspace_protect(process_current()->aspace, addr,
                           ALIGN_UP(len, PAGE_SIZE), vm_prot(prot));
    return r == ERR_NOT_FOUND ? -LX_ENOMEM : err(r);
}

/* sched_setaffinity(tid, len, mask): tid 0 is the caller, any other a
 * thread of the caller's process.  The mask's first 64 bits count (bit
 * n: CPU n); a shorter one is zero-extended, as Linux does. */
static int64_t lx_sched_setaffinity(uint64_t tid, uint64_t len,
                                    uint64_t umask)
{
    uint64_t mask = 0;
    if (copy_from_user(&mask, umask, MIN(len, sizeof(mask))))
        return -LX_EFAULT;
    struct thread *t = thread_current();
    if ((int32_t)tid != 0)
        t = process_thread_by_tid(process_current(), (uint32_t)tid);
    else
        object_ref(&t->obj);
    if (!t)
        return -LX_ESRCH;
    int r = sched_set_affinity(t, mask);
    object_unref(&t->obj);
    return r ? err(r) : 0;
}

#define CLONE_VM 0x100
#define CLONE_THREAD 0x10000
#define CLONE_SETTLS 0x80000
#define CLONE_PARENT_SETTID 0x100000
#define CLONE_CHILD_CLEARTID 0x200000

/* clone(flags, newsp, parent_tid, child_tid, tls): a thread of this
 * process; processes (fork) belong to the personality server. */
int64_t linux_clone(struct trap_frame *tf)
{
    uint64_t flags = tf->rdi, sp = tf->rsi, ptid = tf->rdx;
    uint64_t ctid = tf->r10, tls = tf->r8;
    if ((flags & (CLONE_VM | CLONE_THREAD)) != (CLONE_VM | CLONE_THREAD))
        return -LX_ENOSYS;
    if (sp >= USER_TOP || ((flags & CLONE_SETTLS) && tls >= USER_TOP))
        return -LX_EINVAL;
    struct process *p = process_current();
    struct thread *t;
    int r = process_thread_create(p, thread_current()->name, &t);
    if (r)
        return err(r);
    uint32_t tid = t->tid;
    if ((flags & CLONE_PARENT_SETTID) && copy_to_user(ptid, &tid, 4)) {
        process_thread_abandon(t);
        return -LX_EFAULT;
    }
    if (flags & CLONE_CHILD_CLEARTID)
        t->clear_child_tid = ctid;
    t->arch.fs_base = (flags & CLONE_SETTLS) ? tls : thread_current()->arch.fs_base;
    sched_set_affinity(t, thread_current()->affinity);    /* as Linux */
    r = process_thread_start_clone(t, tf, sp);
    object_unref(&t->obj);
    return r ? err(r) : (int64_t)tid;
}

int64_t linux_syscall(struct trap_frame *tf)
{
    uint64_t a0 = tf->rdi, a1 = tf->rsi, a2 = tf->rdx, a3 = tf->r10;
    uint64_t a4 = tf->r8, a5 = tf->r9;
    switch (tf->rax) {
    case LX_read:           return lx_read(a0, a1, a2);
    case LX_readv:          return lx_readv(a0, a1, a2);
    case LX_write:          return lx_write(a0, a1, a2);
    case LX_writev:         return lx_writev(a0, a1, a2);
    case LX_ioctl:          return lx_ioctl(a0, a1, a2);
    case LX_exit:           return lx_exit_thread((int)a0);
    case LX_exit_group:     return lx_exit_group((int)a0);
    case LX_arch_prctl:     return lx_arch_prctl(a0, a1);
    case LX_gettid:         return thread_current()->tid;
    case LX_getpid:         return process_current()->pid;
    case LX_set_tid_address:
        thread_current()->clear_child_tid = a0;
        return thread_current()->tid;
    case LX_sched_yield:    sched_yield(); return 0;
    case LX_sched_setaffinity:
        return lx_sched_setaffinity(a0, a1, a2);
    case LX_clock_gettime:  return lx_clock_gettime(a0, a1);
    case LX_nanosleep:      return sleep_for(a0, false);
    case LX_clock_nanosleep:
        return sleep_for(a2, a1 & 1);
    case LX_futex:          return lx_futex(a0, a1, a2, a3, a4, a5);
    case LX_brk:            return 0;       /* no growth: musl uses mmap */
    case LX_mmap:           return linux_mmap(a0, a1, a2, a3, a4, a5);
    case LX_munmap:         return linux_munmap(a0, a1);
    case LX_mprotect:       return linux_mprotect(a0, a1, a2);
    case LX_clone:          return linux_clone(tf);
    case LX_rt_sigprocmask: return lx_sigprocmask(a2, a3);
    default:                return -LX_ENOSYS;
    }
}
