/*
 * test_abi_errors.c - every error of every native system call, once.
 *
 * docs/abi/syscalls.md lists, per call, each status it can return and
 * when; each test abi_<call>_errors here makes the call fail in each of
 * those ways and checks the exact status (test_syscalls.c and
 * test_process.c cover a few more cases).  ERR_NO_MEMORY comes from
 * debug_fail_inject with every allocation failing; while it is on,
 * nothing here touches memory it has not touched before, since a
 * demand-zero fault inside a system call would fail too.  Errors that
 * need another process (a caller without the log capability, a dead
 * process) use children running a few bytes of machine code.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mica.h"
#include "testchild.h"
#include "utest.h"

#define KERNEL_PTR   ((void *)0xFFFFFFFF80100000ull)
#define UNMAPPED_PTR ((void *)0x10000000000ull)
#define PAST_TOP     0x00007FFFFFFFF000ull      /* the end of user space */
#define MAX_HANDLES  4096                       /* a process's table */

#define LX_ENOSYS 38

/* --- children, handles and pages the tests share ------------------------ */

static const uint8_t code_spin[] = { 0xeb, 0xfe };
/* exit_group(0) */
static const uint8_t code_exit0[] = { 0xb8, 0xe7, 0, 0, 0, 0x31, 0xff,
                                      0x0f, 0x05, 0x0f, 0x0b };

static int spawn(const uint8_t *code, size_t len, mica_handle_t *proc,
                 mica_handle_t *thread)
{
    return child_spawn(code, len, 0, proc, thread);
}

static int dead_process(mica_handle_t *p)
{
    int err = spawn(code_exit0, sizeof(code_exit0), p, NULL);
    if (!err)
        err = mica_object_wait_one(*p, SIGNAL_TERMINATED, 0, NULL);
    return err;
}

/* Run one system call (number, three 32-bit arguments) in a child that
 * holds no capability, and return the status it got: the child exits
 * with it.  CHILD_CODE is a readable address inside the child. */
static int run_in_child(uint32_t num, uint32_t a0, uint32_t a1, uint32_t a2,
                        int *status)
{
    uint8_t code[64];
    size_t n = 0;
    uint32_t args[4] = { num, a0, a1, a2 };
    static const uint8_t movs[4] = { 0xb8, 0xbf, 0xbe, 0xba };
    for (int i = 0; i < 4; i++) {           /* mov $imm32, eax/edi/esi/edx */
        code[n++] = movs[i];
        memcpy(code + n, &args[i], 4);
        n += 4;
    }
    static const uint8_t tail[] = { 0x0f, 0x05,             /* syscall */
                                    0x89, 0xc7,             /* mov eax,edi */
                                    0xb8, 0xe7, 0, 0, 0,    /* exit_group */
                                    0x0f, 0x05, 0x0f, 0x0b };
    memcpy(code + n, tail, sizeof(tail));
    n += sizeof(tail);
    mica_handle_t p;
    int err = spawn(code, n, &p, NULL);
    struct mica_process_info info;
    if (!err)
        err = mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    if (!err)
        err = mica_process_info(p, &info);
    if (!err)
        *status = info.exit_code;
    mica_handle_close(p);
    return err;
}

/* A handle value that named a vmo and was closed. */
static mica_handle_t stale_handle(void)
{
    mica_handle_t v = 0;
    mica_vmo_create(4096, &v);
    mica_handle_close(v);
    return v;
}

/* A copy of h with only `rights`. */
static mica_handle_t with_rights(mica_handle_t h, mica_rights_t rights)
{
    mica_handle_t d = 0;
    mica_handle_duplicate(h, rights, &d);
    return d;
}

/* A page mapped read-only into this process, its first 8 bytes `val`:
 * readable by the kernel, but a fault for anything it writes back. */
static uint64_t ro_page(uint64_t val, mica_handle_t *vmo)
{
    uint64_t addr = 0;
    if (mica_vmo_create(4096, vmo) || mica_vmo_write(*vmo, &val, 0, 8) ||
        mica_vm_map(mica_process_self(), *vmo, 0, 4096, MICA_VM_READ, &addr))
        return 0;
    return addr;
}

static void ro_page_free(uint64_t addr, mica_handle_t vmo)
{
    mica_vm_unmap(mica_process_self(), addr, 4096);
    mica_handle_close(vmo);
}

/* An address with nothing mapped, at the moment. */
static uint64_t free_address(void)
{
    mica_handle_t v;
    uint64_t addr = 0;
    if (mica_vmo_create(4096, &v))
        return 0;
    mica_vm_map(mica_process_self(), v, 0, 4096, MICA_VM_READ, &addr);
    mica_vm_unmap(mica_process_self(), addr, 4096);
    mica_handle_close(v);
    return addr;
}

/* Every kernel allocation in this process's system calls fails. */
static int inject_on(void)
{
    return mica_debug_fail_inject(1, 1);
}

static void inject_off(void)
{
    mica_debug_fail_inject(0, 0);
}

/* Fill the handle table with duplicates of h; returns how many.  The
 * table never shrinks, so growth can fail only until it first fills: the
 * first fill here checks that a duplicate needing a bigger table fails
 * with ERR_NO_MEMORY when no memory is left, and keeps the answer. */
static mica_handle_t fill[MAX_HANDLES + 8];
static int grow_status = 1;                 /* 1: not checked yet */

static int fill_until_error(mica_handle_t h, int *status);

static void check_growth(mica_handle_t h)
{
    int n;
    if (grow_status != 1)
        return;
    memset(fill, 0, sizeof(fill));          /* touched before injection */
    if (inject_on() != OK) {
        grow_status = ERR_INTERNAL;
        return;
    }
    n = fill_until_error(h, &grow_status);
    inject_off();
    while (n-- > 0)
        mica_handle_close(fill[n]);
}

static int fill_table(mica_handle_t h, int *status)
{
    check_growth(h);
    return fill_until_error(h, status);
}

static int fill_until_error(mica_handle_t h, int *status)
{
    int n = 0;
    while (n < MAX_HANDLES + 8) {
        int r = mica_handle_duplicate(h, RIGHT_SAME_RIGHTS, &fill[n]);
        if (r != OK) {
            *status = r;
            return n;
        }
        n++;
    }
    *status = OK;
    return n;
}

static void drain_table(int n)
{
    while (n-- > 0)
        mica_handle_close(fill[n]);
}

static long lx(long n, long a, long b, long c, long d, long e, long f)
{
    return mica_syscall6(n, a, b, c, d, e, f);
}

/* --- dispatch --------------------------------------------------------- */

UTEST(abi_syscall_number_errors)
{
    UEXPECT(MICA_CALL(0x100F, 0, 0, 0, 0, 0, 0) == ERR_BAD_SYSCALL); /* hole */
    UEXPECT(MICA_CALL(0x1100, 0, 0, 0, 0, 0, 0) == ERR_BAD_SYSCALL);
    UEXPECT(mica_syscall6(-1L, 0, 0, 0, 0, 0, 0) == ERR_BAD_SYSCALL);
    UEXPECT(lx(0xFFF, 0, 0, 0, 0, 0, 0) == -LX_ENOSYS);
}

/* --- handles and signals ---------------------------------------------- */

UTEST(abi_debug_write_errors)
{
    int st = 0;
    UEXPECT(mica_debug_write(UNMAPPED_PTR, 8) == ERR_FAULT);
    UEXPECT(mica_debug_write(NULL, 8) == ERR_FAULT);
    UEXPECT(mica_debug_write("x", 4097) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_debug_write(KERNEL_PTR, 0) == OK);    /* nothing to read */
    UASSERT(run_in_child(MICA_SYS_debug_write, (uint32_t)CHILD_CODE, 1, 0,
                         &st) == OK);
    UEXPECT(st == ERR_ACCESS_DENIED);                   /* no log capability */
}

