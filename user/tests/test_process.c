/*
 * test_process.c - in-system tests of processes, memory and faults.
 *
 * Child processes here run a few bytes of machine code (testchild.h):
 * enough to exit with a code, fault, or spin until killed, without an
 * ELF loader.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mica.h"
#include "testchild.h"
#include "utest.h"


/* exit_group(7) */
static const uint8_t code_exit7[] = { 0xb8, 0xe7, 0, 0, 0, 0xbf, 7, 0, 0, 0,
                                      0x0f, 0x05, 0x0f, 0x0b };
/* movl $1, CHILD_CODE: a write to its own read-only code */
static const uint8_t code_write_ro[] = { 0xc7, 0x04, 0x25, 0, 0, 0x40, 0,
                                         1, 0, 0, 0, 0x0f, 0x0b };
/* movl (0), %eax */
static const uint8_t code_read_null[] = { 0x8b, 0x04, 0x25, 0, 0, 0, 0,
                                          0x0f, 0x0b };
static const uint8_t code_ud2[] = { 0x0f, 0x0b };
static const uint8_t code_spin[] = { 0xeb, 0xfe };
/* touch 64 pages of the stack area then exit_group(0):
 *   mov $64,%ecx; mov %rsp,%rax; 1: sub $4096,%rax; movl $1,(%rax);
 *   loop 1b; mov $231,%eax; xor %edi,%edi; syscall */
static const uint8_t code_touch[] = {
    0xb9, 64, 0, 0, 0, 0x48, 0x89, 0xe0, 0x48, 0x2d, 0, 0x10, 0, 0,
    0xc7, 0x00, 1, 0, 0, 0, 0xe2, 0xf2, 0xb8, 0xe7, 0, 0, 0, 0x31, 0xff,
    0x0f, 0x05 };

static int spawn(const uint8_t *code, size_t len, mica_handle_t *proc)
{
    return child_spawn(code, len, 0, proc, NULL);
}

#define DATA_PAGE CHILD_DATA_PAGE

static int run_to_end(const uint8_t *code, size_t len, int *exit_code)
{
    mica_handle_t p;
    mica_signals_t seen = 0;
    int err = spawn(code, len, &p);
    if (err)
        return err;
    err = mica_object_wait_one(p, SIGNAL_TERMINATED, 0, &seen);
    struct mica_process_info info;
    if (!err)
        err = mica_process_info(p, &info);
    if (!err)
        *exit_code = info.exit_code;
    mica_handle_close(p);
    return err;
}

UTEST(process_exit_code)
{
    int code = -1;
    UASSERT(run_to_end(code_exit7, sizeof(code_exit7), &code) == OK);
    UEXPECT(code == 7);
}

UTEST(process_faults_kill_only_the_child)
{
    int code = 0;
    UEXPECT(run_to_end(code_write_ro, sizeof(code_write_ro), &code) == OK);
    UEXPECT(code == -15);                       /* killed by #PF */
    UEXPECT(run_to_end(code_read_null, sizeof(code_read_null), &code) == OK);
    UEXPECT(code == -15);
    UEXPECT(run_to_end(code_ud2, sizeof(code_ud2), &code) == OK);
    UEXPECT(code == -7);                        /* killed by #UD */
}

UTEST(process_demand_zero_stack)
{
    int code = -1;
    UEXPECT(run_to_end(code_touch, sizeof(code_touch), &code) == OK);
    UEXPECT(code == 0);
}

UTEST(process_kill_running)
{
    mica_handle_t p;
    UASSERT(spawn(code_spin, sizeof(code_spin), &p) == OK);
    uint64_t now;
    mica_clock_get(&now);
    mica_signals_t seen = 0;
    UEXPECT(mica_object_wait_one(p, SIGNAL_TERMINATED, now + 20000000,
                                 &seen) == ERR_TIMED_OUT);
    UEXPECT(mica_process_kill(p, 99) == OK);
    UEXPECT(mica_object_wait_one(p, SIGNAL_TERMINATED, 0, &seen) == OK);
    struct mica_process_info info;
    UEXPECT(mica_process_info(p, &info) == OK && info.exit_code == 99 &&
            info.state == 2 && info.threads == 0);
    mica_handle_close(p);
}

