/*
 * init.c - the first user process.
 *
 * The kernel starts init from its boot module with the root resource
 * and the bootfs.  On every boot but a benchmark one, init starts the
 * servers and drivers the boot manifest lists, each with exactly the
 * capabilities its line names (services.c).  On a normal boot it then
 * watches them; when the kernel's command line says "test=...", it runs
 * each in-system test suite of the bootfs in its own process and prints
 * their KTAP results nested under the kernel's (suites.c), and exits 0
 * only if every suite passed and every program of the manifest started
 * and still runs.  "bench=..." runs the benchmarks (bench.c) instead,
 * with nothing else running beside them; the block benchmark, which
 * comes last, starts the manifest's programs itself.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "mica.h"
#include "services.h"
#include "suites.h"

static int map_bootfs(const void **base, size_t *len)
{
    mica_handle_t h = mica_startup_handle();
    uint64_t size, addr = 0;
    int err = mica_vmo_get_size(h, &size);
    if (!err)
        err = mica_vm_map(mica_process_self(), h, 0, size, MICA_VM_READ,
                          &addr);
    *base = (const void *)addr;
    *len = size;
    return err;
}

int main(int argc, char **argv)
{
    const char *sel = NULL, *bench = NULL;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "test=", 5) == 0)
            sel = argv[i] + 5;
        if (strncmp(argv[i], "bench=", 6) == 0)
            bench = argv[i] + 6;
    }
    const void *fs;
    size_t len;
    if (map_bootfs(&fs, &len)) {
        printf("init: cannot map the bootfs\n");
        return 2;
    }
    if (bench)
        return bench_run(bench, fs, len);
    bool testing = sel && strcmp(sel, "none") != 0;
    printf("init: Mica user space is up (pid %d)\n", (int)getpid());
    int problems = services_start(fs, len, testing);
    if (!testing)
        services_watch();
    services_supervise();
    int failed = suites_run(fs, len, sel);
    problems += services_check();
    if (failed < 0)
        return problems ? 1 : 2;
    return failed == 0 && problems == 0 ? 0 : 1;
}