UTEST(abi_debug_read_errors)
{
    int st = 0;
    uint64_t pos = 0, got = 7, end;
    char buf[64];
    UEXPECT(mica_debug_read(&pos, buf, 4097, &got) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_debug_read(KERNEL_PTR, buf, 8, &got) == ERR_FAULT);
    UEXPECT(mica_debug_read(UNMAPPED_PTR, buf, 8, &got) == ERR_FAULT);
    UEXPECT(mica_debug_read(&pos, buf, 8, KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_debug_read(&pos, KERNEL_PTR, 8, &got) == ERR_FAULT);
    UEXPECT(mica_debug_read(&pos, UNMAPPED_PTR, 8, &got) == ERR_FAULT);
    /* past the end: the end, and nothing read */
    pos = UINT64_MAX;
    UEXPECT(mica_debug_read(&pos, NULL, 0, &got) == OK && got == 0);
    end = pos;
    UEXPECT(end > 0 && end != UINT64_MAX);
    static const char mark[] = "abi_debug_read_errors: this line\n";
    const uint64_t n = sizeof(mark) - 1;
    UEXPECT(mica_debug_write(mark, n) == OK);
    pos = end;
    UEXPECT(mica_debug_read(&pos, buf, sizeof(buf), &got) == OK);
    UEXPECT(got >= n && memcmp(buf, mark, n) == 0 && pos == end + got);
    /* long overwritten or not: from the oldest byte kept */
    pos = 0;
    UEXPECT(mica_debug_read(&pos, buf, 8, &got) == OK);
    UEXPECT(got == 8 && pos >= 8 && pos <= end);
    UASSERT(run_in_child(MICA_SYS_debug_read, (uint32_t)CHILD_CODE, 0, 0,
                         &st) == OK);
    UEXPECT(st == ERR_ACCESS_DENIED);                   /* no log capability */
}

UTEST(abi_handle_close_errors)
{
    mica_handle_t v;
    UEXPECT(mica_handle_close(stale_handle()) == ERR_BAD_HANDLE);
    UEXPECT(mica_handle_close(0) == ERR_BAD_HANDLE);
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_handle_close(v + 0x1000) == ERR_BAD_HANDLE); /* other gen */
    UEXPECT(mica_handle_close(v) == OK);
    UEXPECT(mica_handle_close(v) == ERR_BAD_HANDLE);
}

UTEST(abi_handle_info)
{
    mica_handle_t v, ro;
    struct mica_handle_info info;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_handle_info(v, &info) == OK && info.type == OBJ_VMO);
    ro = with_rights(v, RIGHT_READ | RIGHT_TRANSFER);
    UEXPECT(mica_handle_info(ro, &info) == OK && info.type == OBJ_VMO &&
            info.rights == (RIGHT_READ | RIGHT_TRANSFER));
    UEXPECT(mica_handle_info(ro, KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_handle_info(ro, UNMAPPED_PTR) == ERR_FAULT);
    UEXPECT(mica_handle_info(stale_handle(), &info) == ERR_BAD_HANDLE);
    UEXPECT(mica_handle_info(0, &info) == ERR_BAD_HANDLE);
    mica_handle_close(ro);
    mica_handle_close(v);
}

UTEST(abi_handle_duplicate_errors)
{
    mica_handle_t v, d = 0, nodup, stale = stale_handle();
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_handle_duplicate(v, RIGHT_SAME_RIGHTS, KERNEL_PTR) ==
            ERR_FAULT);
    UEXPECT(mica_handle_duplicate(v, RIGHT_SAME_RIGHTS, UNMAPPED_PTR) ==
            ERR_FAULT);
    mica_handle_t ro_vmo;
    uint64_t ro = ro_page(0, &ro_vmo);
    UASSERT(ro != 0);
    UEXPECT(mica_handle_duplicate(v, RIGHT_SAME_RIGHTS, (void *)ro) ==
            ERR_FAULT);
    ro_page_free(ro, ro_vmo);
    UEXPECT(mica_handle_duplicate(stale, RIGHT_SAME_RIGHTS, &d) ==
            ERR_BAD_HANDLE);
    nodup = with_rights(v, RIGHT_READ | RIGHT_WAIT);
    UEXPECT(mica_handle_duplicate(nodup, RIGHT_READ, &d) == ERR_ACCESS_DENIED);
    UEXPECT(mica_handle_duplicate(v, 0x200, &d) == ERR_INVALID_ARGS);
    UEXPECT(mica_handle_duplicate(v, RIGHT_SAME_RIGHTS | RIGHT_READ, &d) ==
            ERR_INVALID_ARGS);

    /* no memory to grow the table, then no room left in it */
    int st = OK, n = fill_table(v, &st);
    UEXPECT(grow_status == ERR_NO_MEMORY);
    UEXPECT(st == ERR_NO_RESOURCES);
    /* errors about the handle come first even then */
    UEXPECT(mica_handle_duplicate(stale, RIGHT_SAME_RIGHTS, &d) ==
            ERR_BAD_HANDLE);
    UEXPECT(mica_handle_duplicate(nodup, RIGHT_READ, &d) ==
            ERR_ACCESS_DENIED);
    drain_table(n);
    mica_handle_close(nodup);
    mica_handle_close(v);
}

UTEST(abi_handle_replace_errors)
{
    mica_handle_t v, n = 0;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_handle_replace(v, RIGHT_SAME_RIGHTS, KERNEL_PTR) ==
            ERR_FAULT);
    uint64_t size;
    UEXPECT(mica_vmo_get_size(v, &size) == OK);         /* v still there */
    UEXPECT(mica_handle_replace(stale_handle(), RIGHT_SAME_RIGHTS, &n) ==
            ERR_BAD_HANDLE);
    mica_handle_t r = with_rights(v, RIGHT_READ);
    UEXPECT(mica_handle_replace(r, RIGHT_READ | RIGHT_WRITE, &n) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_handle_replace(r, 0x400, &n) == ERR_INVALID_ARGS);
    /* no right needed: a handle without DUPLICATE can still be replaced */
    UEXPECT(mica_handle_replace(r, 0, &n) == OK);
    UEXPECT(mica_handle_close(n) == OK);
    /* a write-back fault after the replacement: the old handle is gone */
    mica_handle_t ro_vmo;
    uint64_t ro = ro_page(0, &ro_vmo);
    UASSERT(ro != 0);
    mica_handle_t w = with_rights(v, RIGHT_READ);
    UEXPECT(mica_handle_replace(w, RIGHT_SAME_RIGHTS, (void *)ro) ==
            ERR_FAULT);
    UEXPECT(mica_handle_close(w) == ERR_BAD_HANDLE);
    ro_page_free(ro, ro_vmo);
    mica_handle_close(v);
}

