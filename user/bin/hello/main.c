/*
 * hello - the first program on the console.
 *
 *     hello  bin/hello  stdio=uart
 *
 * An ordinary C program: its stdin and stdout are fds 0 and 1, which
 * the kernel connects to the console server its line names (the UART
 * driver), so printf and fgets reach the serial console with musl's
 * stdio unmodified.  It greets, then answers each line typed until the
 * end of file (^D on an empty line).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"

int main(void)
{
    char line[256];
    if (mica_caps_init() != OK)
        return 1;
    mica_ready();
    printf("hello: this is pid %d on Mica's console; type a line "
           "(^D ends)\n", (int)getpid());
    for (;;) {
        printf("> ");
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin))
            break;
        line[strcspn(line, "\n")] = 0;
        printf("hello: you typed '%s' (%zu bytes)\n", line, strlen(line));
    }
    printf("\nhello: end of input; goodbye\n");
    return 0;
}
