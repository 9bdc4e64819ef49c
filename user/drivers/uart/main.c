/*
 * main.c - the 16550 UART driver: a console server.
 *
 *     uart  bin/uart  log ioport=0x3f8+8 irq=isa:4
 *
 * One thread, one port.  The port carries the UART's interrupts (key
 * IRQ_KEY: the device is served, then the service ACKed, or NAKed when
 * the UART reported nothing), the connections init makes (messages on
 * the startup channel, key 0: one token and one channel end each, as
 * the pci server's), the requests of each connection (key: its slot
 * + 1; the console protocol, idl/console.idl, through the generated
 * console_dispatch), a connection's closing
 * (CLOSED_KEY + slot) and, when the driver holds the log capability,
 * the timer of the log mirror (TIMER_KEY).
 *
 * Reception and transmission are interrupt-driven through the line
 * discipline (ldisc.h): received bytes are edited and queued for
 * readers; written bytes queue in the transmit ring, which the
 * transmitter-empty interrupt drains.  A read that finds nothing waits
 * (its handler answers IDL_DEFER: the call stays unanswered, in a FIFO
 * of readers) until input comes; a write is answered once all its bytes
 * are in the ring.  While a
 * write waits for room the driver takes no new requests (it waits for
 * packets only), so a writer that outruns the line slows down instead
 * of piling up memory here.
 *
 * With the log capability the driver is the system's console: when it
 * enabled its ports the kernel stopped writing the log to them
 * (docs/boot.md), and the driver writes the log from that point on
 * itself, between the clients' output, read with debug_read as it
 * grows: on a timer (every 20 ms while the log grows, 200 ms while it
 * rests), whenever the transmitter has room, and before each client's
 * write, so that what was logged first is shown first.
 */
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "console.h"
#include "hw.h"
#include "ldisc.h"

#define MAX_CLIENTS 64
#define MAX_READERS 64
#define CLOSED_KEY  (1ull << 32)
#define IRQ_KEY     (1ull << 40)
#define TIMER_KEY   (1ull << 41)
#define MS          1000000ull

struct reader {                 /* a read call waiting for input */
    uint64_t txid;              /* the kernel's: where the reply goes */
    struct idl_txn t;           /* the protocol's: what the reply repeats */
    uint32_t count;
    unsigned slot;
};

/* The call being dispatched (the handlers' ctx). */
struct call {
    uint64_t txid;
    unsigned slot;
};

static struct uart dev;
static struct ldisc ld;
static mica_handle_t port, irq, timer;
static mica_handle_t clients[MAX_CLIENTS];
static struct reader readers[MAX_READERS];
static unsigned nreaders;
static uint64_t interrupts;
static bool mirror;
static uint64_t log_pos;

static struct {                 /* a write waiting for room */
    bool active;
    uint64_t txid;
    struct idl_txn t;
    unsigned slot;
    uint32_t done, count;
    uint8_t data[CONSOLE_DATA_MAX];
} pending;

static void close_handles(const struct mica_msg_buf *in)
{
    for (uint32_t i = 0; i < in->actual_handles; i++)
        mica_handle_close(in->handles[i]);
}

/* Send the reply o to call txid. */
static int send(uint64_t txid, const struct idl_out *o)
{
    struct mica_msg m = { o->bytes, o->handles, o->len, o->nhandles };
    return mica_reply_receive(port, txid, &m, NULL, 0);
}

/* Answer t (call txid) with OK and the results r. */
static int reply(uint64_t txid, const struct idl_txn *t, const void *r)
{
    static uint64_t buf[(IDL_HEADER_SIZE + 8 + CONSOLE_DATA_MAX) / 8];
    struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
    idl_reply(t, OK, r, &o);
    return send(txid, &o);
}

/* --- output ----------------------------------------------------------- */