UTEST(process_memory_of_child)
{
    mica_handle_t p;
    UASSERT(spawn(code_spin, sizeof(code_spin), &p) == OK);
    uint8_t got[4] = { 0 };
    UEXPECT(mica_process_read_memory(p, CHILD_CODE, got, 2) == OK);
    UEXPECT(got[0] == 0xeb && got[1] == 0xfe);
    uint32_t v = 0x12345678, back = 0;
    UEXPECT(mica_process_write_memory(p, CHILD_STACK, &v, 4) == OK);
    UEXPECT(mica_process_read_memory(p, CHILD_STACK, &back, 4) == OK);
    UEXPECT(back == v);
    UEXPECT(mica_process_read_memory(p, 0x1000, got, 4) == ERR_FAULT);
    mica_handle_t ro;
    UASSERT(mica_handle_duplicate(p, RIGHT_READ | RIGHT_WAIT, &ro) == OK);
    UEXPECT(mica_process_write_memory(ro, CHILD_STACK, &v, 4) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_process_kill(ro, 1) == ERR_ACCESS_DENIED);
    mica_process_kill(p, 0);
    mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(ro);
    mica_handle_close(p);
}

/* Read the system's counts once the reaper has caught up: until they
 * match `want` (when given) or 3 s have passed.  Threads die
 * asynchronously, and on a loaded host cross-CPU wakeups are slow. */
static int settle_to(struct mica_system_info *info,
                     const struct mica_system_info *want)
{
    for (int i = 0; i < 150; i++) {
        uint64_t now;
        mica_clock_get(&now);
        mica_nanosleep(now + 20000000);
        int err = mica_system_info(info);
        if (err || !want ||
            (info->free_pages == want->free_pages &&
             info->live_processes == want->live_processes &&
             info->live_threads == want->live_threads &&
             info->live_vmos == want->live_vmos))
            return err;
    }
    return OK;
}

static int settle(struct mica_system_info *info)
{
    return settle_to(info, NULL);
}

UTEST(process_1000_created_and_killed_leak_nothing)
{
    struct mica_system_info before, after;
    int code;
    UASSERT(run_to_end(code_exit7, sizeof(code_exit7), &code) == OK);
    UASSERT(settle(&before) == OK);
    for (int i = 0; i < 1000; i++) {
        mica_handle_t p;
        if (spawn(i % 2 ? code_spin : code_write_ro, 16, &p) != OK) {
            UEXPECT(!"spawn failed");
            break;
        }
        mica_process_kill(p, 1);
        mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
        mica_handle_close(p);
    }
    UASSERT(settle_to(&after, &before) == OK);
    if (after.free_pages != before.free_pages)
        printf("    # free pages before %lu, after %lu\n",
               (unsigned long)before.free_pages,
               (unsigned long)after.free_pages);
    UEXPECT(after.free_pages == before.free_pages);
    UEXPECT(after.live_processes == before.live_processes);
    UEXPECT(after.live_threads == before.live_threads);
    UEXPECT(after.live_vmos == before.live_vmos);
}

