/*
 * test_drivers.c - in-system tests of the UART and PS/2 keyboard
 * drivers (user/drivers/uart, user/drivers/ps2kbd) with real devices.
 *
 * The UART tests never touch COM1, the console: they start their own
 * instances of bin/uart on COM2 (which the test machine has, with
 * nothing attached) from a manifest line, put them in loopback through
 * the console protocol, and check that what is written comes back
 * through the interrupt-driven path, with the line discipline's
 * editing, every protocol error, a program whose stdin and stdout are
 * such a console (stdio=), a driver that cannot reach COM1's ports
 * (#GP kills it alone), and instances coming and going leaving nothing
 * behind.  The console itself (the manifest's uart on COM1) is only
 * asked for its counters, and shown to write the kernel log.
 *
 * The keyboard tests use the manifest's own ps2kbd: the suite enables
 * the controller's ports too and makes the controller deliver bytes as
 * if the keyboard sent them (command 0xD2, which raises IRQ 1 as a key
 * would), then reads the driver's key events.
 *
 * init gives this suite the root resource, the bootfs and a connection
 * to each of the two drivers of the manifest (capabilities `uart` and
 * `ps2kbd`, user/init/suites.c).  Every wait is for progress, bounded
 * by 60 s to turn a hang into a failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <mica/exception.h>

#include "caps.h"
#include "console.h"
#include "idl.h"
#include "kbd.h"
#include "mica.h"
#include "service.h"
#include "utest.h"

#define SEC 1000000000ull
#define BOUND (60 * SEC)
#define GP_EXIT (-(MICA_EXC_GP + 1))

#define UART2_LINE "uart2 bin/uart ioport=0x2f8+8 irq=isa:3\n"
#define COM2_IRQ 3

static uint64_t now_ns(void)
{
    uint64_t t = 0;
    mica_clock_get(&t);
    return t;
}

/* inb and outb: the kernel's, through service.h's headers. */

/* --- starting programs ------------------------------------------------- */

static const void *fs;
static size_t fs_len;
static struct manifest m;

static bool map_bootfs(void)
{
    mica_handle_t v = mica_cap("bootfs", 0);
    uint64_t size = 0, addr = 0;
    if (fs)
        return true;
    if (!v || mica_vmo_get_size(v, &size) ||
        mica_vm_map(mica_process_self(), v, 0, size, MICA_VM_READ, &addr))
        return false;
    fs = (const void *)addr;
    fs_len = size;
    return true;
}

/* Start line i of `text`, the programs of `running` reachable. */
static int start(const char *text, unsigned i, struct service_set *running,
                 struct service *s)
{
    char err[160];
    if (!map_bootfs())
        return ERR_NOT_FOUND;
    if (manifest_parse(text, strlen(text), &m, err, sizeof(err))) {
        printf("    # %s\n", err);
        return ERR_INVALID_ARGS;
    }
    return service_start(&m.e[i], fs, fs_len, mica_resource_handle(),
                         running, s, NULL);
}

/* A UART driver on COM2, ready, and a connection to it. */
static int uart2_up(struct service *s, mica_handle_t *con)
{
    int err = start(UART2_LINE, 0, NULL, s);
    if (err)
        return err;
    if ((err = service_wait_ready(s, now_ns() + BOUND)) ||
        (err = service_connect(s, "test", con)))
        service_stop(s);
    return err;
}

static int exit_code(mica_handle_t proc)
{
    struct mica_process_info info = { .exit_code = -1000 };
    if (mica_object_wait_one(proc, SIGNAL_TERMINATED, now_ns() + BOUND,
                             NULL) != OK)
        return -2000;
    mica_process_info(proc, &info);
    return info.exit_code;
}

/* --- the console protocol's client side ------------------------------------ */

static int con_write(mica_handle_t h, const char *s, uint32_t n)
{
    uint32_t took = 0;
    int err = console_write(h, s, n, &took);
    return err ? err : took == n ? OK : ERR_IO;
}

/* One read of at most `count` bytes into buf (room for cap); *n: how
 * many came. */
static int con_read(mica_handle_t h, uint32_t count, uint32_t flags,
                    char *buf, uint32_t cap, uint32_t *n)
{
    *n = 0;
    return console_read(h, count, flags, buf, cap, n);
}

