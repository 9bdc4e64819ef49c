/*
 * bench.c - micro-benchmarks of the kernel's fast paths, run by init
 * when the kernel command line says `bench=all` (make bench).
 *
 * Under QEMU with -icount shift=0,sleep=off the TSC counts executed guest
 * instructions, so each figure is instructions per operation and the same
 * on every run.  Every figure is the median of many measured iterations
 * after a warm-up, minus the median cost of an empty rdtsc pair.
 * The benchmark boot has two CPUs; init pins itself to CPU 0 first, and
 * the threads it creates inherit that, so the thread benchmarks measure
 * same-CPU switches.  bench/linux/linuxbench.c measures Linux the same way.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "block.h"
#include "mica.h"
#include "services.h"

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
}

static void measure_overhead(void)
{
    for (int i = 0; i < ITERS; i++) {
        uint64_t t0 = tsc();
        samples[i] = tsc() - t0;
    }
    overhead = median(samples, ITERS);
}

/* Restrict the calling thread to CPU 0; threads it creates inherit it. */
static void pin_cpu0(void)
{
    uint64_t mask = 1;
    if (syscall(SYS_sched_setaffinity, 0, sizeof(mask), &mask))
        printf("bench: sched_setaffinity failed\n");
}

static void bench_null_syscall(void)
{
    for (int i = -WARMUP; i < ITERS; i++) {
        uint64_t t0 = tsc();
        mica_syscall6(0x1FFF, 0, 0, 0, 0, 0, 0);    /* unknown: returns */
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    report("null_syscall", median(samples, ITERS));
}

static void bench_page_fault(void)
{
    mica_handle_t v, self = mica_process_self();
    uint64_t addr = 0;
    size_t pages = ITERS + WARMUP;
    if (mica_vmo_create(pages * 4096, &v) ||
        mica_vm_map(self, v, 0, pages * 4096, MICA_VM_READ | MICA_VM_WRITE,
                    &addr)) {
        printf("bench: page_fault setup failed\n");
        return;
    }
    volatile char *p = (volatile char *)addr;
    for (int i = -WARMUP; i < ITERS; i++) {
        uint64_t t0 = tsc();
        p[(size_t)(i + WARMUP) * 4096] = 1;         /* first touch */
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    report("page_fault", median(samples, ITERS));
    mica_vm_unmap(self, addr, pages * 4096);
    mica_handle_close(v);
}

/* Two threads on one CPU yielding to each other: a switch each way. */
static volatile int yield_stop;

static void *yielder(void *arg)
{
    (void)arg;
    while (!yield_stop)
        sched_yield();
    return NULL;
}

static void bench_thread_switch(void)
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
    report("thread_switch_yield_pair", median(samples, ITERS));
}

/* Futex ping-pong: wake the other thread, wait to be woken back. */
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
    report("futex_round_trip", median(samples, ITERS));
}

/* --- IPC ------------------------------------------------------------------
 *
 * The server is a clone of this process (process_clone) running a plain
 * function on a native thread; the client is a native thread here.  Both
 * are pinned (thread_set_affinity) before they start.  Native threads
 * only make system calls and write memory: they have no C library state.
 */
#define BSTACK 16384
static char bstacks[2][BSTACK] __attribute__((aligned(16)));
static volatile uint32_t ipc_payload;

static mica_handle_t last_thread;

/* Start fn(a0, a1) on a native thread of proc pinned to cpu_mask; the
 * thread's handle is kept in last_thread (see wait_last). */
static int start_native(mica_handle_t proc, void (*fn)(uint64_t, uint64_t),
                        int stack, uint64_t cpu_mask, uint64_t a0,
                        uint64_t a1)
{
    mica_handle_t t;
    if (last_thread)
        mica_handle_close(last_thread);
    last_thread = 0;
    int err = mica_thread_create(proc, "bench", 5, &t);
    if (!err)
        err = mica_thread_set_affinity(t, cpu_mask);
    if (!err)
        err = mica_thread_start(t, (uint64_t)fn,
                                (uint64_t)(bstacks[stack] + BSTACK - 8), a0,
                                a1);
    if (err)
        mica_handle_close(t);
    else
        last_thread = t;
    return err;
}