UTEST(vmo_map_read_write_protect)
{
    mica_handle_t self = mica_process_self(), v;
    UASSERT(mica_vmo_create(3 * 4096, &v) == OK);
    uint64_t addr = 0;
    UASSERT(mica_vm_map(self, v, 0, 3 * 4096, MICA_VM_READ | MICA_VM_WRITE,
                        &addr) == OK);
    volatile uint8_t *p = (volatile uint8_t *)addr;
    UEXPECT(p[0] == 0 && p[8191] == 0);         /* demand-zero */
    p[5000] = 0x5a;
    uint8_t b = 0;
    UEXPECT(mica_vmo_read(v, &b, 5000, 1) == OK && b == 0x5a);
    b = 0x77;
    UEXPECT(mica_vmo_write(v, &b, 100, 1) == OK && p[100] == 0x77);
    UEXPECT(mica_vm_protect(self, addr, 4096, MICA_VM_READ) == OK);
    UEXPECT(p[100] == 0x77);
    /* protections never exceed what the mapping was made with */
    UEXPECT(mica_vm_protect(self, addr, 4096, MICA_VM_READ | MICA_VM_EXEC) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_vm_unmap(self, addr, 3 * 4096) == OK);
    UEXPECT(mica_vm_unmap(self, addr, 4096) == OK);  /* nothing there: ok */
    /* a read-only handle cannot be mapped writable */
    mica_handle_t ro;
    UASSERT(mica_handle_duplicate(v, RIGHT_READ | RIGHT_MAP, &ro) == OK);
    addr = 0;
    UEXPECT(mica_vm_map(self, ro, 0, 4096, MICA_VM_READ | MICA_VM_WRITE,
                        &addr) == ERR_ACCESS_DENIED);
    UEXPECT(mica_vm_map(self, ro, 0, 4096, MICA_VM_READ, &addr) == OK);
    UEXPECT(mica_vm_unmap(self, addr, 4096) == OK);
    mica_handle_close(ro);
    mica_handle_close(v);
}

UTEST(vmo_clone_is_a_snapshot)
{
    mica_handle_t v, c;
    uint8_t b = 1;
    UASSERT(mica_vmo_create(8192, &v) == OK);
    UASSERT(mica_vmo_write(v, &b, 10, 1) == OK);
    UASSERT(mica_vmo_clone(v, 0, 8192, &c) == OK);
    b = 2;
    UEXPECT(mica_vmo_write(v, &b, 10, 1) == OK);    /* parent changes */
    UEXPECT(mica_vmo_read(c, &b, 10, 1) == OK && b == 1);
    b = 3;
    UEXPECT(mica_vmo_write(c, &b, 4096, 1) == OK);  /* clone changes */
    UEXPECT(mica_vmo_read(v, &b, 4096, 1) == OK && b == 0);
    UEXPECT(mica_vmo_clone(v, 1, 4096, &c) == ERR_INVALID_ARGS);
    mica_handle_close(c);
    mica_handle_close(v);
}

