/*
 * linuxbench.c - the Linux side of `make bench`: the /init of an
 * initramfs booted on Debian's stock kernel (linux-image-amd64) in the
 * same QEMU configuration as Mica's benchmark boot (tools/bench.sh).
 *
 * It prints "bench linux_NAME instructions=N" lines to the console, then
 * "linuxbench: done" and powers the machine off, which ends QEMU.
 * Measurement is exactly that of user/bench/bench.c: under -icount
 * shift=0,sleep=off the TSC counts executed guest instructions, and each
 * figure is the median of ITERS iterations after WARMUP, minus the median
 * cost of an empty rdtsc pair.  Everything that runs in a measurement is
 * pinned to CPU 0, so the round trips are same-CPU switches, like Mica's.
 * The futex and yield benchmarks are the same code as Mica's.
 *
 * The kernel boots with maxcpus=1 and this program brings CPU 1 online
 * itself (online_cpu1).  QEMU 7.2's icount round robin moves to the next
 * vCPU only when the running one pauses, halts or reaches a timer
 * deadline, and it gives the next one no budget at a deadline, so a vCPU
 * that spins without `pause` starves the others; Linux's boot CPU waits
 * for a starting CPU in just such a loop (around schedule()) and the
 * boot hangs there.  Started from here, the same wait shares CPU 0 with
 * a process that pauses, and CPU 1 gets to run.
 *
 * Built with musl-gcc -static (bench/linux/linux.mk).  Run as an ordinary
 * program (not PID 1) it just prints its figures, for trying it out.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define ITERS 2001
#define WARMUP 200

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_u64);
    return v[n / 2];
}

static uint64_t samples[ITERS];
static uint64_t overhead;

static void report(const char *name, uint64_t med)
{
    printf("bench %s instructions=%llu\n", name,
           (unsigned long long)(med > overhead ? med - overhead : 0));
    fflush(stdout);
}

static void measure_overhead(void)
{
    for (int i = 0; i < ITERS; i++) {
        uint64_t t0 = tsc();
        samples[i] = tsc() - t0;
    }
    overhead = median(samples, ITERS);
}

/* Restrict the calling thread to CPU 0; children and threads inherit it.
 * The same code as Mica's. */
static void pin_cpu0(void)
{
    uint64_t mask = 1;
    if (syscall(SYS_sched_setaffinity, 0, sizeof(mask), &mask))
        printf("bench: sched_setaffinity failed\n");
}

/* The bare syscall instruction, as Mica's null_syscall issues it: no
 * libc wrapper in the figure. */
static inline long syscall0(long n)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n) : "rcx", "r11", "memory");
    return r;
}

