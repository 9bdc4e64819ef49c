/*
 * main.c - the PS/2 keyboard driver: key events for its clients.
 *
 *     ps2kbd  bin/ps2kbd  log ioport=0x60+1 ioport=0x64+1 irq=isa:1
 *
 * One thread, one port, as the UART driver: the keyboard's interrupts
 * (IRQ_KEY), connections from init (startup channel, key 0: one token
 * and one channel end each), requests (key: slot + 1; idl/kbd.idl,
 * through the generated kbd_dispatch) and closings (CLOSED_KEY + slot).  Each interrupt empties the
 * controller's output buffer: keyboard bytes go through the decoder
 * (keymap.h) into a queue of events, the mouse's bytes (nobody drives
 * the mouse yet) are dropped and counted so they cannot block the
 * keyboard.  Reads that find the queue empty wait, in a FIFO, until
 * events come (their handler answers IDL_DEFER and the reply is sent
 * when there are events); a full queue drops new events and counts
 * them.
 *
 * Scan code set 1, through the controller's translation: every PC
 * keyboard and QEMU's speak set 2 on the wire and the i8042 turns it
 * into set 1 unless told not to, so set 1 is what the firmware leaves
 * and what works everywhere.
 */
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "i8042.h"
#include "keymap.h"

#define MAX_CLIENTS 64
#define MAX_READERS 64
#define QUEUE       128         /* events kept (a power of two) */
#define CLOSED_KEY  (1ull << 32)
#define IRQ_KEY     (1ull << 40)

struct reader {
    uint64_t txid;              /* the kernel's: where the reply goes */
    struct idl_txn t;           /* the protocol's: what the reply repeats */
    uint32_t max;
    unsigned slot;
};

/* The call being dispatched (the handlers' ctx). */
struct call {
    uint64_t txid;
    unsigned slot;
};

static mica_handle_t port, irq;
static mica_handle_t clients[MAX_CLIENTS];
static struct reader readers[MAX_READERS];
static unsigned nreaders;
static struct kbd_state state;
static struct kbd_event queue[QUEUE];
static uint32_t q_in, q_out;
static struct kbd_info stats;

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

static void drop_reader(unsigned i)
{
    memmove(&readers[i], &readers[i + 1],
            (nreaders - i - 1) * sizeof(readers[0]));
    nreaders--;
}

/* Waiting readers get the queued events in their order; events leave
 * the queue only once delivered. */
static void serve_readers(void)
{
    struct kbd_event ev[KBD_EVENTS_MAX];
    uint64_t buf[(IDL_HEADER_SIZE + 8 + sizeof(ev)) / 8 + 1];
    while (nreaders && q_in != q_out) {
        struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
        uint32_t n = 0;
        while (n < readers[0].max && q_out + n != q_in) {
            ev[n] = queue[(q_out + n) & (QUEUE - 1)];
            n++;
        }
        struct kbd_read_resp r = { { ev, n } };
        idl_reply(&readers[0].t, OK, &r, &o);
        if (send(readers[0].txid, &o) == OK)
            q_out += n;
        drop_reader(0);
    }
}

static void push_event(const struct kbd_event *ev)
{
    stats.events++;
    if (q_in - q_out == QUEUE) {
        stats.dropped++;
        return;
    }
    queue[q_in++ & (QUEUE - 1)] = *ev;
}

/* Empty the output buffer; false when it held nothing. */
static bool drain(void)
{
    bool any = false;
    for (int i = 0; i < 64; i++) {
        uint8_t st = i8042_inb(I8042_STATUS);
        if (!(st & I8042_OBF))
            break;
        uint8_t b = i8042_inb(I8042_DATA);
        struct kbd_event ev;
        any = true;
        if ((st & I8042_AUX) || !kbd_is_key_data(b)) {
            stats.other++;
            continue;
        }
        stats.key_bytes++;
        if (kbd_decode(&state, b, &ev))
            push_event(&ev);
    }
    return any;
}

/* As the UART driver: on an edge-triggered line (ISA IRQ 1) every
 * service is the controller's, a quiet one the replayed edge of a byte
 * an earlier service took; only a level-triggered line is NAKed. */
static bool edge_line;

static void on_interrupt(uint64_t seq)
{
    if (drain() || edge_line) {
        stats.interrupts++;
        mica_interrupt_ack(irq, seq);
    } else {
        mica_interrupt_nak(irq, seq);
    }
    serve_readers();
}

/* --- the handlers (struct kbd_server); ctx is the call ------------------ */