UTEST(abi_handle_transfer_errors)
{
    mica_handle_t self = mica_process_self(), v, h, t, own, weak, p, pt;
    mica_handle_t n = 0, stale = stale_handle(), ro_vmo;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(mica_thread_create_flags(self, "own", 3, &own,
                                     MICA_THREAD_OWN_HANDLES) == OK);
    UASSERT(mica_thread_create(self, "t", 1, &t) == OK);
    h = with_rights(v, RIGHT_READ | RIGHT_TRANSFER | RIGHT_DUPLICATE);
    UEXPECT(mica_handle_transfer(h, t, RIGHT_SAME_RIGHTS, KERNEL_PTR) ==
            ERR_FAULT);
    UEXPECT(mica_handle_transfer(stale, t, RIGHT_SAME_RIGHTS, &n) ==
            ERR_BAD_HANDLE);
    weak = with_rights(v, RIGHT_READ);
    UEXPECT(mica_handle_transfer(weak, t, RIGHT_SAME_RIGHTS, &n) ==
            ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    UEXPECT(mica_handle_transfer(h, t, RIGHT_READ | RIGHT_WRITE, &n) ==
            ERR_INVALID_ARGS);
    UEXPECT(MICA_CALL(MICA_SYS_handle_transfer, h, t, 1ull << 32, &n, 0, 0) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_handle_transfer(h, stale, RIGHT_SAME_RIGHTS, &n) ==
            ERR_BAD_HANDLE);
    UEXPECT(mica_handle_transfer(h, v, RIGHT_SAME_RIGHTS, &n) ==
            ERR_WRONG_TYPE);
    weak = with_rights(t, RIGHTS_BASIC | RIGHTS_IO);
    UEXPECT(mica_handle_transfer(h, weak, RIGHT_SAME_RIGHTS, &n) ==
            ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    /* a thread that has ended has no table any more */
    UASSERT(spawn(code_exit0, sizeof(code_exit0), &p, &pt) == OK);
    UEXPECT(mica_object_wait_one(pt, SIGNAL_TERMINATED, 0, NULL) == OK);
    UEXPECT(mica_handle_transfer(h, pt, RIGHT_SAME_RIGHTS, &n) ==
            ERR_BAD_STATE);
    mica_handle_close(pt);
    mica_handle_close(p);
    /* moved, but the new value cannot be written back */
    uint64_t ro = ro_page(0, &ro_vmo);
    UASSERT(ro != 0);
    mica_handle_t h2 = with_rights(h, RIGHT_SAME_RIGHTS);
    UEXPECT(mica_handle_transfer(h2, t, RIGHT_SAME_RIGHTS, (void *)ro) ==
            ERR_FAULT);
    UEXPECT(mica_handle_close(h2) == ERR_BAD_HANDLE);
    ro_page_free(ro, ro_vmo);
    /* the receiving table cannot grow: the handle is closed */
    h2 = with_rights(h, RIGHT_SAME_RIGHTS);
    UASSERT(inject_on() == OK);
    int r = mica_handle_transfer(h2, own, RIGHT_SAME_RIGHTS, &n);
    inject_off();
    UEXPECT(r == ERR_NO_MEMORY);
    UEXPECT(mica_handle_close(h2) == ERR_BAD_HANDLE);
    /* the receiving table is full */
    int st = OK, moved = 0, k;
    r = OK;
    while (r == OK && moved < 2 * MAX_HANDLES) {
        k = fill_table(h, &st);
        for (int i = 0; i < k && r == OK; i++) {
            r = mica_handle_transfer(fill[i], own, RIGHT_SAME_RIGHTS, &n);
            moved += r == OK;
            fill[i] = r == OK || r == ERR_NO_RESOURCES ? 0 : fill[i];
        }
        for (int i = 0; i < k; i++)
            if (fill[i])
                mica_handle_close(fill[i]);
    }
    UEXPECT(r == ERR_NO_RESOURCES && moved == MAX_HANDLES);
    mica_handle_close(own);
    mica_handle_close(t);
    mica_handle_close(h);
    mica_handle_close(v);
}

UTEST(abi_object_wait_one_errors)
{
    mica_handle_t v, nowait;
    mica_signals_t seen = 0xdead;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_object_wait_one(v, SIGNAL_USER0, 1, KERNEL_PTR) ==
            ERR_FAULT);
    UEXPECT(mica_object_wait_one(stale_handle(), SIGNAL_USER0, 1, &seen) ==
            ERR_BAD_HANDLE);
    nowait = with_rights(v, RIGHT_READ);
    UEXPECT(mica_object_wait_one(nowait, SIGNAL_USER0, 1, &seen) ==
            ERR_ACCESS_DENIED);
    /* deadline already passed; observed still written */
    UEXPECT(mica_object_wait_one(v, SIGNAL_USER0, 1, &seen) == ERR_TIMED_OUT);
    UEXPECT(seen == 0);
    uint64_t now;
    mica_clock_get(&now);
    UEXPECT(mica_object_wait_one(v, SIGNAL_USER0, now + 2000000, NULL) ==
            ERR_TIMED_OUT);
    /* observed unwritable after the wait: the wait happened, then FAULT */
    mica_handle_t ro_vmo, dead;
    uint64_t ro = ro_page(0, &ro_vmo);
    UASSERT(ro != 0);
    UASSERT(dead_process(&dead) == OK);
    UEXPECT(mica_object_wait_one(dead, SIGNAL_TERMINATED, 0,
                                 (mica_signals_t *)ro) == ERR_FAULT);
    ro_page_free(ro, ro_vmo);
    mica_handle_close(dead);
    mica_handle_close(nowait);
    mica_handle_close(v);
}

UTEST(abi_object_signal_errors)
{
    mica_handle_t v;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_object_signal(v, 0, SIGNAL_READABLE) == ERR_INVALID_ARGS);
    UEXPECT(mica_object_signal(v, SIGNAL_TERMINATED, 0) == ERR_INVALID_ARGS);
    /* bits 32-63 are not looked at: the signals are 32 bits */
    UEXPECT(MICA_CALL(MICA_SYS_object_signal, v, 0, 1ull << 32, 0, 0, 0) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_object_signal(stale_handle(), 0, SIGNAL_USER0) ==
            ERR_BAD_HANDLE);
    /* only events are created with RIGHT_SIGNAL (test_events.c), and
     * rights never grow */
    UEXPECT(mica_object_signal(v, 0, SIGNAL_USER0) == ERR_ACCESS_DENIED);
    UEXPECT(mica_object_signal(mica_process_self(), SIGNAL_USER0, 0) ==
            ERR_ACCESS_DENIED);
    mica_handle_close(v);
}

/* --- processes -------------------------------------------------------- */

UTEST(abi_process_create_errors)
{
    mica_handle_t p = 0, ro_vmo;
    struct mica_system_info before, after;
    UEXPECT(mica_process_create("0123456789abcdef0123456789abcdef", 32, &p) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(mica_process_create(KERNEL_PTR, 4, &p) == ERR_FAULT);
    UEXPECT(mica_process_create(UNMAPPED_PTR, 4, &p) == ERR_FAULT);
    UASSERT(mica_system_info(&before) == OK);
    UEXPECT(mica_process_create("p", 1, KERNEL_PTR) == ERR_FAULT);
    uint64_t ro = ro_page(0, &ro_vmo);
    UASSERT(ro != 0);
    UEXPECT(mica_process_create("p", 1, (void *)ro) == ERR_FAULT);
    ro_page_free(ro, ro_vmo);
    UASSERT(mica_system_info(&after) == OK);
    UEXPECT(after.live_processes == before.live_processes);  /* none kept */
    UASSERT(inject_on() == OK);
    int r = mica_process_create("p", 1, &p);
    inject_off();
    UEXPECT(r == ERR_NO_MEMORY);
    int st, n = fill_table(mica_process_self(), &st);
    r = mica_process_create("p", 1, &p);
    drain_table(n);
    UEXPECT(st == ERR_NO_RESOURCES && r == ERR_NO_RESOURCES);
}

UTEST(abi_process_kill_errors)
{
    mica_handle_t v, p, nomanage;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_process_kill(stale_handle(), 0) == ERR_BAD_HANDLE);
    UEXPECT(mica_process_kill(v, 0) == ERR_WRONG_TYPE);
    UASSERT(mica_process_create("k", 1, &p) == OK);
    nomanage = with_rights(p, RIGHTS_BASIC | RIGHTS_IO);
    UEXPECT(mica_process_kill(nomanage, 0) == ERR_ACCESS_DENIED);
    UEXPECT(mica_process_kill(p, 0) == OK);
    UEXPECT(mica_process_kill(p, 0) == OK);             /* again: no error */
    mica_handle_close(nomanage);
    mica_handle_close(p);
    mica_handle_close(v);
}