UTEST(process_clone_is_copy_on_write)
{
    mica_handle_t a, b;
    UASSERT(spawn(code_spin, sizeof(code_spin), &a) == OK);
    uint32_t v = 111, got = 0;
    UASSERT(mica_process_write_memory(a, CHILD_STACK, &v, 4) == OK);
    UASSERT(mica_process_clone(a, "clone", 5, &b) == OK);
    UEXPECT(mica_process_read_memory(b, CHILD_STACK, &got, 4) == OK &&
            got == 111);                            /* inherited */
    v = 222;
    UEXPECT(mica_process_write_memory(b, CHILD_STACK, &v, 4) == OK);
    UEXPECT(mica_process_read_memory(a, CHILD_STACK, &got, 4) == OK &&
            got == 111);                            /* the original kept */
    v = 333;
    UEXPECT(mica_process_write_memory(a, CHILD_STACK + 4096, &v, 4) == OK);
    UEXPECT(mica_process_read_memory(b, CHILD_STACK + 4096, &got, 4) == OK &&
            got == 0);                              /* and the other way */
    UEXPECT(mica_process_read_memory(b, CHILD_CODE, &got, 2) == OK &&
            (got & 0xffff) == 0xfeeb);              /* code came along */
    mica_handle_t ro;
    UASSERT(mica_handle_duplicate(a, RIGHT_READ, &ro) == OK);
    UEXPECT(mica_process_clone(ro, "x", 1, &b) == ERR_ACCESS_DENIED);
    mica_handle_close(ro);
    mica_process_kill(a, 0);
    mica_object_wait_one(a, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(a);
    mica_handle_close(b);
}

/* reader(slot in rdi): forever copy the word at DATA_PAGE to its slot:
 *   1: mov (0x500000), %eax; mov %eax, (%rdi); jmp 1b */
static const uint8_t code_copy_loop[] = { 0x8b, 0x04, 0x25, 0, 0, 0x50, 0,
                                          0x89, 0x07, 0xeb, 0xf5 };
#define SLOTS 0x600000ull

static int map_word(mica_handle_t p, uint64_t at, uint32_t word,
                    uint32_t flags)
{
    mica_handle_t v;
    uint64_t addr = at;
    int err = mica_vmo_create(4096, &v);
    if (!err)
        err = mica_vmo_write(v, &word, 0, 4);
    if (!err)
        err = mica_vm_map(p, v, 0, 4096, flags | MICA_VM_FIXED, &addr);
    mica_handle_close(v);
    return err;
}

static int slots_all(mica_handle_t p, unsigned n, uint32_t want)
{
    uint32_t s[64];
    if (mica_process_read_memory(p, SLOTS, s, n * 8) != OK)
        return 0;
    for (unsigned i = 0; i < n; i++)
        if (s[i * 2] != want)
            return 0;
    return 1;
}

/* A page replaced under threads running on every CPU: each CPU must drop
 * the old translation (TLB shootdown), so every reader soon copies the
 * new page's word.  With a CPU left out, its reader would go on reading
 * the old page from its TLB (QEMU's TLB is a real cache too). */
UTEST(process_remap_reaches_every_cpu)
{
    mica_handle_t p;
    struct mica_system_info si;
    UASSERT(mica_system_info(&si) == OK);
    unsigned n = si.cpus_online;
    uint8_t code[32];
    memset(code, 0x90, sizeof(code));               /* nops */
    memcpy(code, code_spin, sizeof(code_spin));
    memcpy(code + 16, code_copy_loop, sizeof(code_copy_loop));
    UASSERT(spawn(code, sizeof(code), &p) == OK);
    UASSERT(map_word(p, DATA_PAGE, 0xAAAA, MICA_VM_READ) == OK);
    UASSERT(map_word(p, SLOTS, 0, MICA_VM_READ | MICA_VM_WRITE) == OK);
    for (unsigned i = 0; i < n; i++) {
        mica_handle_t t;
        UASSERT(mica_thread_create(p, "reader", 6, &t) == OK);
        UASSERT(mica_thread_start(t, CHILD_CODE + 16,
                                  CHILD_STACK + 4096 * (i + 1), SLOTS + 8 * i,
                                  0) == OK);
        mica_handle_close(t);
    }
    uint64_t now, end;
    mica_clock_get(&now);
    for (end = now + 2000000000ull; now < end && !slots_all(p, n, 0xAAAA);)
        mica_clock_get(&now);
    UEXPECT(slots_all(p, n, 0xAAAA));
    UASSERT(map_word(p, DATA_PAGE, 0xBBBB, MICA_VM_READ | MICA_VM_REPLACE) ==
            OK);
    mica_clock_get(&now);
    for (end = now + 2000000000ull; now < end && !slots_all(p, n, 0xBBBB);)
        mica_clock_get(&now);
    UEXPECT(slots_all(p, n, 0xBBBB));
    struct mica_process_info info;
    UEXPECT(mica_process_info(p, &info) == OK && info.state == 0);
    mica_process_kill(p, 0);
    mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(p);
}

UTEST(process_wait_many)
{
    mica_handle_t p[3];
    for (int i = 0; i < 3; i++)
        UASSERT(spawn(code_spin, sizeof(code_spin), &p[i]) == OK);
    struct mica_wait_item it[3];
    for (int i = 0; i < 3; i++)
        it[i] = (struct mica_wait_item){ p[i], SIGNAL_TERMINATED, 0 };
    uint64_t now;
    mica_clock_get(&now);
    UEXPECT(mica_object_wait_many(it, 3, now + 20000000) == ERR_TIMED_OUT);
    UEXPECT(it[0].pending == 0 && it[1].pending == 0 && it[2].pending == 0);
    UEXPECT(mica_process_kill(p[1], 5) == OK);
    UEXPECT(mica_object_wait_many(it, 3, 0) == OK);
    UEXPECT(it[1].pending & SIGNAL_TERMINATED);
    UEXPECT(!(it[0].pending & SIGNAL_TERMINATED));
    /* errors: counts, handles, rights, pointers */
    UEXPECT(mica_object_wait_many(it, 0, 0) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_object_wait_many(it, MICA_WAIT_MANY_MAX + 1, 0) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(mica_object_wait_many((void *)0xFFFFFFFF80100000ull, 1, 0) ==
            ERR_FAULT);
    struct mica_wait_item bad = { 0x12345, SIGNAL_TERMINATED, 0 };
    UEXPECT(mica_object_wait_many(&bad, 1, 0) == ERR_BAD_HANDLE);
    mica_handle_t nowait;
    UASSERT(mica_handle_duplicate(p[0], RIGHT_READ, &nowait) == OK);
    bad.handle = nowait;
    UEXPECT(mica_object_wait_many(&bad, 1, 0) == ERR_ACCESS_DENIED);
    mica_handle_close(nowait);
    for (int i = 0; i < 3; i++) {
        mica_process_kill(p[i], 0);
        mica_object_wait_one(p[i], SIGNAL_TERMINATED, 0, NULL);
        mica_handle_close(p[i]);
    }
}

/* process_create(name = its own code, 1, &stack[-8], MICA_PROCESS_LOG),
 * then exit_group(status): a process without the log capability asking
 * to pass it on */
static const uint8_t code_create_log[] = {
    0xb8, 0x10, 0x10, 0, 0, 0xbf, 0, 0, 0x40, 0, 0xbe, 1, 0, 0, 0,
    0x48, 0x8d, 0x54, 0x24, 0xf8, 0x41, 0xba, 1, 0, 0, 0, 0x0f, 0x05,
    0x89, 0xc7, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05 };

UTEST(process_new_call_errors)
{
    mica_handle_t p, q, dead;
    int code = 0;
    /* process_create flags */
    UEXPECT(mica_process_create_flags("x", 1, &p, 2) == ERR_INVALID_ARGS);
    UEXPECT(run_to_end(code_create_log, sizeof(code_create_log), &code) ==
            OK);
    UEXPECT(code == ERR_ACCESS_DENIED);
    /* process_clone */
    UASSERT(spawn(code_spin, sizeof(code_spin), &p) == OK);
    UEXPECT(mica_process_clone(p, "0123456789abcdef0123456789abcdef", 32,
                               &q) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_process_clone(p, (void *)0xFFFFFFFF80100000ull, 4, &q) ==
            ERR_FAULT);
    UEXPECT(mica_process_clone(0x12345, "c", 1, &q) == ERR_BAD_HANDLE);
    mica_handle_t v;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_process_clone(v, "c", 1, &q) == ERR_WRONG_TYPE);
    UEXPECT(mica_process_clone(p, "c", 1, (void *)0xFFFFFFFF80100000ull) ==
            ERR_FAULT);
    UASSERT(mica_process_create("d", 1, &dead) == OK);
    UEXPECT(mica_process_kill(dead, 0) == OK);
    UEXPECT(mica_object_wait_one(dead, SIGNAL_TERMINATED, 0, NULL) == OK);
    UEXPECT(mica_process_clone(dead, "c", 1, &q) == ERR_BAD_STATE);
    /* thread_set_affinity on a bad handle */
    UEXPECT(mica_thread_set_affinity(0x12345, 1) == ERR_BAD_HANDLE);
    mica_process_kill(p, 0);
    mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(p);
    mica_handle_close(dead);
    mica_handle_close(v);
}