/* Read until n bytes came (a raw console hands them over as they come). */
static int con_read_n(mica_handle_t h, char *buf, uint32_t n)
{
    for (uint32_t got = 0; got < n;) {
        uint32_t c;
        int err = con_read(h, n - got, 0, buf + got, n - got, &c);
        if (err)
            return err;
        if (c == 0 || c > n - got)
            return ERR_IO;
        got += c;
    }
    return OK;
}

static int con_mode(mica_handle_t h, uint32_t mode, uint32_t *old)
{
    return console_mode(h, mode, old);
}

static int con_info(mica_handle_t h, struct console_info *info)
{
    memset(info, 0, sizeof(*info));
    return console_info(h, info);
}

/* --- malformed messages ---------------------------------------------------- */

/* A message as it is, with the handles given (which move), called: the
 * status of the reply, which must be an IDL header alone repeating
 * `txid` (0 for a request too short to have one); 1000 + the error of
 * the call, or 2000 for a reply of another shape. */
static int raw_call(mica_handle_t h, const void *bytes, uint32_t n,
                    const mica_handle_t *hs, uint32_t nh, uint64_t txid)
{
    uint64_t rep[8];
    struct idl_header hd;
    struct mica_msg msg = { bytes, hs, n, nh };
    struct mica_msg_buf b = { .bytes = rep, .bytes_cap = sizeof(rep) };
    int err = mica_channel_call(h, &msg, &b, now_ns() + BOUND);
    if (err)
        return 1000 + err;
    if (idl_decode_header(rep, b.actual_bytes, true, &hd) ||
        b.actual_bytes != IDL_HEADER_SIZE || hd.txid != txid)
        return 2000;
    return hd.status;
}

/* Request q of method m, under id `id`, encoded into buf (room for 64
 * words); its length. */
static uint32_t encode(const struct idl_method *m, uint64_t id,
                       const void *q, uint64_t *buf)
{
    struct idl_header hd = { IDL_MAGIC, 0, 5, id, OK, 0 };
    struct idl_out o = { .bytes = buf, .cap = 64 * 8 };
    return idl_encode(&m->request, &hd, q, &o) == OK ? o.len : 0;
}

/* --- the UART on COM2, in loopback -------------------------------------------- */

/* What is written comes back as received bytes, through interrupts the
 * driver answered; the counters say so. */
