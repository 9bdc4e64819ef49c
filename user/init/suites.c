/*
 * suites.c - init running the in-system test suites, each in its own
 * process.
 *
 * Every program under tests/ in the bootfs is a suite.  init starts each
 * with the kernel's test selection, waits for it, and prints one KTAP
 * result per suite; the suite's own results appear nested one level
 * deeper.  A suite that crashes or hangs is a failure of that suite only.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bootfs.h"
#include "mica.h"
#include "service.h"
#include "services.h"
#include "spawn.h"
#include "suites.h"

#define SUITE_TIMEOUT_NS (300ull * 1000000000ull)

static const char *suite_name(const char *path)
{
    if (path[0] == '.' && path[1] == '/')
        path += 2;
    return strncmp(path, "tests/", 6) == 0 && path[6] ? path + 6 : NULL;
}

/* Suites that test device capabilities, budgets or priorities, or start
 * programs with them, get a copy of the root resource; the others get
 * none. */
static bool needs_resource(const char *name)
{
    return strcmp(name, "test_devices") == 0 ||
           strcmp(name, "test_services") == 0 ||
           strcmp(name, "test_critical") == 0 ||
           strcmp(name, "test_drivers") == 0 ||
           strcmp(name, "test_blk") == 0;
}

/* Suites that start programs of the bootfs get it, read-only, as the
 * capability `bootfs` (caps.h) on a startup channel. */
static bool needs_bootfs(const char *name)
{
    return strcmp(name, "test_services") == 0 ||
           strcmp(name, "test_stdio") == 0 ||
           strcmp(name, "test_drivers") == 0 ||
           strcmp(name, "test_blk") == 0;
}

/* Connections to running drivers of the manifest that a suite tests: the
 * capability `token`, a connection to the line `line` on which the
 * driver sees `client` (none when the line does not run). */
static const struct {
    const char *suite, *line, *token, *client;
} driver_conns[] = {
    { "test_drivers", "uart", "uart", "test_drivers" },
    { "test_drivers", "ps2kbd", "ps2kbd", "test_drivers" },
    { "test_blk", "disk", "blk", "blk" },
    { "test_svc", "svc", "svc", "svc" },
};
#define NCONNS (sizeof(driver_conns) / sizeof(driver_conns[0]))

/* The suite that tests init's supervision gets a channel of init's
 * protocol (init_proto.h) as the capability `init`. */
static bool needs_init(const char *name)
{
    return strcmp(name, "test_svc") == 0;
}

/* The suite's startup channel with its capabilities, or 0 for a suite
 * that gets none. */
static mica_handle_t startup_for(const char *name)
{
    mica_handle_t ch[2], h[2 + NCONNS];
    const char *tokens[2 + NCONNS];
    unsigned n = 0;
    if (needs_bootfs(name) &&
        mica_handle_duplicate(mica_startup_handle(),
                              RIGHTS_BASIC | RIGHT_READ | RIGHT_MAP,
                              &h[n]) == OK)
        tokens[n++] = "bootfs";
    for (unsigned i = 0; i < NCONNS; i++)
        if (strcmp(driver_conns[i].suite, name) == 0 &&
            services_connect(driver_conns[i].line, driver_conns[i].client,
                             &h[n]) == OK)
            tokens[n++] = driver_conns[i].token;
    if (needs_init(name) && services_control(&h[n]) == OK)
        tokens[n++] = "init";
    if (n == 0)
        return 0;
    int err = mica_channel_create(0, ch);
    if (!err) {
        err = service_send_caps(ch[0], tokens, h, n);
        mica_handle_close(ch[0]);       /* the message stays queued */
        if (err)
            mica_handle_close(ch[1]);
    }
    if (err)
        for (unsigned i = 0; i < n; i++)
            mica_handle_close(h[i]);
    return err ? 0 : ch[1];
}

/* Run one suite; 0 passed, 1 failed, 2 nothing selected in it. */
static int run_one(const struct bootfs_entry *e, const char *name,
                   const char *sel)
{
    char test_arg[1024];
    if ((size_t)snprintf(test_arg, sizeof(test_arg), "test=%s", sel) >=
        sizeof(test_arg)) {
        printf("    # %s: the test selection is too long\n", name);
        return 1;
    }
    const char *const argv[] = { name, test_arg, "indent=8", NULL };
    mica_handle_t p, res = 0;
    const char *why = "";
    if (needs_resource(name) &&
        mica_handle_duplicate(mica_resource_handle(), RIGHT_SAME_RIGHTS,
                              &res) != OK)
        res = 0;
    int err = mica_spawn(e->data, e->size, name, argv, startup_for(name), res,
                         MICA_SPAWN_LOG, &p, &why);
    if (err) {
        printf("    # %s: cannot start: %s (%s)\n", name,
               mica_status_str(err), why);
        return 1;
    }
    uint64_t now;
    mica_clock_get(&now);
    struct mica_process_info info = { .exit_code = 1 };
    if (mica_object_wait_one(p, SIGNAL_TERMINATED, now + SUITE_TIMEOUT_NS,
                             NULL) != OK) {
        printf("    # %s: timed out\n", name);
        mica_process_kill(p, 1);
        mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    }
    mica_process_info(p, &info);
    mica_handle_close(p);
    if (info.exit_code != 0 && info.exit_code != 2)
        printf("    # %s: exit status %d\n", name, info.exit_code);
    return info.exit_code == 2 ? 2 : info.exit_code != 0;
}

int suites_run(const void *fs, size_t len, const char *sel)
{
    struct bootfs_entry e;
    int total = 0, num = 0, failed = 0, ran = 0;
    for (long pos = 0; (pos = bootfs_next(fs, len, pos, &e)) > 0;)
        total += suite_name(e.name) != NULL && e.size > 0;
    if (total == 0)
        return -1;
    printf("    KTAP version 1\n    1..%d\n", total);
    fflush(stdout);
    for (long pos = 0; (pos = bootfs_next(fs, len, pos, &e)) > 0;) {
        const char *name = suite_name(e.name);
        if (!name || e.size == 0)
            continue;
        uint64_t t0, t1;
        mica_clock_get(&t0);
        int r = run_one(&e, name, sel);
        mica_clock_get(&t1);
        if (t1 - t0 >= 1000000000ull)
            printf("    # %s took %llu ms\n", name,
                   (unsigned long long)((t1 - t0) / 1000000));
        ran += r != 2;
        failed += r == 1;
        printf("    %s %d %s%s\n", r == 1 ? "not ok" : "ok", ++num, name,
               r == 2 ? " # SKIP nothing selected" : "");
        fflush(stdout);
    }
    printf("    # %d suites: %d passed, %d failed\n", ran, ran - failed,
           failed);
    return ran == 0 ? -1 : failed;
}