/* The kernel log since the last look, as much as the ring takes. */
static bool log_pump(void)
{
    static char buf[1024];
    bool moved = false;
    while (mirror && !pending.active) {
        uint32_t room = ldisc_tx_room(&ld);
        uint64_t want = room / 2 < sizeof(buf) ? room / 2 : sizeof(buf);
        uint64_t from = log_pos, got = 0;
        if (want < 64 || mica_debug_read(&log_pos, buf, want, &got) != OK)
            break;
        if (log_pos - from > got) {
            char gap[64];
            int n = snprintf(gap, sizeof(gap), "[uart: %llu bytes of the "
                             "log lost]\n",
                             (unsigned long long)(log_pos - from - got));
            ldisc_write(&ld, gap, (uint32_t)n, true);
        }
        if (got == 0)
            break;
        ldisc_write(&ld, buf, (uint32_t)got, true);
        moved = true;
    }
    return moved;
}

/* Move the waiting write on; answer it once all of it is queued. */
static void pending_push(void)
{
    if (!pending.active)
        return;
    pending.done += ldisc_write(&ld, pending.data + pending.done,
                                pending.count - pending.done, false);
    if (pending.done < pending.count)
        return;
    pending.active = false;
    struct console_write_resp r = { pending.count };
    reply(pending.txid, &pending.t, &r);
}

/* --- input ------------------------------------------------------------ */

static void drop_reader(unsigned i)
{
    memmove(&readers[i], &readers[i + 1],
            (nreaders - i - 1) * sizeof(readers[0]));
    nreaders--;
}

/* Give waiting readers what has come, in their order.  Input is taken
 * only when the answer was delivered: a reader gone meanwhile (its call
 * abandoned) leaves it for the next. */
static void serve_readers(void)
{
    static uint8_t buf[CONSOLE_DATA_MAX];
    while (nreaders) {
        uint32_t n;
        bool eof;
        if (!ldisc_peek(&ld, buf, readers[0].count, &n, &eof))
            return;
        struct console_read_resp r = { { buf, n } };
        if (reply(readers[0].txid, &readers[0].t, &r) == OK)
            ldisc_consume(&ld, n, eof);
        drop_reader(0);
    }
}

/* After anything that may have moved input or output. */
static void after_io(void)
{
    serve_readers();
    pending_push();
    log_pump();
    uart_tx(&dev, &ld);
}

/* An edge-triggered line (an ISA one) cannot be shared by two devices:
 * every service on it is the UART's, and one that finds the UART quiet
 * is the replay of an edge whose condition an earlier service already
 * served (a condition that comes up while a service runs is served by
 * it, and its edge replayed at the end).  Answering NAK there would
 * mask the line for a back-off, and an edge that came meanwhile would
 * be lost for good.  On a level-triggered line a quiet UART is not the
 * cause: NAK. */
static bool edge_line;

static void on_interrupt(uint64_t seq)
{
    if (uart_service(&dev, &ld) || edge_line) {
        interrupts++;
        mica_interrupt_ack(irq, seq);
    } else {
        mica_interrupt_nak(irq, seq);   /* not the UART's: a shared line */
    }
    after_io();
}

static void on_timer(void)
{
    bool moved = log_pump();
    if (ldisc_tx_pending(&ld))          /* should an interrupt be lost */
        uart_service(&dev, &ld);
    uart_tx(&dev, &ld);
    uint64_t now;
    mica_clock_get(&now);
    mica_timer_set(timer, now + (moved ? 20 : 200) * MS, 0);
}

/* --- requests ---------------------------------------------------------- */

/* --- the handlers (struct console_server); ctx is the call ------------ */

static int do_write(void *ctx, const struct idl_txn *t,
                    const struct console_write_req *q,
                    struct console_write_resp *r)
{
    const struct call *c = ctx;
    log_pump();                         /* what was logged first goes first */
    uint32_t took = ldisc_write(&ld, q->data.data, q->data.count, false);
    uart_tx(&dev, &ld);
    if (took == q->data.count) {
        r->count = took;
        return OK;
    }
    pending.active = true;              /* the rest waits for room */
    pending.txid = c->txid;
    pending.t = *t;
    pending.slot = c->slot;
    pending.done = took;
    pending.count = q->data.count;
    memcpy(pending.data, q->data.data, q->data.count);
    return IDL_DEFER;
}