UTEST(uart_loopback_through_the_protocol)
{
    struct service s;
    mica_handle_t con;
    struct console_info before, after;
    uint32_t old = 0;
    char buf[64];
    UASSERT(uart2_up(&s, &con) == OK);
    UEXPECT(con_mode(con, CONSOLE_LOOPBACK, &old) == OK);
    UEXPECT(old == (CONSOLE_ECHO | CONSOLE_LINE |
                    CONSOLE_CRLF));        /* a console's default */
    UEXPECT(con_info(con, &before) == OK);
    UEXPECT(before.mode == CONSOLE_LOOPBACK);
    UEXPECT(before.irq.number == COM2_IRQ);
    static const char text[] = "hello, COM2: 0123456789 abcdefghijklmnop";
    uint32_t n = sizeof(text) - 1;
    UEXPECT(con_write(con, text, n) == OK);
    UEXPECT(con_read_n(con, buf, n) == OK);
    UEXPECT(memcmp(buf, text, n) == 0);
    UEXPECT(con_info(con, &after) == OK);
    UEXPECT(after.tx_bytes >= before.tx_bytes + n);
    UEXPECT(after.rx_bytes >= before.rx_bytes + n);
    UEXPECT(after.rx_dropped == 0);
    UEXPECT(after.interrupts > before.interrupts);
    UEXPECT(after.irq.raised > before.irq.raised);
    UEXPECT(after.irq.acked > before.irq.acked);
    UEXPECT(after.irq.unhandled == before.irq.unhandled);  /* since boot */
    /* many loads of the transmitter's FIFO */
    static char big[3000], back[3000];
    for (unsigned i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    UEXPECT(con_write(con, big, sizeof(big)) == OK);
    UEXPECT(con_read_n(con, back, sizeof(back)) == OK);
    UEXPECT(memcmp(big, back, sizeof(big)) == 0);
    mica_handle_close(con);
    service_stop(&s);
}

/* The line discipline, seen through the loopback: line editing, the
 * end of file, CR NL on output, and NOWAIT. */
UTEST(uart_line_discipline_in_loopback)
{
    struct service s;
    mica_handle_t con;
    uint32_t n;
    char buf[64];
    UASSERT(uart2_up(&s, &con) == OK);
    UEXPECT(con_mode(con, CONSOLE_LOOPBACK | CONSOLE_LINE,
                     NULL) == OK);
    /* DEL erases, CR ends the line as NL, ^U kills the line */
    UEXPECT(con_write(con, "ab\x7f" "c\r", 5) == OK);
    UEXPECT(con_read(con, 64, 0, buf, 64, &n) == OK);
    UEXPECT(n == 3 && memcmp(buf, "ac\n", 3) == 0);
    UEXPECT(con_write(con, "xyz\x15" "q\n", 6) == OK);
    UEXPECT(con_read(con, 64, 0, buf, 64, &n) == OK);
    UEXPECT(n == 2 && memcmp(buf, "q\n", 2) == 0);
    /* a line read in two parts; ^D on an empty line: the end of file */
    UEXPECT(con_write(con, "long\n\x04", 6) == OK);
    UEXPECT(con_read(con, 2, 0, buf, 64, &n) == OK);
    UEXPECT(n == 2 && memcmp(buf, "lo", 2) == 0);
    UEXPECT(con_read(con, 64, 0, buf, 64, &n) == OK);
    UEXPECT(n == 3 && memcmp(buf, "ng\n", 3) == 0);
    UEXPECT(con_read(con, 64, 0, buf, 64, &n) == OK);
    UEXPECT(n == 0);
    /* nothing there: NOWAIT says so; a partial line is not readable */
    UEXPECT(con_write(con, "part", 4) == OK);
    UEXPECT(con_read(con, 64, CONSOLE_NOWAIT, buf, 64, &n) ==
            ERR_SHOULD_WAIT);
    /* leaving line mode hands the partial line over */
    UEXPECT(con_mode(con, CONSOLE_LOOPBACK | CONSOLE_CRLF, NULL) ==
            OK);
    UEXPECT(con_read_n(con, buf, 4) == OK);
    UEXPECT(memcmp(buf, "part", 4) == 0);
    /* CRLF: NL goes out as CR NL */
    UEXPECT(con_write(con, "a\nb", 3) == OK);
    UEXPECT(con_read_n(con, buf, 4) == OK);
    UEXPECT(memcmp(buf, "a\r\nb", 4) == 0);
    mica_handle_close(con);
    service_stop(&s);
}

struct blocked_read {
    mica_handle_t con;
    int status;
    uint32_t count;
};

static void *read_one(void *arg)
{
    struct blocked_read *b = arg;
    char c;
    b->status = con_read(b->con, 1, 0, &c, 1, &b->count);
    return NULL;
}

/* Wait until the driver counts `n` waiting readers. */
static bool readers_waiting(mica_handle_t con, uint32_t n)
{
    struct console_info info;
    uint64_t end = now_ns() + BOUND;
    while (con_info(con, &info) == OK && info.readers != n &&
           now_ns() < end)
        mica_nanosleep(now_ns() + 1000000);
    return info.readers == n;
}

/* 64 reads may wait; the 65th is refused until input comes. */
static void too_many_readers(mica_handle_t con)
{
    enum { N = 64 };
    static struct blocked_read b[N];
    static pthread_t t[N];
    pthread_attr_t attr;
    uint32_t n;
    char buf[N];
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int started = 0;
    for (; started < N; started++) {
        b[started] = (struct blocked_read){ .con = con, .status = 1 };
        if (pthread_create(&t[started], &attr, read_one, &b[started]))
            break;
    }
    UEXPECT(started == N);
    UEXPECT(readers_waiting(con, (uint32_t)started));
    UEXPECT(con_read(con, 1, 0, buf, 1, &n) == ERR_NO_RESOURCES);
    UEXPECT(con_read(con, 1, CONSOLE_NOWAIT, buf, 1, &n) == ERR_SHOULD_WAIT);
    memset(buf, 'r', sizeof(buf));
    UEXPECT(con_write(con, buf, (uint32_t)started) == OK);    /* one each */
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        UEXPECT(b[i].status == OK && b[i].count == 1);
    }
    pthread_attr_destroy(&attr);
}

