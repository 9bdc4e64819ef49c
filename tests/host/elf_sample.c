/*
 * elf_sample.c - a small static musl program for the host tests
 * (musl-gcc -static into build/host/elf-sample).
 *
 * test_elf parses it: it has initialised and zeroed thread-local data
 * (a PT_TLS) and enough of libc to have every segment a real program
 * has.  test_ustack maps it and starts it on a stack made by
 * ustack_build, with argv { path, "check", "two" }, envp { "MICA=yes" }
 * and AT_MICA_STARTUP 0x1234: it exits with 42 when everything musl's
 * start-up code took from that stack is right, else with the number of
 * the first check that failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <mica/auxv.h>

__thread int sample_tls = 7;
static __thread char sample_tbss[64];

static int check(int argc, char **argv)
{
    const char *mica = getenv("MICA");
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    char line[32];
    char *p;

    if (argc != 3 || strcmp(argv[2], "two") != 0)
        return 1;
    if (!mica || strcmp(mica, "yes") != 0)
        return 2;
    if (getauxval(AT_MICA_STARTUP) != 0x1234)
        return 3;
    if (getauxval(AT_PAGESZ) != 4096 || getauxval(AT_RANDOM) == 0)
        return 4;
    if (sample_tls != 7 || sample_tbss[0] != 0)
        return 5;
    if (!execfn || strcmp(execfn, argv[0]) != 0)
        return 6;
    p = malloc(100000);
    if (!p)
        return 7;
    memset(p, 1, 100000);
    free(p);
    snprintf(line, sizeof line, "%d-%s", sample_tls, argv[1]);
    if (strcmp(line, "7-check") != 0)
        return 8;
    return 42;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "check") == 0)
        return check(argc, argv);
    strncpy(sample_tbss, argc > 0 ? argv[0] : "", sizeof sample_tbss - 1);
    printf("%d %s\n", sample_tls + argc, sample_tbss);
    return 0;
}
