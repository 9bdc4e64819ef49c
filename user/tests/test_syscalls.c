/*
 * test_syscalls.c - in-system tests of the native system calls' error
 * paths and of handles: every call must reject bad handles, stale
 * handles, wrong object types, missing rights, kernel and unmapped
 * pointers, overlong lengths and misaligned arguments with the
 * documented status, and the kernel must survive all of it.
 */
#include <stdint.h>
#include <string.h>

#include "mica.h"
#include "utest.h"

#define KERNEL_PTR ((void *)0xFFFFFFFF80100000ull)
#define UNMAPPED_PTR ((void *)0x10000000000ull)

UTEST(syscall_unknown_number)
{
    UEXPECT(MICA_CALL(0x1FFF, 0, 0, 0, 0, 0, 0) == ERR_BAD_SYSCALL);
    UEXPECT(MICA_CALL(0x7FFFFFFF, 0, 0, 0, 0, 0, 0) == ERR_BAD_SYSCALL);
}

UTEST(handle_bad_and_stale)
{
    mica_handle_t v, d;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_handle_close(0) == ERR_BAD_HANDLE);
    UEXPECT(mica_handle_close(0xFFFFFFFF) == ERR_BAD_HANDLE);
    UEXPECT(mica_handle_close(v ^ 0x10000) == ERR_BAD_HANDLE);
    UEXPECT(mica_handle_duplicate(v, RIGHT_SAME_RIGHTS, &d) == OK);
    UEXPECT(mica_handle_close(v) == OK);
    UEXPECT(mica_handle_close(v) == ERR_BAD_HANDLE);        /* stale */
    uint64_t size = 0;
    UEXPECT(mica_vmo_get_size(v, &size) == ERR_BAD_HANDLE);
    /* the slot is reused by a new handle; the old value stays dead */
    mica_handle_t n;
    UASSERT(mica_vmo_create(4096, &n) == OK);
    UEXPECT(n != v);
    UEXPECT(mica_vmo_get_size(v, &size) == ERR_BAD_HANDLE);
    UEXPECT(mica_vmo_get_size(d, &size) == OK && size == 4096);
    mica_handle_close(n);
    mica_handle_close(d);
}

UTEST(handle_rights_only_shrink)
{
    mica_handle_t v, ro, back;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(mica_handle_duplicate(v, RIGHT_READ | RIGHT_DUPLICATE, &ro) == OK);
    char buf[8] = "abcdefg";
    UEXPECT(mica_vmo_write(ro, buf, 0, 8) == ERR_ACCESS_DENIED);
    UEXPECT(mica_vmo_read(ro, buf, 0, 8) == OK);
    /* asking for more than the handle has fails */
    UEXPECT(mica_handle_duplicate(ro, RIGHT_READ | RIGHT_WRITE, &back) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_handle_replace(ro, RIGHTS_ALL, &back) == ERR_INVALID_ARGS);
    /* without DUPLICATE no duplicate at all */
    mica_handle_t nodup;
    UASSERT(mica_handle_replace(ro, RIGHT_READ, &nodup) == OK);
    UEXPECT(mica_handle_duplicate(nodup, RIGHT_READ, &back) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_handle_close(ro) == ERR_BAD_HANDLE);      /* replaced */
    mica_handle_close(nodup);
    mica_handle_close(v);
}

UTEST(handle_wrong_type)
{
    mica_handle_t self = mica_process_self(), v;
    uint64_t size;
    UASSERT(self != 0);
    UEXPECT(mica_vmo_get_size(self, &size) == ERR_WRONG_TYPE);
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_vm_unmap(v, 0x100000, 4096) == ERR_WRONG_TYPE);
    UEXPECT(mica_thread_kill(v) == ERR_WRONG_TYPE);
    mica_handle_close(v);
}

UTEST(pointers_checked)
{
    mica_handle_t v;
    UASSERT(mica_vmo_create(8192, &v) == OK);
    UEXPECT(mica_vmo_create(4096, KERNEL_PTR) == ERR_FAULT);
    UEXPECT(mica_vmo_create(4096, UNMAPPED_PTR) == ERR_FAULT);
    UEXPECT(mica_vmo_create(4096, NULL) == ERR_FAULT);
    UEXPECT(mica_vmo_read(v, KERNEL_PTR, 0, 16) == ERR_FAULT);
    UEXPECT(mica_vmo_write(v, UNMAPPED_PTR, 0, 16) == ERR_FAULT);
    UEXPECT(mica_vmo_read(v, (void *)0xFFFFFFFFFFFFF000ull, 0, 4096) ==
            ERR_FAULT);
    UEXPECT(mica_debug_write(KERNEL_PTR, 10) == ERR_FAULT);
    UEXPECT(mica_clock_get(KERNEL_PTR) == ERR_FAULT);
    /* a buffer straddling the end of user space */
    UEXPECT(mica_vmo_read(v, (void *)0x00007FFFFFFFF800ull, 0, 4096) ==
            ERR_FAULT);
    mica_handle_close(v);
}

UTEST(lengths_and_alignment)
{
    mica_handle_t v, self = mica_process_self();
    char buf[16];
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_vmo_create(0, &v) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_vmo_create(1ull << 50, &v) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_vmo_read(v, buf, 4090, 16) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_vmo_read(v, buf, ~0ull, 16) == ERR_OUT_OF_RANGE);
    uint64_t addr = 0x200001;                   /* misaligned hint */
    UEXPECT(mica_vm_map(self, v, 0, 4096, MICA_VM_READ, &addr) ==
            ERR_INVALID_ARGS);
    addr = 0;
    UEXPECT(mica_vm_map(self, v, 0, 8192, MICA_VM_READ, &addr) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(mica_vm_map(self, v, 0, 4096, 0x80, &addr) == ERR_INVALID_ARGS);
    UEXPECT(mica_vm_unmap(self, 0x1001, 4096) == ERR_INVALID_ARGS);
    UEXPECT(mica_debug_write(buf, 1u << 20) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_process_create("x", 1000, &v) == ERR_OUT_OF_RANGE);
    mica_handle_close(v);
}

static uint64_t timestamp(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return (uint64_t)hi << 32 | lo;
}

/* While this thread sleeps and nothing else runs, every CPU halts: the
 * machine's idle time grows, and never by more than the time passed. */
UTEST(system_info_idle_all_ticks)
{
    struct mica_system_info a, b;
    uint64_t now = 0, end;
    UASSERT(mica_system_info(&a) == OK);
    uint64_t t0 = timestamp();
    mica_clock_get(&now);
    end = now + 60000000000ull;
    do {
        mica_nanosleep(now + 1000000);
        UASSERT(mica_system_info(&b) == OK);
        mica_clock_get(&now);
    } while (b.idle_all_ticks == a.idle_all_ticks && now < end);
    uint64_t t1 = timestamp();
    UEXPECT(b.idle_all_ticks > a.idle_all_ticks);
    UEXPECT(b.idle_all_ticks - a.idle_all_ticks <= t1 - t0);
}