static int do_read(void *ctx, const struct idl_txn *t,
                   const struct kbd_read_req *q, struct kbd_read_resp *r)
{
    const struct call *c = ctx;
    (void)r;
    if (q->max == 0 || q->max > KBD_EVENTS_MAX || (q->flags & ~KBD_NOWAIT))
        return ERR_INVALID_ARGS;
    bool now = nreaders == 0 && q_in != q_out;
    if (!now && (q->flags & KBD_NOWAIT))
        return ERR_SHOULD_WAIT;
    if (!now && nreaders == MAX_READERS)
        return ERR_NO_RESOURCES;
    readers[nreaders++] = (struct reader){ c->txid, *t, q->max, c->slot };
    serve_readers();
    return IDL_DEFER;                   /* answered, or waiting */
}

static int do_info(void *ctx, const struct idl_txn *t,
                   struct kbd_info_resp *r)
{
    struct mica_irq_info i = { 0 };
    (void)ctx;
    (void)t;
    r->info = stats;
    r->info.readers = nreaders;
    r->info.mods = state.mods;
    mica_interrupt_info(irq, &i);
    r->info.irq = (struct kbd_irq_info){
        i.number, i.level, i.state,    i.sinks,       i.seq,
        i.raised, i.acked, i.naked,    i.spurious,    i.late,
        i.unhandled,       i.msi_address, i.msi_data, 0,
    };
    return OK;
}

static const struct kbd_server server = { .read = do_read, .info = do_info };

/* A message from a client: a call to dispatch, answered now or (a read
 * that waits) from serve_readers(). */
static void request(unsigned slot, const struct mica_msg_buf *in)
{
    uint64_t buf[(IDL_HEADER_SIZE + sizeof(struct kbd_info)) / 8 + 1];
    struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
    struct idl_in q = { in->bytes, in->actual_bytes, in->actual_handles,
                        in->handles, in->handle_infos };
    struct call c = { in->txid, slot };
    if (!in->txid) {                    /* not a call: nobody to answer */
        close_handles(in);
        return;
    }
    int r = kbd_dispatch(&server, &c, &q, &o);
    if (r == IDL_REFUSED)
        close_handles(in);
    if (r != IDL_DEFER)
        send(in->txid, &o);
}

/* A connection from init: one token and one channel end. */
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
        printf("ps2kbd: connection refused (%s)\n", why);
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
}

static void dispatch(const struct mica_msg_buf *in)
{
    if (in->kind == MICA_RECV_PACKET) {
        uint64_t key = in->packet.key;
        if (key == IRQ_KEY)
            on_interrupt(in->packet.data[0]);
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
        int err = mica_port_receive(port, &in, 0);
        if (err)
            return err;
        dispatch(&in);
    }
}

/* Enable every ioport capability; together they must cover the
 * controller's two ports. */
static int enable_ports(void)
{
    bool data = false, status = false;
    struct manifest_cap c;
    for (unsigned i = 0; mica_cap_decode("ioport", i, &c) == 0; i++) {
        int err = mica_ioport_enable(mica_cap("ioport", i));
        if (err)
            return err;
        data |= c.base <= I8042_DATA && I8042_DATA < c.base + c.size;
        status |= c.base <= I8042_STATUS && I8042_STATUS < c.base + c.size;
    }
    return data && status ? OK : ERR_INVALID_ARGS;
}

int main(void)
{
    const char *why = "";
    if (mica_caps_init() != OK)
        return 1;
    irq = mica_cap("irq", 0);
    int err = irq ? enable_ports() : ERR_INVALID_ARGS;
    if (err) {
        printf("ps2kbd: needs ioport=0x60+1 ioport=0x64+1 and irq=...: "
               "%s\n", mica_status_str(err));
        return 1;
    }
    kbd_state_init(&state);
    if (!i8042_init(&why)) {
        printf("ps2kbd: %s\n", why);
        return 1;
    }
    struct mica_irq_info info;
    err = mica_interrupt_info(irq, &info);
    edge_line = !err && !info.level;
    if (!err)
        err = mica_port_create(0, &port);
    if (!err)
        err = mica_channel_bind(mica_startup_handle(), port, 0);
    if (!err)
        err = mica_interrupt_set_port(irq, port, IRQ_KEY);
    if (!err) {
        printf("ps2kbd: i8042 keyboard on %s, scan code set 1\n",
               mica_cap_token("irq", 0));
        fflush(stdout);
        err = mica_ready();
    }
    if (!err)
        err = serve();
    printf("ps2kbd: %s\n", mica_status_str(err));
    return 1;
}