static int do_read(void *ctx, const struct idl_txn *t,
                   const struct console_read_req *q,
                   struct console_read_resp *r)
{
    const struct call *c = ctx;
    (void)r;
    if (q->count == 0 || q->count > CONSOLE_DATA_MAX ||
        (q->flags & ~CONSOLE_NOWAIT))
        return ERR_INVALID_ARGS;
    bool now = nreaders == 0 && ldisc_readable(&ld);
    if (!now && (q->flags & CONSOLE_NOWAIT))
        return ERR_SHOULD_WAIT;
    if (!now && nreaders == MAX_READERS)
        return ERR_NO_RESOURCES;
    readers[nreaders++] = (struct reader){ c->txid, *t, q->count, c->slot };
    serve_readers();
    return IDL_DEFER;                   /* answered, or waiting */
}

static uint32_t mode_now(void)
{
    return ld.mode | (uart_in_loopback(&dev) ? CONSOLE_LOOPBACK : 0);
}

/* Answered before the new mode moves any input or output. */
static int do_mode(void *ctx, const struct idl_txn *t,
                   const struct console_mode_req *q,
                   struct console_mode_resp *r)
{
    const struct call *c = ctx;
    if (q->modes & ~CONSOLE_MODES)
        return ERR_INVALID_ARGS;
    r->old = mode_now();
    ldisc_set_mode(&ld, q->modes);
    uart_loopback(&dev, q->modes & CONSOLE_LOOPBACK);
    reply(c->txid, t, r);
    after_io();
    return IDL_DEFER;
}

static int do_info(void *ctx, const struct idl_txn *t,
                   struct console_info_resp *r)
{
    struct mica_irq_info i = { 0 };
    (void)ctx;
    (void)t;
    mica_interrupt_info(irq, &i);
    r->info = (struct console_info){
        .mode = mode_now(), .readers = nreaders, .rx_bytes = ld.rx_bytes,
        .rx_dropped = ld.rx_dropped + dev.overruns, .tx_bytes = ld.tx_bytes,
        .interrupts = interrupts,
        .irq = { i.number, i.level, i.state, i.sinks, i.seq, i.raised,
                 i.acked, i.naked, i.spurious, i.late, i.unhandled,
                 i.msi_address, i.msi_data, 0 },
    };
    return OK;
}

static const struct console_server server = {
    .write = do_write, .read = do_read, .mode = do_mode, .info = do_info,
};

/* A message from a client: a call to dispatch, answered now or (a read
 * that waits, a write waiting for room) later. */
static void request(unsigned slot, const struct mica_msg_buf *in)
{
    uint64_t buf[(IDL_HEADER_SIZE + sizeof(struct console_info)) / 8 + 1];
    struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
    struct idl_in q = { in->bytes, in->actual_bytes, in->actual_handles,
                        in->handles, in->handle_infos };
    struct call c = { in->txid, slot };
    if (!in->txid) {                    /* not a call: nobody to answer */
        close_handles(in);
        return;
    }
    int r = console_dispatch(&server, &c, &q, &o);
    if (r == IDL_REFUSED)
        close_handles(in);
    if (r != IDL_DEFER)
        send(in->txid, &o);
}

/* --- connections -------------------------------------------------------- */

/* A new connection from init: one token (whatever the client's line
 * says, such as stdio=uart) and one channel end. */
static void new_client(const struct mica_msg_buf *in)
{
    unsigned slot = 0;
    while (slot < MAX_CLIENTS && clients[slot])
        slot++;
    mica_handle_t h = in->actual_handles == 1 ? in->handles[0] : 0;
    const char *why = !h                    ? "not one channel"
                      : slot == MAX_CLIENTS ? "no room"
                      : mica_channel_bind(h, port, slot + 1) ? "bind"
                      : mica_object_wait_async(h, port, CLOSED_KEY + slot,
                                               SIGNAL_PEER_CLOSED, 0)
                          ? "observer"
                          : NULL;
    if (why) {
        printf("uart: connection refused (%s)\n", why);
        close_handles(in);
        return;
    }
    clients[slot] = h;
}