/* Every error of the protocol, on a connection that keeps working. */
UTEST(uart_protocol_errors)
{
    struct service s;
    mica_handle_t con, ev;
    uint64_t q[64] = { 0 };
    uint32_t n, old;
    char buf[16];
    UASSERT(uart2_up(&s, &con) == OK);
    UEXPECT(con_mode(con, CONSOLE_LOOPBACK, NULL) == OK);
    /* shorter than a header; with a handle (which is closed); bytes
     * after a request; an unknown method */
    UEXPECT(raw_call(con, "abc", 3, NULL, 0, 0) == ERR_INVALID_ARGS);
    uint32_t len = encode(&console_info_method, CONSOLE_INFO_ID, NULL, q);
    UASSERT(len == IDL_HEADER_SIZE);
    UASSERT(mica_event_create(0, &ev) == OK);
    UEXPECT(raw_call(con, q, len, &ev, 1, 5) == ERR_INVALID_ARGS);
    UEXPECT(raw_call(con, q, len + 8, NULL, 0, 5) == ERR_INVALID_ARGS);
    struct console_mode_req mq = { CONSOLE_LOOPBACK };
    len = encode(&console_mode_method, 99, &mq, q);
    UEXPECT(len && raw_call(con, q, len, NULL, 0, 5) == ERR_NOT_SUPPORTED);
    /* write: more than DATA_MAX (the stub will not send it; the driver
     * will not take it), a count that is not the bytes given */
    static char big[CONSOLE_DATA_MAX + 8];
    UEXPECT(console_write(con, big, CONSOLE_DATA_MAX + 1, NULL) ==
            ERR_OUT_OF_RANGE);
    struct console_write_req wq = { { "abc", 3 } };
    len = encode(&console_write_method, CONSOLE_WRITE_ID, &wq, q);
    UASSERT(len == IDL_HEADER_SIZE + 16);
    ((uint32_t *)q)[9] = 9;             /* the count: past the end */
    UEXPECT(raw_call(con, q, len, NULL, 0, 5) == ERR_INVALID_ARGS);
    /* read: count 0 or too big, unknown flags, NOWAIT with nothing */
    UEXPECT(con_read(con, 0, 0, buf, 16, &n) == ERR_INVALID_ARGS);
    UEXPECT(con_read(con, CONSOLE_DATA_MAX + 1, 0, buf, 16, &n) ==
            ERR_INVALID_ARGS);
    UEXPECT(con_read(con, 1, 2, buf, 16, &n) == ERR_INVALID_ARGS);
    UEXPECT(con_read(con, 1, CONSOLE_NOWAIT, buf, 16, &n) ==
            ERR_SHOULD_WAIT);
    /* mode: unknown bits */
    UEXPECT(con_mode(con, 0x10, NULL) == ERR_INVALID_ARGS);
    /* a request written, not called, is dropped unanswered */
    wq = (struct console_write_req){ { "Z", 1 } };
    len = encode(&console_write_method, CONSOLE_WRITE_ID, &wq, q);
    UEXPECT(mica_channel_write(con, q, len, NULL, 0) == OK);
    UEXPECT(con_write(con, "k", 1) == OK);
    UEXPECT(con_read_n(con, buf, 1) == OK && buf[0] == 'k');
    /* the mode was left as it was by the refused mode calls */
    UEXPECT(con_mode(con, CONSOLE_LOOPBACK, &old) == OK);
    UEXPECT(old == CONSOLE_LOOPBACK);
    too_many_readers(con);
    mica_handle_close(con);
    service_stop(&s);
}

/* A program whose line says stdio=uart2 talks through that driver: in
 * loopback, what it prints comes back to its stdin. */