/* Wait for the thread started last to end. */
static void wait_last(void)
{
    mica_object_wait_one(last_thread, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(last_thread);
    last_thread = 0;
}

/* Receive through a port, answer every call with as many bytes as came. */
static void call_server(uint64_t ep, uint64_t a1)
{
    (void)a1;
    mica_handle_t port;
    static char buf[64];
    if (mica_port_create(0, &port) || mica_channel_bind(ep, port, 1))
        mica_process_exit(1);
    struct mica_msg_buf b = { .bytes = buf, .bytes_cap = sizeof(buf) };
    int err = mica_port_receive(port, &b, 0);
    while (err == OK) {
        struct mica_msg r = { .bytes = buf, .num_bytes = b.actual_bytes };
        uint64_t tx = b.txid;
        b.bytes = buf;
        b.bytes_cap = sizeof(buf);
        err = mica_reply_receive(port, tx, &r, &b, 0);
    }
    mica_process_exit(0);
}

static void call_client(uint64_t ep, uint64_t a1)
{
    (void)a1;
    static char out[64], in[64];
    struct mica_msg m = { .bytes = out, .num_bytes = ipc_payload };
    for (int i = -WARMUP; i < ITERS; i++) {
        struct mica_msg_buf b = { .bytes = in, .bytes_cap = sizeof(in) };
        uint64_t t0 = tsc();
        int err = mica_channel_call((mica_handle_t)ep, &m, &b, 0);
        uint64_t t1 = tsc();
        if (err)
            break;
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    mica_thread_exit();
}

static void bench_call(const char *name, uint32_t payload, uint64_t client_cpu,
                       uint64_t server_cpu)
{
    mica_handle_t ch[2], srv, moved, self = mica_process_self();
    ipc_payload = payload;
    memset(samples, 0, sizeof(samples));
    if (mica_channel_create(0, ch) ||
        mica_process_clone(self, "bench-server", 12, &srv) ||
        mica_handle_transfer(ch[1], srv, RIGHT_SAME_RIGHTS, &moved) ||
        start_native(srv, call_server, 0, server_cpu, moved, 0) ||
        start_native(self, call_client, 1, client_cpu, ch[0], 0)) {
        printf("bench: %s setup failed\n", name);
        return;
    }
    wait_last();
    mica_process_kill(srv, 0);
    mica_object_wait_one(srv, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(srv);
    mica_handle_close(ch[0]);
    report(name, median(samples, ITERS));
}

/* The same round trip through IDL: a server answering the block
 * protocol's `info` (no parameters, a 24-byte struct back) with the
 * generated dispatch, a client calling the generated stub; the
 * difference to call_rt_same_cpu is what encoding and checking cost. */
static int idl_info(void *ctx, const struct idl_txn *t,
                    struct block_info_resp *r)
{
    (void)ctx;
    (void)t;
    r->info = (struct block_info){ 8192, BLOCK_SECTOR_SIZE, 128, false,
                                   true };
    return OK;
}

static void idl_server(uint64_t ep, uint64_t a1)
{
    (void)a1;
    static const struct block_server server = { .info = idl_info };
    static uint64_t in[64], out[64];
    static mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    static struct mica_handle_info infos[MICA_MSG_MAX_HANDLES];
    mica_handle_t port;
    if (mica_port_create(0, &port) || mica_channel_bind(ep, port, 1))
        mica_process_exit(1);
    struct mica_msg_buf b = { .bytes = in, .bytes_cap = sizeof(in),
                              .handles = hs,
                              .handles_cap = MICA_MSG_MAX_HANDLES,
                              .handle_infos = infos };
    int err = mica_port_receive(port, &b, 0);
    while (err == OK) {
        struct idl_in q = { in, b.actual_bytes, b.actual_handles, hs, infos };
        struct idl_out o = { .bytes = out, .cap = sizeof(out) };
        block_dispatch(&server, NULL, &q, &o);
        struct mica_msg r = { o.bytes, o.handles, o.len, o.nhandles };
        uint64_t tx = b.txid;
        b.bytes = in;
        b.bytes_cap = sizeof(in);
        err = mica_reply_receive(port, tx, &r, &b, 0);
    }
    mica_process_exit(0);
}

static void idl_client(uint64_t ep, uint64_t a1)
{
    (void)a1;
    for (int i = -WARMUP; i < ITERS; i++) {
        struct block_info bi;
        uint64_t t0 = tsc();
        int err = block_info((mica_handle_t)ep, &bi);
        uint64_t t1 = tsc();
        if (err || bi.sectors != 8192)
            break;
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    mica_thread_exit();
}

static void bench_idl_call(void)
{
    mica_handle_t ch[2], srv, moved, self = mica_process_self();
    memset(samples, 0, sizeof(samples));
    if (mica_channel_create(0, ch) ||
        mica_process_clone(self, "bench-server", 12, &srv) ||
        mica_handle_transfer(ch[1], srv, RIGHT_SAME_RIGHTS, &moved) ||
        start_native(srv, idl_server, 0, 1, moved, 0) ||
        start_native(self, idl_client, 1, 1, ch[0], 0)) {
        printf("bench: idl_call_rt_same_cpu setup failed\n");
        return;
    }
    wait_last();
    mica_process_kill(srv, 0);
    mica_object_wait_one(srv, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(srv);
    mica_handle_close(ch[0]);
    report("idl_call_rt_same_cpu", median(samples, ITERS));
}

/* An async pair: write a message and read it back, in one thread. */
static void bench_channel_write_read(void)
{
    mica_handle_t ch[2];
    char out[64] = { 0 }, in[64];
    if (mica_channel_create(0, ch))
        return;
    for (int i = -WARMUP; i < ITERS; i++) {
        struct mica_msg_buf b = { .bytes = in, .bytes_cap = sizeof(in) };
        uint64_t t0 = tsc();
        mica_channel_write(ch[0], out, sizeof(out), NULL, 0);
        mica_channel_read(ch[1], &b);
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    mica_handle_close(ch[0]);
    mica_handle_close(ch[1]);
    report("channel_write_read", median(samples, ITERS));
}

/* Two threads on one CPU bounce a packet through two ports: each
 * round trip is two port_queue calls and two port_wait wake-ups. */
static mica_handle_t ports[2];

static void port_ponger(uint64_t a0, uint64_t a1)
{
    (void)a0;
    (void)a1;
    struct mica_packet p;
    for (int i = 0; i < ITERS + WARMUP; i++) {
        if (mica_port_wait(ports[0], 0, &p) || mica_port_queue(ports[1], &p))
            break;
    }
    mica_thread_exit();
}

static void port_pinger(uint64_t a0, uint64_t a1)
{
    (void)a0;
    (void)a1;
    struct mica_packet p = { .key = 1 };
    for (int i = -WARMUP; i < ITERS; i++) {
        uint64_t t0 = tsc();
        mica_port_queue(ports[0], &p);
        mica_port_wait(ports[1], 0, &p);
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    mica_thread_exit();
}

static void bench_port_wait_wake(void)
{
    mica_handle_t self = mica_process_self();
    if (mica_port_create(0, &ports[0]) || mica_port_create(0, &ports[1]) ||
        start_native(self, port_ponger, 0, 1, 0, 0) ||
        start_native(self, port_pinger, 1, 1, 0, 0)) {
        printf("bench: port_wait_wake setup failed\n");
        return;
    }
    wait_last();
    mica_handle_close(ports[0]);
    mica_handle_close(ports[1]);
    report("port_wait_wake", median(samples, ITERS));
}

/* Grants: the client lends 1 MiB; the server fills it with one
 * grant_write and answers.  Fewer rounds: each moves a mebibyte. */
#define GRANT_MIB (1u << 20)
#define GRANT_ITERS 101
#define GRANT_WARMUP 10
static char grant_buf[GRANT_MIB], grant_fill[GRANT_MIB];
static volatile int grant_status;

static void grant_server(uint64_t ep, uint64_t a1)
{
    (void)a1;
    mica_handle_t g;
    struct mica_msg_buf b = { .handles = &g, .handles_cap = 1 };
    int err = mica_channel_reply_read((mica_handle_t)ep, 0, NULL, &b, 0);
    while (err == OK) {
        int r = mica_grant_write(g, 0, grant_fill, GRANT_MIB);
        mica_handle_close(g);
        struct mica_msg m = { .bytes = &r, .num_bytes = sizeof(r) };
        uint64_t tx = b.txid;
        b.handles = &g;
        b.handles_cap = 1;
        err = mica_channel_reply_read((mica_handle_t)ep, tx, &m, &b, 0);
    }
    mica_process_exit(0);
}

static void grant_client(uint64_t ep, uint64_t a1)
{
    (void)a1;
    for (int i = -GRANT_WARMUP; i < GRANT_ITERS; i++) {
        mica_handle_t g;
        int r = 1;
        if (mica_grant_create(grant_buf, GRANT_MIB, RIGHT_WRITE, &g))
            break;
        struct mica_msg m = { .handles = &g, .num_handles = 1 };
        struct mica_msg_buf b = { .bytes = &r, .bytes_cap = sizeof(r) };
        uint64_t t0 = tsc();
        int err = mica_channel_call((mica_handle_t)ep, &m, &b, 0);
        uint64_t t1 = tsc();
        if (err || r) {
            grant_status = err ? err : r;
            break;
        }
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    mica_thread_exit();
}

static void bench_grant_copy(void)
{
    mica_handle_t ch[2], srv, moved, self = mica_process_self();
    memset(samples, 0, sizeof(samples));
    memset(grant_buf, 0, sizeof(grant_buf));    /* no first-touch faults */
    if (mica_channel_create(0, ch) ||
        mica_process_clone(self, "bench-server", 12, &srv) ||
        mica_handle_transfer(ch[1], srv, RIGHT_SAME_RIGHTS, &moved) ||
        start_native(srv, grant_server, 0, 1, moved, 0) ||
        start_native(self, grant_client, 1, 1, ch[0], 0)) {
        printf("bench: grant_copy_1mib setup failed\n");
        return;
    }
    wait_last();
    mica_process_kill(srv, 0);
    mica_object_wait_one(srv, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(srv);
    mica_handle_close(ch[0]);
    if (grant_status)
        printf("bench: grant_copy_1mib failed: %s\n",
               mica_status_str(grant_status));
    else
        report("grant_copy_1mib", median(samples, GRANT_ITERS));
}

static void bench_ipc(void)
{
    struct mica_system_info info;
    mica_system_info(&info);
    bench_call("call_rt_same_cpu", 0, 1, 1);
    bench_call("call_rt_same_cpu_64b", 64, 1, 1);
    bench_idl_call();
    if (info.cpus_online >= 2)
        bench_call("call_rt_cross_cpu", 0, 1, 2);
    else
        printf("bench: call_rt_cross_cpu needs two CPUs; skipped\n");
    bench_channel_write_read();
    bench_grant_copy();
    bench_port_wait_wake();
}

/* --- interrupts ------------------------------------------------------------------ */

/* From an interrupt to the driver thread running in user space: a
 * driver thread (above the sender's priority) waits on an MSI interrupt
 * object; the sender reads the TSC and raises the MSI's vector on its
 * own CPU (a self-IPI through the local APIC, which init may map with the
 * root resource), and the driver reads the TSC as soon as its wait
 * returns.  The figure covers the interrupt entry, the line's protocol,
 * waking the driver, the preemption and the switch, and the way out of
 * interrupt_wait to user space. */
#define LAPIC_PAGE 0xfee00000ull
static volatile uint64_t irq_t0;
static volatile int irq_done;

static void irq_driver(uint64_t h, uint64_t a1)
{
    (void)a1;
    uint64_t last = 0, seq;
    for (int i = -WARMUP; i < ITERS; i++) {
        if (mica_interrupt_wait((mica_handle_t)h, last, 0, &seq))
            break;
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - irq_t0;
        mica_interrupt_ack((mica_handle_t)h, seq);
        last = seq;
        irq_done = i + WARMUP + 1;
    }
    mica_thread_exit();
}

/* The sender, below the driver's priority: each interrupt preempts it. */
static void irq_sender(uint64_t icr_addr, uint64_t vector)
{
    volatile uint32_t *icr = (volatile uint32_t *)icr_addr;
    for (int n = 1; n <= ITERS + WARMUP; n++) {
        irq_t0 = tsc();
        *icr = (1u << 18) | (uint32_t)vector;   /* self, fixed delivery */
        while (irq_done < n)
            mica_thread_yield();
    }
    mica_thread_exit();
}

static void bench_irq_to_user(void)
{
    mica_handle_t root = mica_resource_handle(), h = 0, v = 0, driver;
    uint64_t addr = 0;
    struct mica_irq_info info;
    struct mica_thread_info ti;
    int err = root ? OK : ERR_BAD_HANDLE;
    if (!err)
        err = mica_interrupt_create(root, MICA_IRQ_MSI_NUMBER, MICA_IRQ_MSI,
                                    &h, NULL);
    if (!err)
        err = mica_interrupt_info(h, &info);
    if (!err)
        err = mica_vmo_create_physical(root, LAPIC_PAGE, 4096,
                                       MICA_CACHE_UNCACHED, &v);
    if (!err)
        err = mica_vm_map(mica_process_self(), v, 0, 4096,
                          MICA_VM_READ | MICA_VM_WRITE, &addr);
    irq_done = 0;
    if (!err)
        err = start_native(mica_process_self(), irq_driver, 0, 1, h, 0);
    driver = last_thread;
    last_thread = 0;                    /* start_native keeps only one */
    if (!err)
        err = mica_thread_info(driver, &ti);
    if (!err && ti.base_priority == 0)
        err = ERR_BAD_STATE;            /* no room below the driver */
    if (!err)
        err = start_native(mica_process_self(), irq_sender, 1, 1,
                           addr + 0x300, info.msi_data);
    if (!err)
        err = mica_thread_set_priority(last_thread, ti.base_priority - 1);
    if (err) {
        printf("bench: irq_to_user failed: %s\n", mica_status_str(err));
        if (last_thread)
            mica_thread_kill(last_thread);
    } else {
        wait_last();
        mica_object_wait_one(driver, SIGNAL_TERMINATED, 0, NULL);
        report("irq_to_user", median(samples, ITERS));
    }
    if (driver) {
        mica_thread_kill(driver);
        mica_handle_close(driver);
    }
    if (addr)
        mica_vm_unmap(mica_process_self(), addr, 4096);
    if (v)
        mica_handle_close(v);
    if (h)
        mica_handle_close(h);
}

/* --- the block driver ---------------------------------------------------
 *
 * A 4 KiB read round trip through the manifest's virtio-blk driver: the
 * client's call with a grant of its buffer, the driver checking it and
 * putting the request on the device's queue, the device (QEMU) reading
 * its image, the MSI, the driver's wake-up on its port, the copy into
 * the grant and the reply.  The grant is made before the clock starts
 * (each call needs one; the grant_copy_1mib figure is measured the same
 * way).  The manifest's programs (pci, then the driver) are started
 * here, as init starts them on other boots, after every other benchmark
 * has run, so nothing ran beside those.
 *
 * The device is QEMU's null block driver answering after 0.1 ms of host
 * time (tools/bench.sh), so the driver has gone to sleep, and every CPU
 * has halted, before the MSI comes, as with a real disk.  While every
 * CPU is halted, QEMU (-icount, sleep=off) moves the clock, so the TSC,
 * straight to the next timer; the kernel counts those stretches
 * (system_info's idle_all_ticks, kernel/core/idle.c) and the benchmark
 * subtracts them, read around the measured call, so what is left is
 * instructions.  The device works in host time, so not every read takes
 * the same path: docs/benchmarks.md says which ones the median keeps
 * out.
 */
#define BLK_SECTORS_4K 8

static uint64_t idle_ticks(void)
{
    struct mica_system_info info;
    mica_system_info(&info);
    return info.idle_all_ticks;
}

/* One timed read into buf: 0 and *ticks (idle subtracted), *idle; or
 * an error. */
static int blk_read_once(mica_handle_t ch, void *buf, uint64_t *ticks,
                         uint64_t *idle)
{
    mica_handle_t g;
    int err = mica_grant_create(buf, 4096, RIGHT_WRITE, &g);
    if (err)
        return err;
    uint64_t idle0 = idle_ticks();
    uint64_t t0 = tsc();
    err = block_read(ch, 0, BLK_SECTORS_4K, g);
    uint64_t t1 = tsc();
    *idle = idle_ticks() - idle0;
    *ticks = t1 - t0 - *idle;
    return err;
}

static void bench_blk_read_4k(const void *fs, size_t len)
{
    static char buf[4096] __attribute__((aligned(4096)));
    mica_handle_t ch;
    int halted = 0;
    if (services_start(fs, len, false) != 0 ||
        services_connect("disk", "blk", &ch) != OK) {
        printf("bench: blk_read_4k: the manifest's disk driver is not "
               "running; skipped\n");
        return;
    }
    memset(buf, 0, sizeof(buf));                /* no first-touch faults */
    for (int i = -WARMUP; i < ITERS; i++) {
        uint64_t ticks, idle;
        int err = blk_read_once(ch, buf, &ticks, &idle);
        if (err) {
            printf("bench: blk_read_4k failed: %s\n", mica_status_str(err));
            return;
        }
        if (i >= 0) {
            samples[i] = ticks;
            halted += idle > 0;
        }
    }
    report("blk_read_4k", median(samples, ITERS));
    printf("bench: blk_read_4k: every CPU halted during %d of %d reads\n",
           halted, ITERS);
}

int bench_run(const char *sel, const void *fs, size_t len)
{
    (void)sel;
    pin_cpu0();
    measure_overhead();
    printf("bench rdtsc_overhead instructions=%llu\n",
           (unsigned long long)overhead);
    bench_null_syscall();
    bench_page_fault();
    bench_thread_switch();
    bench_futex();
    bench_ipc();
    bench_irq_to_user();
    fflush(stdout);
    bench_blk_read_4k(fs, len);
    fflush(stdout);
    return 0;
}