static void closed(unsigned slot)
{
    if (slot >= MAX_CLIENTS || !clients[slot])
        return;
    mica_handle_close(clients[slot]);
    clients[slot] = 0;
    for (unsigned i = nreaders; i-- > 0;)
        if (readers[i].slot == slot)
            drop_reader(i);
    if (pending.active && pending.slot == slot) {
        pending.active = false;         /* its writer is gone */
        after_io();
    }
}

static void dispatch(const struct mica_msg_buf *in)
{
    if (in->kind == MICA_RECV_PACKET) {
        uint64_t key = in->packet.key;
        if (key == IRQ_KEY)
            on_interrupt(in->packet.data[0]);
        else if (key == TIMER_KEY)
            on_timer();
        else if (key >= CLOSED_KEY && key < CLOSED_KEY + MAX_CLIENTS)
            closed((unsigned)(key - CLOSED_KEY));
        return;
    }
    if (in->key == 0)
        new_client(in);
    else if (in->key <= MAX_CLIENTS && clients[in->key - 1])
        request((unsigned)in->key - 1, in);
    else
        close_handles(in);
}

static int serve(void)
{
    static uint64_t bytes[MICA_MSG_MAX_BYTES / 8];  /* 8-aligned */
    static mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    static struct mica_handle_info infos[MICA_MSG_MAX_HANDLES];
    for (;;) {
        struct mica_msg_buf in = {
            .bytes = bytes, .bytes_cap = sizeof(bytes), .handles = hs,
            .handles_cap = MICA_MSG_MAX_HANDLES, .handle_infos = infos,
        };
        int err;
        if (pending.active) {           /* packets only, until there is room */
            in.kind = MICA_RECV_PACKET;
            err = mica_port_wait(port, 0, &in.packet);
        } else {
            err = mica_port_receive(port, &in, 0);
        }
        if (err)
            return err;
        dispatch(&in);
    }
}

/* --- start -------------------------------------------------------------- */

static int start_mirror(void)
{
    uint64_t now, got;
    log_pos = UINT64_MAX;               /* the end: what comes from now on */
    if (mica_debug_read(&log_pos, NULL, 0, &got) != OK)
        return OK;                      /* no log capability: no mirror */
    mirror = true;
    int err = mica_timer_create(0, &timer);
    if (!err)
        err = mica_timer_set_port(timer, port, TIMER_KEY);
    mica_clock_get(&now);
    if (!err)
        err = mica_timer_set(timer, now + 20 * MS, 0);
    return err;
}

static int start(uint16_t base)
{
    ldisc_init(&ld, CONSOLE_ECHO | CONSOLE_LINE |
                        CONSOLE_CRLF);
    struct mica_irq_info info;
    int err = mica_interrupt_info(irq, &info);
    edge_line = !err && !info.level;
    if (!err)
        err = mica_port_create(0, &port);
    if (!err)
        err = mica_channel_bind(mica_startup_handle(), port, 0);
    if (!err)
        err = mica_interrupt_set_port(irq, port, IRQ_KEY);
    if (!err)
        err = start_mirror();
    if (err)
        return err;
    printf("uart: 16550 at %#x, %s, FIFO %u bytes: a console%s\n", base,
           mica_cap_token("irq", 0), dev.fifo,
           mirror ? ", showing the kernel log from here on" : "");
    fflush(stdout);
    return mica_ready();
}

int main(void)
{
    struct manifest_cap io;
    mica_handle_t ports;
    if (mica_caps_init() != OK)
        return 1;
    ports = mica_cap("ioport", 0);
    irq = mica_cap("irq", 0);
    if (!ports || !irq || mica_cap_decode("ioport", 0, &io) ||
        io.size < 8) {
        printf("uart: needs ioport=BASE+8 and irq=...\n");
        return 1;
    }
    int err = mica_ioport_enable(ports);
    if (err) {
        printf("uart: ioport_enable: %s\n", mica_status_str(err));
        return 1;
    }
    if (!uart_init(&dev, (uint16_t)io.base)) {
        printf("uart: no UART at %#llx\n", (unsigned long long)io.base);
        return 1;
    }
    err = start((uint16_t)io.base);
    if (!err)
        err = serve();
    printf("uart: %s\n", mica_status_str(err));
    return 1;
}
