/*
 * services.c - init starting the servers and drivers of the boot
 * manifest, and watching them.
 *
 * The manifest (`manifest` in the bootfs, docs/services.md) is parsed
 * whole first: an error anywhere starts nothing and is printed with its
 * line.  Then each line is started in order (service.h) and init waits
 * until the program says it is ready before the next, so a server is
 * up before the programs that connect to it, and its start-up output
 * is not mixed with theirs.  A program that cannot start, or dies
 * before it is ready, is reported and the rest go on.  init keeps every
 * process handle and the startup channels: on a normal boot it reports
 * each program that ends; on a test boot it checks afterwards that all
 * of them still run.
 */
#include <stdio.h>
#include <string.h>

#include "bootfs.h"
#include "mica.h"
#include "service.h"
#include "services.h"

#define READY_TIMEOUT_NS (60ull * 1000000000ull)    /* a safety net */

static struct manifest manifest;
static struct service running[MANIFEST_MAX_ENTRIES];
static unsigned nrunning;

static uint64_t now_ns(void)
{
    uint64_t t;
    mica_clock_get(&t);
    return t;
}

static int pid_of(mica_handle_t p, int *exit_code)
{
    struct mica_process_info info = { 0 };
    mica_process_info(p, &info);
    if (exit_code)
        *exit_code = info.exit_code;
    return (int)info.pid;
}

static void print_started(const struct service *s)
{
    const struct manifest_entry *e = s->entry;
    printf("init: started %s (%s, pid %d)%s", e->name, e->program,
           pid_of(s->proc, NULL), e->log || e->stdio[0] || e->ncaps ? ":"
                                                                  : "");
    if (e->log)
        printf(" log");
    if (e->stdio[0])
        printf(" stdio=%s", e->stdio);
    for (unsigned i = 0; i < e->ncaps; i++)
        printf(" %s", e->caps[i].token);
    printf("\n");
}

/* Start one entry and wait until it is ready; 0 or 1 (a problem). */
static int start_one(const struct manifest_entry *e, const void *fs,
                     size_t len)
{
    struct service *s = &running[nrunning];
    const char *why = "";
    struct service_set set = { running, nrunning, NULL };
    int err = service_start(e, fs, len, mica_resource_handle(), &set, s,
                            &why);
    if (err) {
        printf("init: cannot start %s (%s): %s: %s\n", e->name, e->program,
               why, mica_status_str(err));
        return 1;
    }
    err = service_wait_ready(s, now_ns() + READY_TIMEOUT_NS);
    if (err == ERR_PEER_CLOSED) {
        int code;
        mica_object_wait_one(s->proc, SIGNAL_TERMINATED, 0, NULL);
        pid_of(s->proc, &code);
        printf("init: %s (%s) ended before it was ready: status %d\n",
               e->name, e->program, code);
        service_stop(s);
        return 1;
    }
    nrunning++;
    print_started(s);
    if (err) {
        printf("init: %s is not ready after %llu s; going on\n", e->name,
               READY_TIMEOUT_NS / 1000000000ull);
        return 1;
    }
    return 0;
}

int services_start(const void *fs, size_t len)
{
    struct bootfs_entry f;
    char err[160];
    if (bootfs_find(fs, len, "manifest", &f)) {
        printf("init: no manifest in the bootfs: nothing started\n");
        return 1;
    }
    if (manifest_parse(f.data, f.size, &manifest, err, sizeof(err))) {
        printf("init: %s: nothing started\n", err);
        return 1;
    }
    int problems = 0;
    for (unsigned i = 0; i < manifest.n; i++)
        problems += start_one(&manifest.e[i], fs, len);
    printf("init: %u of %u programs of the manifest running\n", nrunning,
           manifest.n);
    fflush(stdout);
    return problems;
}

int services_check(void)
{
    int dead = 0;
    for (unsigned i = 0; i < nrunning; i++) {
        int code;
        if (mica_object_wait_one(running[i].proc, SIGNAL_TERMINATED, 1,
                                 NULL) == OK) {
            pid_of(running[i].proc, &code);
            printf("init: %s ended during the tests: status %d\n",
                   running[i].entry->name, code);
            dead++;
        }
    }
    return dead;
}

int services_connect(const char *name, const char *token,
                     mica_handle_t *client)
{
    struct service_set set = { running, nrunning, NULL };
    struct service *s = service_find(&set, name);
    return s ? service_connect(s, token, client) : ERR_NOT_FOUND;
}

/* Forget the program at i, which has ended. */
static void reap(unsigned i)
{
    int code;
    pid_of(running[i].proc, &code);
    printf("init: %s (%s) ended: status %d\n", running[i].entry->name,
           running[i].entry->program, code);
    fflush(stdout);
    service_stop(&running[i]);
    running[i] = running[--nrunning];
}

void services_watch(void)
{
    struct mica_wait_item w[MANIFEST_MAX_ENTRIES];
    while (nrunning > 0) {
        for (unsigned i = 0; i < nrunning; i++)
            w[i] = (struct mica_wait_item){ .handle = running[i].proc,
                                            .waitfor = SIGNAL_TERMINATED };
        if (mica_object_wait_many(w, nrunning, 0) != OK)
            break;
        for (unsigned i = nrunning; i-- > 0;)
            if (w[i].pending & SIGNAL_TERMINATED)
                reap(i);
    }
    printf("init: no program of the manifest runs any more\n");
    fflush(stdout);
    for (;;)
        mica_nanosleep(now_ns() + 3600ull * 1000000000ull);
}