static void bench_null_syscall(void)
{
    for (int i = -WARMUP; i < ITERS; i++) {
        uint64_t t0 = tsc();
        syscall0(SYS_getppid);
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    report("linux_null_syscall", median(samples, ITERS));
}

/* The child of a round trip: echo each byte from `in` back on `out`. */
static void echo_child(int in, int out)
{
    char c;
    for (int i = 0; i < ITERS + WARMUP; i++)
        if (read(in, &c, 1) != 1 || write(out, &c, 1) != 1)
            _exit(1);
    _exit(0);
}

/* One byte to a child process on `out` and back on `in`, per iteration;
 * the child reads `cin` and writes `cout`.  Both run on CPU 0. */
static void round_trip(const char *name, int out, int in, int cin, int cout)
{
    pid_t pid = fork();
    if (pid < 0) {
        printf("bench: %s: fork failed\n", name);
        return;
    }
    if (pid == 0)
        echo_child(cin, cout);
    char c = 'x';
    for (int i = -WARMUP; i < ITERS; i++) {
        uint64_t t0 = tsc();
        if (write(out, &c, 1) != 1 || read(in, &c, 1) != 1) {
            printf("bench: %s: i/o failed\n", name);
            break;
        }
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    waitpid(pid, NULL, 0);
    report(name, median(samples, ITERS));
}

static void bench_pipe(void)
{
    int there[2], back[2];
    if (pipe(there) || pipe(back)) {
        printf("bench: linux_pipe_round_trip: pipe failed\n");
        return;
    }
    round_trip("linux_pipe_round_trip", there[1], back[0], there[0], back[1]);
    close(there[0]), close(there[1]), close(back[0]), close(back[1]);
}

static void bench_unix_socket(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
        printf("bench: linux_unix_socket_round_trip: socketpair failed\n");
        return;
    }
    round_trip("linux_unix_socket_round_trip", sv[0], sv[0], sv[1], sv[1]);
    close(sv[0]), close(sv[1]);
}

/* Two threads on one CPU yielding to each other: a switch each way.
 * The same code as Mica's thread_switch_yield_pair. */
static volatile int yield_stop;

static void *yielder(void *arg)
{
    (void)arg;
    while (!yield_stop)
        sched_yield();
    return NULL;
}

static void bench_yield(void)
{
    pthread_t t;
    yield_stop = 0;
    pthread_create(&t, NULL, yielder, NULL);
    for (int i = -WARMUP; i < ITERS; i++) {
        uint64_t t0 = tsc();
        sched_yield();                      /* to the other and back */
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    yield_stop = 1;
    pthread_join(t, NULL);
    report("linux_sched_yield_pair", median(samples, ITERS));
}

/* Futex ping-pong: wake the other thread, wait to be woken back.
 * The same code as Mica's futex_round_trip. */
static volatile int ping, pong;

static void fwait(volatile int *w, int v)
{
    while (*w == v)
        syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void fwake(volatile int *w)
{
    __atomic_add_fetch(w, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *ponger(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERS + WARMUP; i++) {
        fwait(&ping, i);
        fwake(&pong);
    }
    return NULL;
}

static void bench_futex(void)
{
    pthread_t t;
    ping = pong = 0;
    pthread_create(&t, NULL, ponger, NULL);
    for (int i = -WARMUP; i < ITERS; i++) {
        int seen = pong;
        uint64_t t0 = tsc();
        fwake(&ping);
        fwait(&pong, seen);
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    pthread_join(t, NULL);
    report("linux_futex_round_trip", median(samples, ITERS));
}

/* Print one line of a sysfs file as "linuxbench: LABEL: CONTENT". */
static void print_sysfs(const char *label, const char *path)
{
    char buf[160] = "";
    int fd = open(path, O_RDONLY);
    if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
        buf[strcspn(buf, "\n")] = 0;
    if (fd >= 0)
        close(fd);
    printf("linuxbench: %s: %s\n", label, buf);
}

/* For the log: which mitigations the kernel chose on this virtual CPU. */
static void print_mitigations(void)
{
    const char *dir = "/sys/devices/system/cpu/vulnerabilities";
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[300];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        print_sysfs(e->d_name, path);
    }
    if (d)
        closedir(d);
}

/* Bring CPU 1 online through sysfs while a helper on CPU 0 executes
 * `pause` (and sleeps, so that idle time still passes at once under
 * sleep=off): each pause lets QEMU run CPU 1.  Prints the online CPUs. */
static void online_cpu1(void)
{
    mkdir("/sys", 0755);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    pid_t helper = fork();
    if (helper == 0) {
        for (;;) {
            for (int i = 0; i < 1000; i++)
                __asm__ volatile("pause");
            usleep(1000);
        }
    }
    int fd = open("/sys/devices/system/cpu/cpu1/online", O_WRONLY);
    if (fd < 0 || write(fd, "1", 1) != 1)
        printf("linuxbench: warning: could not bring CPU 1 online\n");
    if (fd >= 0)
        close(fd);
    if (helper > 0) {
        kill(helper, SIGKILL);
        waitpid(helper, NULL, 0);
    }
    print_sysfs("CPUs online", "/sys/devices/system/cpu/online");
}

/* As PID 1 the kernel may have found no /dev/console in the initramfs;
 * then mount devtmpfs and take the console from there. */
static void console_setup(void)
{
    if (fcntl(1, F_GETFD) >= 0)
        return;
    mkdir("/dev", 0755);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    int fd = open("/dev/console", O_RDWR);
    if (fd < 0)
        return;
    dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
    if (fd > 2)
        close(fd);
}

int main(void)
{
    int is_init = getpid() == 1;
    if (is_init)
        console_setup();
    pin_cpu0();
    if (is_init) {
        online_cpu1();
        print_mitigations();
    }
    measure_overhead();
    printf("bench linux_rdtsc_overhead instructions=%llu\n",
           (unsigned long long)overhead);
    bench_null_syscall();
    bench_pipe();
    bench_unix_socket();
    bench_yield();
    bench_futex();
    printf("linuxbench: done\n");
    fflush(stdout);
    if (is_init) {
        sync();
        reboot(RB_POWER_OFF);
        for (;;)
            pause();                /* PID 1 must never exit */
    }
    return 0;
}
