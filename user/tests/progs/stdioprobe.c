/*
 * stdioprobe.c - an ordinary C program whose stdin and stdout are a
 * console channel, for user/tests/test_stdio.c and test_drivers.c (not
 * a suite: it goes into the bootfs as bin/stdioprobe).
 *
 * argv[1] says what to do; everything goes through musl's stdio or
 * plain Linux system calls, which the kernel turns into console
 * protocol calls (idl/console.idl):
 *
 *   hello   printf a line, write to fds 2 and 0, exit 0
 *   echo    answer each line read with "got:LINE"; "eof" at the end
 *   loop    print "ping", read a line, exit 0 if it is "ping" (3 if not);
 *           also what it does with no argument (a manifest line's start)
 *   block   read, and wait there until killed
 *   errors  make the calls of test_stdio's script, reporting each
 *           result as "STEP:RESULT" on stdout
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int hello(void)
{
    printf("hello %d\n", 42);
    fflush(stdout);
    if (write(2, "err\n", 4) != 4 || write(0, "in\n", 3) != 3)
        return 1;
    return 0;
}

static int echo(void)
{
    char line[256];
    while (fgets(line, sizeof(line), stdin)) {
        printf("got:%s", line);
        fflush(stdout);
    }
    printf("eof\n");
    return 0;
}

static int loop(void)
{
    char line[64];
    printf("ping\n");
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin))
        return 2;
    return strcmp(line, "ping\n") == 0 ? 0 : 3;
}

static int block(void)
{
    char c;
    for (;;)
        if (read(0, &c, 1) <= 0)
            return 2;
}

/* A raw system call's result: the value, or -errno. */
static long sys(long n, long a, long b, long c)
{
    long r = syscall(n, a, b, c);
    return r < 0 ? -errno : r;
}

static void report(int step, long r)
{
    char buf[48];
    int n = snprintf(buf, sizeof(buf), "%d:%ld\n", step, r);
    write(1, buf, (size_t)n);
}

static int errors(void)
{
    static char big[10000];
    char buf[16] = { 0 };
    struct winsize ws;
    struct iovec iov = { buf, 1 };
    report(1, sys(SYS_write, 1, (long)"x", 1));     /* server: an error */
    report(2, sys(SYS_write, 1, (long)"yy", 2));    /* took more than sent */
    report(3, sys(SYS_write, 1, (long)"z", 1));     /* a short reply */
    long r = sys(SYS_read, 0, (long)buf, 10);       /* "abc" */
    report(4, r == 3 && memcmp(buf, "abc", 3) == 0 ? 3 : -1000 + r);
    report(5, sys(SYS_read, 0, (long)buf, 10));     /* count and bytes differ */
    report(6, sys(SYS_read, 0, 8, 10));             /* our buffer is bad */
    /* answered by the kernel alone: no call */
    long a = sys(SYS_read, 0, (long)buf, 0);
    long b = sys(SYS_write, 3, (long)"x", 1);
    long c = sys(SYS_read, 3, (long)buf, 1);
    long d = sys(SYS_ioctl, 0, TIOCGWINSZ, (long)&ws);
    long e = sys(SYS_ioctl, 1, TCGETS, (long)buf);
    long f = sys(SYS_readv, 0, (long)&iov, 1025);
    long g = sys(SYS_readv, 0, 8, 1);
    char line[96];
    int n = snprintf(line, sizeof(line), "7:%ld,%ld,%ld,%ld/%d,%ld,%ld,%ld\n",
                     a, b, c, d, ws.ws_col, e, f, g);
    write(1, line, (size_t)n);
    report(8, sys(SYS_write, 1, 8, 5));             /* a bad buffer */
    report(9, sys(SYS_read, 0, (long)big, 5000));   /* asks for 1024 */
    memset(big, 'b', sizeof(big));
    report(10, sys(SYS_write, 1, (long)big, 10000));    /* three calls */
    report(11, sys(SYS_write, 1, (long)big, 5000));     /* a short one */
    report(12, sys(SYS_write, 1, (long)"w", 1));    /* a reply with a handle */
    for (int step = 13; step <= 17; step++)         /* replies that are */
        report(step, sys(SYS_write, 1, (long)"w", 1));  /* not well-formed */
    report(18, sys(SYS_read, 0, (long)buf, 10));    /* bytes after */
    report(19, sys(SYS_read, 0, (long)buf, 10));    /* padding not zero */
    report(20, sys(SYS_read, 0, (long)buf, 2));     /* more than asked */
    report(21, sys(SYS_read, 0, (long)buf, 2));     /* more than room */
    report(22, sys(SYS_read, 0, (long)buf, 10));    /* the end of file */
    return 0;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "hello") == 0)
        return hello();
    if (strcmp(what, "echo") == 0)
        return echo();
    if (strcmp(what, "loop") == 0 || !*what)
        return loop();
    if (strcmp(what, "block") == 0)
        return block();
    if (strcmp(what, "errors") == 0)
        return errors();
    return 100;
}