UTEST(uart_serves_a_programs_stdio)
{
    struct service srv[2];
    mica_handle_t con;
    static const char text[] = UART2_LINE "probe bin/stdioprobe stdio=uart2\n";
    UASSERT(uart2_up(&srv[0], &con) == OK);
    UEXPECT(con_mode(con, CONSOLE_LOOPBACK, NULL) == OK);
    /* parsing the two lines leaves uart2's entry where it was, the same */
    struct service_set set = { srv, 1, NULL };
    UASSERT(start(text, 1, &set, &srv[1]) == OK);
    UEXPECT(exit_code(srv[1].proc) == 0);       /* it read its "ping" */
    struct console_info info;
    UEXPECT(con_info(con, &info) == OK);
    UEXPECT(info.tx_bytes >= 5 && info.rx_bytes >= 5);
    service_stop(&srv[1]);
    mica_handle_close(con);
    service_stop(&srv[0]);
}

/* Code run by a thread the test starts in the driver's process:
 *     mov edx, edi; in al, dx; mov [rsi], al; jmp . */
static const uint8_t port_code[] = { 0x89, 0xfa, 0xec, 0x88, 0x06, 0xeb,
                                     0xfe };

/* A thread of the driver reads port `port` and stores the byte at
 * `data`; it then spins (or the process dies trying). */
static int run_in_driver(mica_handle_t proc, uint64_t code, uint64_t data,
                         uint16_t port, mica_handle_t *t)
{
    int err = mica_thread_create(proc, "stray", 5, t);
    if (!err)
        err = mica_thread_start(*t, code, data + 4096, port, data);
    return err;
}

/* The driver on COM2 may use COM2's ports and no other: a thread in
 * its process reads COM2's scratch register (the driver's 0x5a), but
 * reading COM1's kills the process (#GP) -- and only it: the console
 * goes on. */
UTEST(uart_cannot_touch_com1)
{
    struct service s;
    mica_handle_t con, code, data, t1, t2;
    uint64_t code_at = 0, data_at = 0;
    UASSERT(uart2_up(&s, &con) == OK);
    UASSERT(mica_vmo_create(4096, &code) == OK);
    UASSERT(mica_vmo_write(code, port_code, 0, sizeof(port_code)) == OK);
    UASSERT(mica_vm_map(s.proc, code, 0, 4096, MICA_VM_READ | MICA_VM_EXEC,
                        &code_at) == OK);
    UASSERT(mica_vmo_create(8192, &data) == OK);
    UASSERT(mica_vm_map(s.proc, data, 0, 8192, MICA_VM_READ | MICA_VM_WRITE,
                        &data_at) == OK);
    UASSERT(run_in_driver(s.proc, code_at, data_at, 0x2f8 + 7, &t1) == OK);
    uint8_t seen = 0;
    uint64_t end = now_ns() + BOUND;
    while (seen != 0x5a && now_ns() < end) {
        mica_vmo_read(data, &seen, 0, 1);
        mica_nanosleep(now_ns() + 1000000);
    }
    UEXPECT(seen == 0x5a);
    UEXPECT(mica_thread_kill(t1) == OK);
    struct console_info info;
    UEXPECT(con_info(con, &info) == OK);        /* the driver still serves */
    UASSERT(run_in_driver(s.proc, code_at, data_at + 1, 0x3f8 + 7, &t2) ==
            OK);
    UEXPECT(exit_code(s.proc) == GP_EXIT);
    mica_handle_t console = mica_cap("uart", 0);
    if (console)
        UEXPECT(con_info(console, &info) == OK);
    mica_handle_close(t1);
    mica_handle_close(t2);
    mica_handle_close(code);
    mica_handle_close(data);
    mica_handle_close(con);
    service_stop(&s);
}

/* --- processes coming and going --------------------------------------------- */

static bool no_more(const struct mica_system_info *now,
                    const struct mica_system_info *before)
{
    return now->free_pages >= before->free_pages &&
           now->live_processes <= before->live_processes &&
           now->live_threads <= before->live_threads &&
           now->live_vmos <= before->live_vmos &&
           now->live_channels <= before->live_channels &&
           now->live_ports <= before->live_ports &&
           now->live_timers <= before->live_timers;
}

