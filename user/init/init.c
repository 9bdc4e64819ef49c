/*
 * init.c - the first user process.
 *
 * For now init proves that user space works end to end: it is started by
 * the kernel from its boot module, prints through musl's stdio (which the
 * kernel's Linux layer routes to the log for processes holding the log
 * capability), and, when asked with "test=...", starts each in-system
 * test suite of the bootfs in its own process and prints their KTAP
 * results nested under the kernel's.
 * Exit status 0 means every suite passed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "mica.h"
#include "suites.h"

int main(int argc, char **argv)
{
    const char *sel = NULL;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "test=", 5) == 0)
            sel = argv[i] + 5;
        if (strncmp(argv[i], "bench=", 6) == 0)
            return bench_run(argv[i] + 6);
    }
    if (!sel || strcmp(sel, "none") == 0) {
        printf("init: Mica user space is up (pid %d)\n", (int)getpid());
        return 0;
    }
    int failed = suites_run(sel);
    return failed < 0 ? 2 : failed == 0 ? 0 : 1;
}