static int write_mode;

static int pcall(mica_handle_t h, uint64_t addr, void *buf, size_t len)
{
    return write_mode ? mica_process_write_memory(h, addr, buf, len)
                      : mica_process_read_memory(h, addr, buf, len);
}

static void memory_errors(int write)
{
    write_mode = write;
    mica_handle_t self = mica_process_self(), v, weak, dead;
    static uint64_t word = 1;
    uint64_t buf[2] = { 1, 2 };
    UASSERT(mica_vmo_create(2 * 4096, &v) == OK);
    uint64_t at = (uint64_t)&word;
    UEXPECT(pcall(self, at, buf, (1u << 24) + 1) == ERR_OUT_OF_RANGE);
    UEXPECT(pcall(self, at, KERNEL_PTR, 8) == ERR_FAULT);
    UEXPECT(pcall(self, at, UNMAPPED_PTR, 8) == ERR_FAULT);
    UEXPECT(pcall(self, (uint64_t)UNMAPPED_PTR, buf, 8) == ERR_FAULT);
    UEXPECT(pcall(self, 0x1000, buf, 8) == ERR_FAULT);   /* below user space */
    UEXPECT(pcall(self, PAST_TOP - 4, buf, 8) == ERR_FAULT);
    UEXPECT(pcall(self, (uint64_t)KERNEL_PTR, buf, 8) == ERR_FAULT);
    UEXPECT(pcall(stale_handle(), at, buf, 8) == ERR_BAD_HANDLE);
    UEXPECT(pcall(v, at, buf, 8) == ERR_WRONG_TYPE);
    weak = with_rights(self, RIGHTS_BASIC | (write ? RIGHT_READ : RIGHT_WRITE));
    UEXPECT(pcall(weak, at, buf, 8) == ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    /* the page's protection: no access (and read-only, for writes) */
    uint64_t addr = 0;
    UASSERT(mica_vm_map(self, v, 0, 2 * 4096, write ? MICA_VM_READ : 0,
                        &addr) == OK);
    UEXPECT(pcall(self, addr, buf, 8) == ERR_ACCESS_DENIED);
    mica_vm_unmap(self, addr, 2 * 4096);
    /* a page the call must allocate, with no memory to do it */
    UASSERT(mica_vm_map(self, v, 0, 2 * 4096, MICA_VM_READ | MICA_VM_WRITE,
                        &addr) == OK);
    buf[0] = 3;
    UASSERT(inject_on() == OK);
    int r = pcall(self, addr + 4096, buf, 8);
    inject_off();
    UEXPECT(r == ERR_NO_MEMORY);
    mica_vm_unmap(self, addr, 2 * 4096);
    UASSERT(dead_process(&dead) == OK);
    UEXPECT(pcall(dead, CHILD_CODE, buf, 8) == ERR_BAD_STATE);
    UEXPECT(pcall(dead, CHILD_CODE, buf, 0) == ERR_BAD_STATE);
    mica_handle_close(dead);
    mica_handle_close(v);
}

UTEST(abi_process_read_memory_errors)
{
    memory_errors(0);
}

UTEST(abi_process_write_memory_errors)
{
    memory_errors(1);
}

UTEST(abi_process_info_errors)
{
    mica_handle_t self = mica_process_self(), v, weak;
    struct mica_process_info info;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_process_info(stale_handle(), &info) == ERR_BAD_HANDLE);
    UEXPECT(mica_process_info(v, &info) == ERR_WRONG_TYPE);
    weak = with_rights(self, RIGHTS_BASIC);
    UEXPECT(mica_process_info(weak, &info) == ERR_ACCESS_DENIED);
    UEXPECT(mica_process_info(self, KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_process_info(self, UNMAPPED_PTR) == ERR_FAULT);
    mica_handle_close(weak);
    mica_handle_close(v);
}

/* --- threads ---------------------------------------------------------- */

UTEST(abi_thread_create_errors)
{
    mica_handle_t p, t = 0, v, weak, dead;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(mica_process_create("tc", 2, &p) == OK);
    UEXPECT(mica_thread_create(p, "0123456789abcdef0123456789abcdef", 32,
                               &t) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_thread_create(p, KERNEL_PTR, 4, &t) == ERR_FAULT);
    UEXPECT(mica_thread_create_flags(p, "t", 1, &t, 2) == ERR_INVALID_ARGS);
    UEXPECT(MICA_CALL(MICA_SYS_thread_create, p, "t", 1, &t, 1ull << 32, 0) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_thread_create(p, "t", 1, KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_thread_create(p, "t", 1, UNMAPPED_PTR) == ERR_FAULT);
    UEXPECT(mica_thread_create(stale_handle(), "t", 1, &t) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_create(v, "t", 1, &t) == ERR_WRONG_TYPE);
    weak = with_rights(p, RIGHTS_BASIC | RIGHTS_IO);
    UEXPECT(mica_thread_create(weak, "t", 1, &t) == ERR_ACCESS_DENIED);
    UASSERT(inject_on() == OK);
    int r = mica_thread_create(p, "t", 1, &t);
    inject_off();
    UEXPECT(r == ERR_NO_MEMORY);
    int st, n = fill_table(v, &st);
    r = mica_thread_create(p, "t", 1, &t);
    drain_table(n);
    if (st != ERR_NO_RESOURCES || r != ERR_NO_RESOURCES)
        printf("    # fill %d: st %d r %d\n", n, st, r);
    UEXPECT(st == ERR_NO_RESOURCES && r == ERR_NO_RESOURCES);
    UASSERT(dead_process(&dead) == OK);
    UEXPECT(mica_thread_create(dead, "t", 1, &t) == ERR_BAD_STATE);
    UEXPECT(mica_process_kill(p, 0) == OK);             /* dying, no threads */
    UEXPECT(mica_thread_create(p, "t", 1, &t) == ERR_BAD_STATE);
    mica_handle_close(dead);
    mica_handle_close(weak);
    mica_handle_close(p);
    mica_handle_close(v);
}

UTEST(abi_thread_start_errors)
{
    mica_handle_t p, t, t2, v, weak;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(spawn(code_spin, sizeof(code_spin), &p, &t) == OK);
    UEXPECT(mica_thread_start(stale_handle(), CHILD_CODE, CHILD_STACK, 0, 0) ==
            ERR_BAD_HANDLE);
    UEXPECT(mica_thread_start(v, CHILD_CODE, CHILD_STACK, 0, 0) ==
            ERR_WRONG_TYPE);
    weak = with_rights(t, RIGHTS_BASIC | RIGHTS_IO);
    UEXPECT(mica_thread_start(weak, CHILD_CODE, CHILD_STACK, 0, 0) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_start(t, CHILD_CODE, CHILD_STACK, 0, 0) ==
            ERR_BAD_STATE);                              /* started already */
    UASSERT(mica_thread_create(p, "t2", 2, &t2) == OK);
    UEXPECT(mica_thread_start(t2, PAST_TOP, CHILD_STACK, 0, 0) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_thread_start(t2, (uint64_t)KERNEL_PTR, CHILD_STACK, 0, 0) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_thread_start(t2, CHILD_CODE, PAST_TOP, 0, 0) ==
            ERR_INVALID_ARGS);
    /* killed before it started: it has ended, and cannot start */
    UEXPECT(mica_thread_kill(t2) == OK);
    uint64_t now;
    mica_clock_get(&now);
    mica_nanosleep(now + 20000000);
    UEXPECT(mica_thread_start(t2, CHILD_CODE, CHILD_STACK, 0, 0) ==
            ERR_BAD_STATE);
    mica_process_kill(p, 0);
    mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(weak);
    mica_handle_close(t2);
    mica_handle_close(t);
    mica_handle_close(p);
    mica_handle_close(v);
}

UTEST(abi_thread_kill_errors)
{
    mica_handle_t p, t, v, weak;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(spawn(code_spin, sizeof(code_spin), &p, &t) == OK);
    UEXPECT(mica_thread_kill(stale_handle()) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_kill(p) == ERR_WRONG_TYPE);
    weak = with_rights(t, RIGHTS_BASIC | RIGHTS_IO);
    UEXPECT(mica_thread_kill(weak) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_kill(t) == OK);
    UEXPECT(mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL) == OK);
    UEXPECT(mica_thread_kill(t) == OK);                 /* ended: no error */
    mica_handle_close(weak);
    mica_handle_close(t);
    mica_handle_close(p);
    mica_handle_close(v);
}

UTEST(abi_thread_set_priority_errors)
{
    mica_handle_t p, t, weak;
    UASSERT(spawn(code_spin, sizeof(code_spin), &p, &t) == OK);
    UEXPECT(mica_thread_set_priority(t, 32) == ERR_OUT_OF_RANGE);
    UEXPECT(MICA_CALL(MICA_SYS_thread_set_priority, t, 1ull << 32, 0, 0, 0,
                      0) == ERR_OUT_OF_RANGE);
    /* above the caller's own base priority (16, the default) */
    UEXPECT(mica_thread_set_priority(t, 17) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_set_priority(stale_handle(), 32) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_thread_set_priority(stale_handle(), 4) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_set_priority(p, 4) == ERR_WRONG_TYPE);
    weak = with_rights(t, RIGHTS_BASIC | RIGHTS_IO);
    UEXPECT(mica_thread_set_priority(weak, 4) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_set_priority(t, 4) == OK);
    mica_process_kill(p, 0);
    mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(weak);
    mica_handle_close(t);
    mica_handle_close(p);
}

UTEST(abi_thread_info_errors)
{
    mica_handle_t p, t, weak;
    struct mica_thread_info i;
    UASSERT(spawn(code_spin, sizeof(code_spin), &p, &t) == OK);
    UEXPECT(mica_thread_info(stale_handle(), &i) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_info(p, &i) == ERR_WRONG_TYPE);
    weak = with_rights(t, RIGHT_MANAGE);
    UEXPECT(mica_thread_info(weak, &i) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_info(t, KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_thread_info(t, UNMAPPED_PTR) == ERR_FAULT);
    UEXPECT(mica_thread_set_priority(t, 9) == OK);
    UEXPECT(mica_thread_info(t, &i) == OK);
    UEXPECT(i.tid != 0 && i.base_priority == 9 && i.priority == 9 &&
            i.state <= MICA_THREAD_STATE_BLOCKED);
    mica_process_kill(p, 0);
    mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    UEXPECT(mica_thread_info(t, &i) == OK &&
            i.state == MICA_THREAD_STATE_DEAD);
    mica_handle_close(weak);
    mica_handle_close(t);
    mica_handle_close(p);
}

/* --- memory objects --------------------------------------------------- */

UTEST(abi_vmo_create_errors)
{
    mica_handle_t v = 0, ro_vmo;
    struct mica_system_info before, after;
    UEXPECT(mica_vmo_create(0, &v) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_vmo_create((1ull << 40) + 1, &v) == ERR_OUT_OF_RANGE);
    /* above the 2 GiB a vmo can hold */
    UEXPECT(mica_vmo_create(1ull << 40, &v) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_vmo_create(4ull << 30, &v) == ERR_OUT_OF_RANGE);
    UASSERT(inject_on() == OK);
    int r = mica_vmo_create(4096, &v);
    inject_off();
    UEXPECT(r == ERR_NO_MEMORY);
    UASSERT(mica_system_info(&before) == OK);
    UEXPECT(mica_vmo_create(4096, KERNEL_PTR) == ERR_FAULT);
    uint64_t ro = ro_page(0, &ro_vmo);
    UASSERT(ro != 0);
    UEXPECT(mica_vmo_create(4096, (void *)ro) == ERR_FAULT);
    ro_page_free(ro, ro_vmo);
    UASSERT(mica_system_info(&after) == OK);
    UEXPECT(after.live_vmos == before.live_vmos);
    int st, n = fill_table(mica_process_self(), &st);
    r = mica_vmo_create(4096, &v);
    drain_table(n);
    UEXPECT(st == ERR_NO_RESOURCES && r == ERR_NO_RESOURCES);
}

static int vcall(mica_handle_t h, void *buf, uint64_t off, size_t len)
{
    return write_mode ? mica_vmo_write(h, buf, off, len)
                      : mica_vmo_read(h, buf, off, len);
}

static void vmo_copy_errors(int write)
{
    write_mode = write;
    mica_handle_t v, weak;
    char buf[64] = "data";
    UASSERT(mica_vmo_create(2 * 4096, &v) == OK);
    UEXPECT(vcall(stale_handle(), buf, 0, 8) == ERR_BAD_HANDLE);
    UEXPECT(vcall(mica_process_self(), buf, 0, 8) == ERR_WRONG_TYPE);
    weak = with_rights(v, RIGHTS_BASIC | (write ? RIGHT_READ : RIGHT_WRITE));
    UEXPECT(vcall(weak, buf, 0, 8) == ERR_ACCESS_DENIED);
    UEXPECT(vcall(v, buf, 2 * 4096 + 1, 0) == ERR_OUT_OF_RANGE);
    UEXPECT(vcall(v, buf, 2 * 4096 - 4, 8) == ERR_OUT_OF_RANGE);
    UEXPECT(vcall(v, buf, 8, ~0ull) == ERR_OUT_OF_RANGE);
    UEXPECT(vcall(v, buf, 2 * 4096, 0) == OK);
    UEXPECT(vcall(v, KERNEL_PTR, 0, 8) == ERR_FAULT);
    UEXPECT(vcall(v, UNMAPPED_PTR, 0, 8) == ERR_FAULT);
    UEXPECT(vcall(v, NULL, 0, 8) == ERR_FAULT);
    if (!write) {
        mica_handle_t ro_vmo;
        uint64_t ro = ro_page(0, &ro_vmo);
        UASSERT(ro != 0);
        UEXPECT(vcall(v, (void *)ro, 0, 8) == ERR_FAULT);
        ro_page_free(ro, ro_vmo);
    } else {
        UASSERT(inject_on() == OK);
        int r = vcall(v, buf, 4096, 8);                  /* untouched page */
        inject_off();
        UEXPECT(r == ERR_NO_MEMORY);
    }
    mica_handle_close(weak);
    mica_handle_close(v);
}

UTEST(abi_vmo_read_errors)
{
    vmo_copy_errors(0);
}

UTEST(abi_vmo_write_errors)
{
    vmo_copy_errors(1);
}

UTEST(abi_vmo_get_size_errors)
{
    mica_handle_t v, weak;
    uint64_t size;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_vmo_get_size(stale_handle(), &size) == ERR_BAD_HANDLE);
    UEXPECT(mica_vmo_get_size(mica_process_self(), &size) == ERR_WRONG_TYPE);
    weak = with_rights(v, RIGHTS_BASIC | RIGHT_WRITE);
    UEXPECT(mica_vmo_get_size(weak, &size) == ERR_ACCESS_DENIED);
    UEXPECT(mica_vmo_get_size(v, KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_vmo_get_size(v, UNMAPPED_PTR) == ERR_FAULT);
    mica_handle_close(weak);
    mica_handle_close(v);
}

UTEST(abi_vmo_clone_errors)
{
    mica_handle_t v, c = 0, weak;
    UASSERT(mica_vmo_create(4 * 4096, &v) == OK);
    UEXPECT(mica_vmo_clone(stale_handle(), 0, 4096, &c) == ERR_BAD_HANDLE);
    UEXPECT(mica_vmo_clone(mica_process_self(), 0, 4096, &c) ==
            ERR_WRONG_TYPE);
    weak = with_rights(v, RIGHT_READ);                  /* no DUPLICATE */
    UEXPECT(mica_vmo_clone(weak, 0, 4096, &c) == ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    weak = with_rights(v, RIGHT_DUPLICATE);             /* no READ */
    UEXPECT(mica_vmo_clone(weak, 0, 4096, &c) == ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    UEXPECT(mica_vmo_clone(v, 100, 4096, &c) == ERR_INVALID_ARGS);
    UEXPECT(mica_vmo_clone(v, 0, 100, &c) == ERR_INVALID_ARGS);
    UEXPECT(mica_vmo_clone(v, 0, 0, &c) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_vmo_clone(v, 8 * 4096, 4096, &c) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_vmo_clone(v, 4096, 4 * 4096, &c) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_vmo_clone(v, 0, 4096, KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_vmo_clone(v, 0, 4096, UNMAPPED_PTR) == ERR_FAULT);
    UASSERT(inject_on() == OK);
    int r = mica_vmo_clone(v, 0, 4096, &c);
    inject_off();
    UEXPECT(r == ERR_NO_MEMORY);
    int st, n = fill_table(v, &st);
    r = mica_vmo_clone(v, 0, 4096, &c);
    drain_table(n);
    UEXPECT(st == ERR_NO_RESOURCES && r == ERR_NO_RESOURCES);
    mica_handle_close(v);
}

/* --- address spaces --------------------------------------------------- */

UTEST(abi_vm_map_errors)
{
    mica_handle_t self = mica_process_self(), v, weak, dead, p, ro_vmo;
    uint64_t addr = 0;
    const uint32_t R = MICA_VM_READ;
    UASSERT(mica_vmo_create(2 * 4096, &v) == OK);
    UEXPECT(mica_vm_map(self, v, 0, 4096, R | (1u << 9), &addr) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_vm_map(self, v, 0, 4096, R | (1u << 3), &addr) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_vm_map(self, v, 0, 4096, R, KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_vm_map(self, v, 0, 4096, R, UNMAPPED_PTR) == ERR_FAULT);
    /* the address cannot be written back: the mapping is undone */
    uint64_t ro = ro_page(0, &ro_vmo);
    uint64_t hint = free_address();
    UASSERT(hint != 0 && ro != 0);
    UASSERT(mica_vmo_write(ro_vmo, &hint, 0, 8) == OK);  /* seen through ro */
    UEXPECT(mica_vm_map(self, v, 0, 4096, R | MICA_VM_FIXED, (void *)ro) ==
            ERR_FAULT);
    addr = hint;
    UEXPECT(mica_vm_map(self, v, 0, 4096, R | MICA_VM_FIXED, &addr) == OK);
    UEXPECT(mica_vm_unmap(self, hint, 4096) == OK);
    ro_page_free(ro, ro_vmo);
    /* the process handle */
    addr = 0;
    UEXPECT(mica_vm_map(stale_handle(), v, 0, 4096, R, &addr) ==
            ERR_BAD_HANDLE);
    UEXPECT(mica_vm_map(v, v, 0, 4096, R, &addr) == ERR_WRONG_TYPE);
    weak = with_rights(self, RIGHTS_BASIC | RIGHT_READ | RIGHT_MANAGE);
    UEXPECT(mica_vm_map(weak, v, 0, 4096, R, &addr) == ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    UASSERT(dead_process(&dead) == OK);
    UEXPECT(mica_vm_map(dead, v, 0, 4096, R, &addr) == ERR_BAD_STATE);
    mica_handle_close(dead);
    /* the vmo handle: MAP, and a right per protection */
    UEXPECT(mica_vm_map(self, stale_handle(), 0, 4096, R, &addr) ==
            ERR_BAD_HANDLE);
    UEXPECT(mica_vm_map(self, self, 0, 4096, R, &addr) == ERR_WRONG_TYPE);
    weak = with_rights(v, RIGHTS_BASIC | RIGHTS_IO | RIGHT_EXECUTE);
    UEXPECT(mica_vm_map(self, weak, 0, 4096, 0, &addr) == ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    weak = with_rights(v, RIGHT_MAP | RIGHT_WRITE | RIGHT_EXECUTE);
    UEXPECT(mica_vm_map(self, weak, 0, 4096, R, &addr) == ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    weak = with_rights(v, RIGHT_MAP | RIGHT_READ | RIGHT_EXECUTE);
    UEXPECT(mica_vm_map(self, weak, 0, 4096, R | MICA_VM_WRITE, &addr) ==
            ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    weak = with_rights(v, RIGHT_MAP | RIGHTS_IO);
    UEXPECT(mica_vm_map(self, weak, 0, 4096, R | MICA_VM_EXEC, &addr) ==
            ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    /* lengths, offsets, alignment */
    addr = 0;
    UEXPECT(mica_vm_map(self, v, 0, 0, R, &addr) == ERR_INVALID_ARGS);
    UEXPECT(mica_vm_map(self, v, 100, 4096, R, &addr) == ERR_INVALID_ARGS);
    UEXPECT(mica_vm_map(self, v, 0, 100, R, &addr) == ERR_INVALID_ARGS);
    addr = hint + 8;
    UEXPECT(mica_vm_map(self, v, 0, 4096, R, &addr) == ERR_INVALID_ARGS);
    addr = 0;
    UEXPECT(mica_vm_map(self, v, 3 * 4096, 4096, R, &addr) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(mica_vm_map(self, v, 4096, 2 * 4096, R, &addr) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(mica_vm_map(self, v, 0, ~0xFFFull, R, &addr) == ERR_OUT_OF_RANGE);
    /* MICA_VM_FIXED where the range is taken or outside user space */
    UASSERT(spawn(code_spin, sizeof(code_spin), &p, NULL) == OK);
    addr = CHILD_CODE;
    UEXPECT(mica_vm_map(p, v, 0, 4096, R | MICA_VM_FIXED, &addr) ==
            ERR_ALREADY_EXISTS);
    addr = CHILD_CODE - 4096;
    UEXPECT(mica_vm_map(p, v, 0, 2 * 4096, R | MICA_VM_FIXED, &addr) ==
            ERR_ALREADY_EXISTS);
    addr = 0x1000;
    UEXPECT(mica_vm_map(p, v, 0, 4096, R | MICA_VM_FIXED, &addr) ==
            ERR_ALREADY_EXISTS);
    addr = PAST_TOP;
    UEXPECT(mica_vm_map(p, v, 0, 4096, R | MICA_VM_FIXED, &addr) ==
            ERR_ALREADY_EXISTS);
    mica_process_kill(p, 0);
    mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(p);
    addr = 0;
    UASSERT(inject_on() == OK);
    int r = mica_vm_map(self, v, 0, 4096, R, &addr);
    inject_off();
    UEXPECT(r == ERR_NO_MEMORY);
    mica_handle_close(v);
}

/* The errors vm_unmap and vm_protect share: handle, state and range. */
static void range_errors(int (*call)(mica_handle_t, uint64_t, uint64_t,
                                     uint32_t))
{
    mica_handle_t self = mica_process_self(), v, weak, dead;
    uint64_t a = free_address();
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(call(stale_handle(), a, 4096, MICA_VM_READ) == ERR_BAD_HANDLE);
    UEXPECT(call(v, a, 4096, MICA_VM_READ) == ERR_WRONG_TYPE);
    weak = with_rights(self, RIGHTS_BASIC | RIGHT_READ | RIGHT_MANAGE);
    UEXPECT(call(weak, a, 4096, MICA_VM_READ) == ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    UASSERT(dead_process(&dead) == OK);
    UEXPECT(call(dead, CHILD_CODE, 4096, MICA_VM_READ) == ERR_BAD_STATE);
    mica_handle_close(dead);
    UEXPECT(call(self, a, 0, MICA_VM_READ) == ERR_INVALID_ARGS);
    UEXPECT(call(self, a + 1, 4096, MICA_VM_READ) == ERR_INVALID_ARGS);
    UEXPECT(call(self, a, 100, MICA_VM_READ) == ERR_INVALID_ARGS);
    UEXPECT(call(self, 0x1000, 4096, MICA_VM_READ) == ERR_OUT_OF_RANGE);
    UEXPECT(call(self, PAST_TOP, 4096, MICA_VM_READ) == ERR_OUT_OF_RANGE);
    UEXPECT(call(self, PAST_TOP - 4096, 2 * 4096, MICA_VM_READ) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(call(self, 0xFFFFFFFF80000000ull, 4096, MICA_VM_READ) ==
            ERR_OUT_OF_RANGE);
    mica_handle_close(v);
}

static int unmap3(mica_handle_t p, uint64_t a, uint64_t len, uint32_t f)
{
    (void)f;
    return mica_vm_unmap(p, a, len);
}

/* Map three pages; unmapping or protecting the middle one must split. */
static int split_fails(int protect)
{
    mica_handle_t self = mica_process_self(), v;
    uint64_t a = 0;
    if (mica_vmo_create(3 * 4096, &v) ||
        mica_vm_map(self, v, 0, 3 * 4096, MICA_VM_READ, &a))
        return ERR_INTERNAL;
    if (inject_on())
        return ERR_INTERNAL;
    int r = protect ? mica_vm_protect(self, a + 4096, 4096, 0)
                    : mica_vm_unmap(self, a + 4096, 4096);
    inject_off();
    mica_vm_unmap(self, a, 3 * 4096);
    mica_handle_close(v);
    return r;
}

UTEST(abi_vm_unmap_errors)
{
    range_errors(unmap3);
    UEXPECT(split_fails(0) == ERR_NO_MEMORY);
    /* nothing mapped there: not an error */
    UEXPECT(mica_vm_unmap(mica_process_self(), free_address(), 4096) == OK);
}

UTEST(abi_vm_protect_errors)
{
    mica_handle_t self = mica_process_self(), v;
    range_errors(mica_vm_protect);
    UASSERT(mica_vmo_create(2 * 4096, &v) == OK);
    uint64_t a = 0;
    UASSERT(mica_vm_map(self, v, 0, 2 * 4096, MICA_VM_READ, &a) == OK);
    UASSERT(mica_vm_unmap(self, a + 4096, 4096) == OK);
    UEXPECT(mica_vm_protect(self, a, 4096, MICA_VM_FIXED) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_vm_protect(self, a, 4096, 1u << 3) == ERR_INVALID_ARGS);
    UEXPECT(mica_vm_protect(self, a, 4096, MICA_VM_READ | MICA_VM_WRITE) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_vm_protect(self, a, 2 * 4096, MICA_VM_READ) ==
            ERR_NOT_FOUND);                     /* the second page: a hole */
    UEXPECT(mica_vm_protect(self, free_address(), 4096, MICA_VM_READ) ==
            ERR_NOT_FOUND);
    UEXPECT(mica_vm_unmap(self, a, 4096) == OK);
    UEXPECT(split_fails(1) == ERR_NO_MEMORY);
    mica_handle_close(v);
}

/* --- time and information --------------------------------------------- */

UTEST(abi_clock_get_errors)
{
    mica_handle_t ro_vmo;
    uint64_t ro = ro_page(0, &ro_vmo);
    UASSERT(ro != 0);
    UEXPECT(mica_clock_get(UNMAPPED_PTR) == ERR_FAULT);
    UEXPECT(mica_clock_get(NULL) == ERR_FAULT);
    UEXPECT(mica_clock_get((uint64_t *)ro) == ERR_FAULT);
    UEXPECT(mica_clock_get((uint64_t *)(PAST_TOP - 4)) == ERR_FAULT);
    ro_page_free(ro, ro_vmo);
}

UTEST(abi_nanosleep_errors)
{
    /* none: a deadline in the past (or 0) returns at once */
    UEXPECT(mica_nanosleep(0) == OK);
    UEXPECT(mica_nanosleep(1) == OK);
    UEXPECT(mica_thread_yield() == OK);
}

UTEST(abi_system_info_errors)
{
    UEXPECT(mica_system_info(KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_system_info(UNMAPPED_PTR) == ERR_FAULT);
}

UTEST(abi_platform_info_errors)
{
    UEXPECT(mica_platform_info(KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_platform_info(UNMAPPED_PTR) == ERR_FAULT);
    UEXPECT(mica_platform_info((void *)(0x800000000000ull -
                                        sizeof(struct mica_platform_info) +
                                        8)) == ERR_FAULT);
}

UTEST(abi_debug_fail_inject_errors)
{
    UEXPECT(MICA_CALL(MICA_SYS_debug_fail_inject, 1ull << 32, 0, 0, 0, 0, 0) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(mica_debug_fail_inject(0, 0) == OK);
}

/* --- the Linux calls the kernel answers ------------------------------ */

#define LX_EPERM 1
#define LX_ESRCH 3
#define LX_EBADF 9
#define LX_EAGAIN 11
#define LX_ENOMEM 12
#define LX_EACCES 13
#define LX_EFAULT 14
#define LX_EEXIST 17
#define LX_EINVAL 22
#define LX_ENOTTY 25
#define LX_ERANGE 34
#define LX_ETIMEDOUT 110

UTEST(abi_linux_io_errors)
{
    int st = 0;
    uint16_t ws[4];
    uint64_t iov[2] = { (uint64_t)"", 0 };
    UEXPECT(lx(1, 3, (long)"x", 1, 0, 0, 0) == -LX_EBADF);         /* write */
    UEXPECT(lx(1, 1, (long)KERNEL_PTR, 1, 0, 0, 0) == -LX_EFAULT);
    UEXPECT(lx(20, 1, (long)iov, 1025, 0, 0, 0) == -LX_EINVAL);    /* writev */
    UEXPECT(lx(20, 1, (long)UNMAPPED_PTR, 1, 0, 0, 0) == -LX_EFAULT);
    UEXPECT(lx(20, 0, (long)iov, 1, 0, 0, 0) == -LX_EBADF);
    UEXPECT(lx(16, 0, 0x5413, (long)ws, 0, 0, 0) == -LX_EBADF);     /* ioctl */
    UEXPECT(lx(16, 1, 0x5401, (long)ws, 0, 0, 0) == -LX_ENOTTY);
    UEXPECT(lx(16, 1, 0x5413, (long)KERNEL_PTR, 0, 0, 0) == -LX_EFAULT);
    UASSERT(run_in_child(1, 1, (uint32_t)CHILD_CODE, 1, &st) == OK);
    UEXPECT(st == -LX_EBADF);                   /* no log capability */
    UEXPECT(lx(0, 0, 0, 0, 0, 0, 0) == -LX_ENOSYS);                 /* read */
    UEXPECT(lx(57, 0, 0, 0, 0, 0, 0) == -LX_ENOSYS);                /* fork */
}

UTEST(abi_linux_misc_errors)
{
    int64_t ts[2] = { 0, 1000000000 };
    uint64_t fs;
    UEXPECT(lx(158, 0x1001, 0, 0, 0, 0, 0) == -LX_EINVAL);      /* arch_prctl */
    UEXPECT(lx(158, 0x1002, (long)KERNEL_PTR, 0, 0, 0, 0) == -LX_EPERM);
    UEXPECT(lx(158, 0x1003, (long)KERNEL_PTR, 0, 0, 0, 0) == -LX_EFAULT);
    UEXPECT(lx(158, 0x1003, (long)&fs, 0, 0, 0, 0) == 0);
    UEXPECT(lx(228, 8, (long)ts, 0, 0, 0, 0) == -LX_EINVAL);    /* clock_gettime */
    UEXPECT(lx(228, 1, (long)KERNEL_PTR, 0, 0, 0, 0) == -LX_EFAULT);
    UEXPECT(lx(35, (long)ts, 0, 0, 0, 0, 0) == -LX_EINVAL);     /* nanosleep */
    ts[1] = -1;
    UEXPECT(lx(35, (long)ts, 0, 0, 0, 0, 0) == -LX_EINVAL);
    UEXPECT(lx(35, (long)UNMAPPED_PTR, 0, 0, 0, 0, 0) == -LX_EFAULT);
    UEXPECT(lx(230, 1, 1, (long)KERNEL_PTR, 0, 0, 0) == -LX_EFAULT);
    UEXPECT(lx(14, 0, 0, (long)&fs, 4, 0, 0) == -LX_EINVAL);    /* sigprocmask */
    UEXPECT(lx(14, 0, 0, (long)KERNEL_PTR, 8, 0, 0) == -LX_EFAULT);
    UEXPECT(lx(56, 0x10000, 0, 0, 0, 0, 0) == -LX_ENOSYS);      /* clone */
    UEXPECT(lx(56, 0x100, 0, 0, 0, 0, 0) == -LX_ENOSYS);
    UEXPECT(lx(56, 0x10100, (long)KERNEL_PTR, 0, 0, 0, 0) == -LX_EINVAL);
    UEXPECT(lx(56, 0x90100, 0x100000, 0, 0, (long)KERNEL_PTR, 0) ==
            -LX_EINVAL);
}

UTEST(abi_linux_affinity_errors)
{
    uint64_t none = 0, one = 1, all = ~0ull;
    long self = lx(186, 0, 0, 0, 0, 0, 0);                      /* gettid */
    UEXPECT(lx(203, 0, 8, (long)KERNEL_PTR, 0, 0, 0) == -LX_EFAULT);
    UEXPECT(lx(203, 0, 8, (long)UNMAPPED_PTR, 0, 0, 0) == -LX_EFAULT);
    UEXPECT(lx(203, 0x3FFFFFFF, 8, (long)&one, 0, 0, 0) == -LX_ESRCH);
    UEXPECT(lx(203, -1, 8, (long)&one, 0, 0, 0) == -LX_ESRCH);
    UEXPECT(lx(203, 0, 8, (long)&none, 0, 0, 0) == -LX_EINVAL);
    UEXPECT(lx(203, 0, 0, (long)&one, 0, 0, 0) == -LX_EINVAL);  /* empty */
    UEXPECT(lx(203, self, 8, (long)&one, 0, 0, 0) == 0);
    UEXPECT(lx(203, 0, 8, (long)&all, 0, 0, 0) == 0);
}

UTEST(abi_linux_futex_errors)
{
    static uint32_t word[2] = { 5, 0 };
    int64_t ts[2] = { 0, 1000000 };
    long a = (long)word;
    UEXPECT(lx(202, a + 1, 0, 5, 0, 0, 0) == -LX_EINVAL);      /* misaligned */
    UEXPECT(lx(202, a + 2, 1, 1, 0, 0, 0) == -LX_EINVAL);
    UEXPECT(lx(202, a, 0, 4, 0, 0, 0) == -LX_EAGAIN);          /* value differs */
    UEXPECT(lx(202, a, 0, 5, (long)ts, 0, 0) == -LX_ETIMEDOUT);
    UEXPECT(lx(202, a, 0, 5, (long)KERNEL_PTR, 0, 0) == -LX_EFAULT);
    ts[1] = 1000000000;
    UEXPECT(lx(202, a, 0, 5, (long)ts, 0, 0) == -LX_EINVAL);
    UEXPECT(lx(202, a, 9, 5, 0, 0, 0) == -LX_EINVAL);          /* bitset 0 */
    UEXPECT(lx(202, (long)UNMAPPED_PTR, 0, 0, 0, 0, 0) == -LX_EFAULT);
    UEXPECT(lx(202, a, 4, 1, 1, a + 4, 4) == -LX_EAGAIN);      /* CMP_REQUEUE */
    UEXPECT(lx(202, a, 3, 1, 1, a + 6, 0) == -LX_EINVAL);      /* REQUEUE */
    UEXPECT(lx(202, a, 5, 1, 0, 0, 0) == -LX_ENOSYS);          /* WAKE_OP */
    UEXPECT(lx(202, a, 1, 1, 0, 0, 0) == 0);                   /* no waiter */
}

UTEST(abi_linux_memory_errors)
{
    const long anon = 0x22, shared = 0x21, fixed = 0x10;
    UEXPECT(lx(9, 0, 4096, 3, shared, -1, 0) == -LX_ENOSYS);         /* mmap */
    UEXPECT(lx(9, 0, 4096, 3, anon, 3, 0) == -LX_ENOSYS);
    UEXPECT(lx(9, 0, 4096, 3, 0x02, -1, 0) == -LX_ENOSYS);     /* file-backed */
    UEXPECT(lx(9, 0, 4096, 3, anon | 0x40000, -1, 0) == -LX_ENOSYS);
    UEXPECT(lx(9, 0, 0, 3, anon, -1, 0) == -LX_EINVAL);
    UEXPECT(lx(9, 0, 4096, 3, anon, -1, 4096) == -LX_EINVAL);
    UEXPECT(lx(9, 0x100001, 4096, 3, anon, -1, 0) == -LX_EINVAL);
    UEXPECT(lx(9, 0, 4096, 8, anon, -1, 0) == -LX_EINVAL);
    UEXPECT(lx(9, 0, 1L << 48, 3, anon, -1, 0) == -LX_EINVAL);
    UEXPECT(lx(9, 0, 2L << 40, 3, anon, -1, 0) == -LX_ENOMEM);
    UEXPECT(lx(9, 0, 4L << 30, 3, anon, -1, 0) == -LX_ENOMEM);
    UEXPECT(lx(9, 0x1000, 4096, 3, anon | fixed, -1, 0) == -LX_EEXIST);
    long m = lx(9, 0, 2 * 4096, 1, anon, -1, 0);
    UASSERT(m > 0);
    UEXPECT(lx(11, m + 1, 4096, 0, 0, 0, 0) == -LX_EINVAL);         /* munmap */
    UEXPECT(lx(11, m, 0, 0, 0, 0, 0) == -LX_EINVAL);
    UEXPECT(lx(11, 0x1000, 4096, 0, 0, 0, 0) == -LX_EINVAL);
    UEXPECT(lx(10, m, 4096, 8, 0, 0, 0) == -LX_EINVAL);           /* mprotect */
    UEXPECT(lx(10, m + 1, 4096, 1, 0, 0, 0) == -LX_EINVAL);
    UEXPECT(lx(10, 0x1000, 4096, 1, 0, 0, 0) == -LX_ERANGE);
    UEXPECT(lx(11, m + 4096, 4096, 0, 0, 0, 0) == 0);
    UEXPECT(lx(10, m, 2 * 4096, 1, 0, 0, 0) == -LX_ENOMEM);         /* hole */
    UEXPECT(lx(10, m, 4096, 7, 0, 0, 0) == 0);          /* mmap allows all */
    UEXPECT(lx(11, m, 4096, 0, 0, 0, 0) == 0);
    UEXPECT(lx(12, 0, 0, 0, 0, 0, 0) == 0);                          /* brk */
    /* a native mapping keeps the protections it was made with */
    mica_handle_t ro_vmo;
    uint64_t ro = ro_page(0, &ro_vmo);
    UASSERT(ro != 0);
    UEXPECT(lx(10, (long)ro, 4096, 3, 0, 0, 0) == -LX_EACCES);
    ro_page_free(ro, ro_vmo);
}