static void settle(struct mica_system_info *now,
                   const struct mica_system_info *before)
{
    uint64_t end = now_ns() + BOUND;
    for (;;) {
        mica_system_info(now);
        if (no_more(now, before) || now_ns() > end)
            return;
        mica_nanosleep(now_ns() + 10000000);
    }
}

/* A driver with clients, one of them a program blocked reading its
 * stdin, is stopped: the program's read ends (the end of file), and
 * everything goes. */
static void driver_round(void)
{
    struct service srv[2];
    mica_handle_t con, con2;
    char buf[8];
    static const char text[] = UART2_LINE "probe bin/stdioprobe stdio=uart2\n";
    UASSERT(uart2_up(&srv[0], &con) == OK);
    UASSERT(service_connect(&srv[0], "second", &con2) == OK);
    UEXPECT(con_mode(con2, CONSOLE_LOOPBACK, NULL) == OK);
    UEXPECT(con_write(con2, "xy", 2) == OK);
    UEXPECT(con_read_n(con, buf, 2) == OK);
    /* out of loopback: the probe's "ping" leaves, and no line comes */
    UEXPECT(con_mode(con2, 0, NULL) == OK);
    struct service_set set = { srv, 1, NULL };
    UASSERT(start(text, 1, &set, &srv[1]) == OK);
    UEXPECT(readers_waiting(con, 1));
    service_stop(&srv[0]);
    UEXPECT(exit_code(srv[1].proc) == 2);       /* fgets: end of file */
    service_stop(&srv[1]);
    mica_handle_close(con);
    mica_handle_close(con2);
}

UTEST(uart_instances_leave_nothing)
{
    struct mica_system_info before, after;
    driver_round();                     /* the first may grow our memory */
    mica_system_info(&before);
    driver_round();
    settle(&after, &before);
    UEXPECT(no_more(&after, &before));
}

/* --- the console on COM1 ---------------------------------------------------- */

/* The manifest's uart owns COM1 and shows the kernel log: a line this
 * suite logs makes its transmit count grow. */
UTEST(console_is_the_uart_on_com1)
{
    mica_handle_t console = mica_cap("uart", 0);
    struct console_info a, b;
    UASSERT(console != 0);
    UASSERT(con_info(console, &a) == OK);
    UEXPECT(a.mode == (CONSOLE_ECHO | CONSOLE_LINE |
                       CONSOLE_CRLF));
    UEXPECT(a.irq.number == 4);
    UEXPECT(a.tx_bytes > 0 && a.interrupts > 0 && a.irq.acked > 0);
    static const char line[] = "    # the console shows this line\n";
    printf("%s", line);
    fflush(stdout);
    uint64_t end = now_ns() + BOUND;
    do {
        mica_nanosleep(now_ns() + 10000000);
        UASSERT(con_info(console, &b) == OK);
    } while (b.tx_bytes < a.tx_bytes + sizeof(line) - 1 && now_ns() < end);
    UEXPECT(b.tx_bytes >= a.tx_bytes + sizeof(line) - 1);
    UEXPECT(b.irq.acked > a.irq.acked);
}

/* --- the PS/2 keyboard ------------------------------------------------------ */

/* The controller's ports, enabled for this process too (once). */
static bool kbd_ports(void)
{
    static bool done;
    mica_handle_t io;
    for (uint32_t i = 0; i < 2 && !done; i++) {
        if (mica_ioport_create(mica_resource_handle(), i ? 0x64 : 0x60, 1,
                               &io) != OK ||
            mica_ioport_enable(io) != OK)
            return false;
        mica_handle_close(io);
    }
    done = true;
    return true;
}

/* Wait until the status register has `bit` clear. */
static bool kbd_clear(uint8_t bit)
{
    uint64_t end = now_ns() + BOUND;
    while (inb(0x64) & bit)
        if (now_ns() > end)
            return false;
        else
            mica_nanosleep(now_ns() + 100000);
    return true;
}

/* The controller delivers `b` as if the keyboard sent it (command
 * 0xD2), raising IRQ 1; wait until the driver has taken it. */
