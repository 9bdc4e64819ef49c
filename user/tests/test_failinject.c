/*
 * test_failinject.c - system calls under injected allocation failures.
 *
 * With one kernel allocation in four failing (only inside this process's
 * system calls), a mix of calls that allocate kernel memory must each
 * either succeed or fail with ERR_NO_MEMORY, the kernel must not crash,
 * and once everything is closed, every page and object must be back.
 * Nothing here touches new memory of its own while injection is on: a
 * page fault is not a system call, but it keeps the test honest about
 * what it measures.
 */
#include <stdint.h>
#include <string.h>

#include "mica.h"
#include "utest.h"

#define ROUNDS 400

static int ok_or_nomem(int r)
{
    return r == OK || r == ERR_NO_MEMORY;
}

struct round_state {
    mica_handle_t h[8];
    int n;
    int bad;
    int nomem;
};

static void one_round(struct round_state *s, int i, const char *buf)
{
    mica_handle_t v = 0, d = 0, p = 0, t = 0;
    uint64_t addr = 0;
    int r = mica_vmo_create(3 * 4096, &v);
    s->bad += !ok_or_nomem(r);
    s->nomem += r == ERR_NO_MEMORY;
    if (r == OK) {
        r = mica_vmo_write(v, buf, (uint64_t)(i % 3) * 4096, 64);
        s->bad += !ok_or_nomem(r);
        r = mica_handle_duplicate(v, RIGHT_SAME_RIGHTS, &d);
        s->bad += !ok_or_nomem(r);
        r = mica_vm_map(mica_process_self(), v, 0, 4096,
                        MICA_VM_READ, &addr);
        s->bad += !ok_or_nomem(r);
        if (r == OK)
            s->bad += mica_vm_unmap(mica_process_self(), addr, 4096) != OK;
    }
    r = mica_process_create("inj", 3, &p);
    s->bad += !ok_or_nomem(r);
    if (r == OK) {
        r = mica_thread_create(p, "t", 1, &t);
        s->bad += !ok_or_nomem(r);
    }
    mica_handle_t all[4] = { v, d, p, t };
    for (int k = 0; k < 4; k++)
        if (all[k])
            s->bad += mica_handle_close(all[k]) != OK;
}

UTEST(failinject_syscalls_fail_cleanly)
{
    static char buf[64] = "payload";
    struct mica_system_info before, after;
    static struct round_state s;
    memset(&s, 0, sizeof(s));
    one_round(&s, 0, buf);                  /* warm caches and stack */
    uint64_t now;
    /* start from a quiet system: the counts no longer moving (what an
     * earlier suite or the warm-up left dying is reaped first) */
    struct mica_system_info prev = { 0 };
    for (int i = 0; i < 500; i++) {
        mica_clock_get(&now);
        mica_nanosleep(now + 20000000);
        UASSERT(mica_system_info(&before) == OK);
        if (before.live_threads == prev.live_threads &&
            before.live_processes == prev.live_processes &&
            before.free_pages == prev.free_pages)
            break;
        prev = before;
    }
    UASSERT(mica_debug_fail_inject(4, 12345) == OK);
    for (int i = 0; i < ROUNDS; i++)
        one_round(&s, i, buf);
    UASSERT(mica_debug_fail_inject(0, 0) == OK);
    /* dying threads are reaped asynchronously: give them time (on a
     * loaded host, cross-CPU wakeups can take milliseconds each); the
     * loop ends as soon as the counts are back, at most after 30 s */
    for (int i = 0; i < 1500; i++) {
        mica_clock_get(&now);
        mica_nanosleep(now + 20000000);
        UASSERT(mica_system_info(&after) == OK);
        if (after.live_threads == before.live_threads &&
            after.live_processes == before.live_processes &&
            after.free_pages == before.free_pages)
            break;
    }
    UEXPECT(s.bad == 0);
    UEXPECT(s.nomem > 10);                  /* injection really happened */
    UEXPECT(after.free_pages == before.free_pages);
    UEXPECT(after.live_processes == before.live_processes);
    UEXPECT(after.live_threads == before.live_threads);
    UEXPECT(after.live_vmos == before.live_vmos);
}
