/*
 * utest_main.c - the main of every test-suite program.
 *
 * init starts each suite from the bootfs with "test=SELECTION" and
 * "indent=N"; the exit status tells init the outcome: 0 all selected
 * tests passed, 1 one failed, 2 the selection named none of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utest.h"

int main(int argc, char **argv)
{
    const char *sel = "all";
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "test=", 5) == 0)
            sel = argv[i] + 5;
        else if (strncmp(argv[i], "indent=", 7) == 0)
            utest_set_indent(atoi(argv[i] + 7));
    }
    int failed = utest_run_all(sel);
    fflush(stdout);
    return failed < 0 ? 2 : failed > 0 ? 1 : 0;
}