static bool inject(uint8_t b)
{
    if (!kbd_clear(0x02))
        return false;
    outb(0x64, 0xd2);
    if (!kbd_clear(0x02))
        return false;
    outb(0x60, b);
    return kbd_clear(0x01);
}

/* Read until n events came. */
static bool kbd_events(mica_handle_t h, struct kbd_event *ev, uint32_t n)
{
    for (uint32_t got = 0; got < n;) {
        uint32_t c = 0;
        if (kbd_read(h, n - got, 0, ev + got, n - got, &c) != OK ||
            c == 0 || c > n - got)
            return false;
        got += c;
    }
    return true;
}

struct want {
    uint16_t code;
    bool pressed;
    uint8_t ascii;
    uint16_t mods;
};

/* Scan codes as a keyboard sends them, and the events they are. */
UTEST(ps2kbd_injected_scancodes)
{
    static const uint8_t bytes[] = {
        0x2a, 0x1e, 0x9e, 0xaa,         /* Shift, a: 'A' */
        0x30, 0xb0, 0x1c, 0x9c,         /* b, Enter */
        0xe0, 0x48, 0xe0, 0xc8,         /* Up (extended) */
        0x3a, 0xba, 0x2e, 0xae,         /* Caps Lock, c: 'C' */
        0x3a, 0xba,                     /* Caps Lock off */
        0x1d, 0x2e, 0xae, 0x9d,         /* Ctrl-C */
        0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5,     /* Pause */
        0xe0, 0x2a, 0xe0, 0x37,         /* Print Screen, fake shift */
        0xe0, 0xb7, 0xe0, 0xaa,
        0xfa,                           /* not key data */
    };
    static const struct want want[] = {
        { KBD_KEY_LSHIFT, 1, 0, KBD_MOD_LSHIFT },
        { 0x1e, 1, 'A', KBD_MOD_LSHIFT },
        { 0x1e, 0, 0, KBD_MOD_LSHIFT },
        { KBD_KEY_LSHIFT, 0, 0, 0 },
        { 0x30, 1, 'b', 0 }, { 0x30, 0, 0, 0 },
        { KBD_KEY_ENTER, 1, '\n', 0 }, { KBD_KEY_ENTER, 0, 0, 0 },
        { KBD_KEY_UP, 1, 0, 0 }, { KBD_KEY_UP, 0, 0, 0 },
        { KBD_KEY_CAPSLOCK, 1, 0, KBD_MOD_CAPS },
        { KBD_KEY_CAPSLOCK, 0, 0, KBD_MOD_CAPS },
        { 0x2e, 1, 'C', KBD_MOD_CAPS }, { 0x2e, 0, 0, KBD_MOD_CAPS },
        { KBD_KEY_CAPSLOCK, 1, 0, 0 }, { KBD_KEY_CAPSLOCK, 0, 0, 0 },
        { KBD_KEY_LCTRL, 1, 0, KBD_MOD_LCTRL },
        { 0x2e, 1, 3, KBD_MOD_LCTRL }, { 0x2e, 0, 0, KBD_MOD_LCTRL },
        { KBD_KEY_LCTRL, 0, 0, 0 },
        { KBD_KEY_PAUSE, 1, 0, 0 },
        { KBD_KEY_PRINT, 1, 0, 0 }, { KBD_KEY_PRINT, 0, 0, 0 },
    };
    enum { N = sizeof(want) / sizeof(want[0]) };
    mica_handle_t kbd = mica_cap("ps2kbd", 0);
    struct kbd_info before, after;
    static struct kbd_event ev[N];
    UASSERT(kbd != 0);
    UASSERT(kbd_ports());
    UASSERT(kbd_info(kbd, &before) == OK);
    UEXPECT(before.irq.number == 1);
    for (unsigned i = 0; i < sizeof(bytes); i++)
        UASSERT(inject(bytes[i]));
    UASSERT(kbd_events(kbd, ev, N));
    for (unsigned i = 0; i < N; i++) {
        bool same = ev[i].code == want[i].code &&
                    ev[i].pressed == want[i].pressed &&
                    ev[i].ascii == want[i].ascii &&
                    ev[i].mods == want[i].mods;
        if (!same)
            printf("    # event %u: code %#x pressed %u ascii %u mods %#x\n",
                   i, ev[i].code, ev[i].pressed, ev[i].ascii, ev[i].mods);
        UEXPECT(same);
    }
    uint32_t c = 1;
    UEXPECT(kbd_read(kbd, 8, KBD_NOWAIT, ev, N, &c) ==
            ERR_SHOULD_WAIT);                   /* nothing more */
    UASSERT(kbd_info(kbd, &after) == OK);
    UEXPECT(after.key_bytes == before.key_bytes + sizeof(bytes) - 1);
    UEXPECT(after.other == before.other + 1);
    UEXPECT(after.events >= before.events + N);
    UEXPECT(after.interrupts > before.interrupts);
    UEXPECT(after.irq.acked > before.irq.acked);
    UEXPECT(after.mods == 0 && after.dropped == 0);
}

struct blocked_key {
    mica_handle_t kbd;
    int status;
    uint32_t count;
};

static void *read_key(void *arg)
{
    struct blocked_key *b = arg;
    struct kbd_event ev;
    b->status = kbd_read(b->kbd, 1, 0, &ev, 1, &b->count);
    return NULL;
}

static bool kbd_readers_waiting(mica_handle_t kbd, uint32_t n)
{
    struct kbd_info info = { 0 };
    uint64_t end = now_ns() + BOUND;
    while (kbd_info(kbd, &info) == OK &&
           info.readers != n && now_ns() < end)
        mica_nanosleep(now_ns() + 1000000);
    return info.readers == n;
}

UTEST(ps2kbd_protocol_errors)
{
    enum { N = 64 };
    mica_handle_t kbd = mica_cap("ps2kbd", 0), ev;
    static struct blocked_key b[N];
    static pthread_t t[N];
    uint32_t c;
    UASSERT(kbd != 0);
    UASSERT(kbd_ports());
    /* malformed messages: too short, with a handle, an unknown method,
     * bytes after the request; then max and flags */
    uint64_t q[64] = { 0 };
    struct kbd_read_req rq = { 1, 0 };
    UEXPECT(raw_call(kbd, "abc", 3, NULL, 0, 0) == ERR_INVALID_ARGS);
    uint32_t n = encode(&kbd_info_method, KBD_INFO_ID, NULL, q);
    UASSERT(n == IDL_HEADER_SIZE);
    UASSERT(mica_event_create(0, &ev) == OK);
    UEXPECT(raw_call(kbd, q, n, &ev, 1, 5) == ERR_INVALID_ARGS);
    UEXPECT(raw_call(kbd, q, n + 8, NULL, 0, 5) == ERR_INVALID_ARGS);
    n = encode(&kbd_read_method, 7, &rq, q);
    UEXPECT(n && raw_call(kbd, q, n, NULL, 0, 5) == ERR_NOT_SUPPORTED);
    UEXPECT(kbd_read(kbd, 0, 0, NULL, 0, NULL) == ERR_INVALID_ARGS);
    UEXPECT(kbd_read(kbd, KBD_EVENTS_MAX + 1, 0, NULL, 0, NULL) ==
            ERR_INVALID_ARGS);
    UEXPECT(kbd_read(kbd, 1, 2, NULL, 0, NULL) == ERR_INVALID_ARGS);
    UEXPECT(kbd_read(kbd, 1, KBD_NOWAIT, NULL, 0, &c) == ERR_SHOULD_WAIT);
    /* 64 reads wait; the 65th is refused; a key each lets them go */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int started = 0;
    for (; started < N; started++) {
        b[started] = (struct blocked_key){ .kbd = kbd, .status = 1 };
        if (pthread_create(&t[started], &attr, read_key, &b[started]))
            break;
    }
    UEXPECT(started == N);
    UEXPECT(kbd_readers_waiting(kbd, (uint32_t)started));
    UEXPECT(kbd_read(kbd, 1, 0, NULL, 0, NULL) == ERR_NO_RESOURCES);
    for (int i = 0; i < started; i++)
        UEXPECT(inject((uint8_t)(i & 1 ? 0x9e : 0x1e)));  /* a, up, down */
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        UEXPECT(b[i].status == OK && b[i].count == 1);
    }
    pthread_attr_destroy(&attr);
}
