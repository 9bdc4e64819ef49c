/*
 * serve.c - the block protocol loop (blk_proto.h, serve.h).
 *
 * One thread, one port.  On it: the startup channel (key 0), where init
 * sends each new connection (the token `blk` and the driver's end of a
 * channel) and its heartbeats; the listening endpoint of a line with
 * serve=NAME (LISTEN_KEY), where the name service sends the connections
 * of its clients (the name and the driver's end); the connections
 * (keys 1..MAX_CLIENTS), each with an observer for its peer closing
 * (CLOSED_KEY + slot); the device's interrupt (IRQ_KEY).  The driver
 * tells init when its first client comes and its last goes.
 *
 * A READ, WRITE or FLUSH takes a slot of the device (disk.h) and stays
 * pending, its call unanswered, until the device gives it back: the
 * interrupt's packet leads to every finished request being answered.
 * While every slot is taken the loop waits for packets only, so new
 * requests stay queued in the kernel rather than here.  The grant of a
 * request is copied from before the device sees a write, and probed (a
 * copy of no bytes at its end) before the device sees a read, so a bad
 * grant fails the request without touching the disk.
 */
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "serve.h"

#define MAX_CLIENTS 64
#define CLOSED_KEY  (1ull << 32)
#define IRQ_KEY     (1ull << 33)
#define LISTEN_KEY  (1ull << 34)
#define CONNECT_TOKEN "blk"

struct pending {
    bool busy;
    uint32_t op, count;
    uint64_t txid;
    mica_handle_t grant;
};

static mica_handle_t port;
static mica_handle_t clients[MAX_CLIENTS];
static unsigned nclients;
static struct pending slots[DISK_SLOTS];
static unsigned nbusy;
static struct disk *disk;

static void close_all(const mica_handle_t *h, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        mica_handle_close(h[i]);
}

static void reply(uint64_t txid, const struct blk_reply *r)
{
    struct mica_msg m = { r, NULL, sizeof(*r), 0 };
    mica_reply_receive(port, txid, &m, NULL, 0);    /* the caller may be gone */
}

static void reply_status(uint64_t txid, int status)
{
    struct blk_reply r = { .status = status };
    reply(txid, &r);
}

static void reply_info(uint64_t txid)
{
    const struct blk_dev *i = &disk->info;
    struct blk_reply r = {
        .status = OK,
        .flags = (i->read_only ? BLK_INFO_READ_ONLY : 0) |
                 (i->flush ? BLK_INFO_FLUSH : 0),
        .sectors = i->sectors,
        .sector_size = BLK_SECTOR_SIZE,
        .max_sectors = i->max_sectors,
    };
    reply(txid, &r);
}

static unsigned free_slot(void)
{
    unsigned s = 0;
    while (s < disk->nslots && slots[s].busy)
        s++;
    return s;
}

/* The grant's first copy: the data of a write into the slot, or, for a
 * read, a copy of nothing at the grant's end (its access and length). */
static int take_grant(const struct blk_request *q, mica_handle_t g,
                      unsigned slot)
{
    uint64_t bytes = (uint64_t)q->count * BLK_SECTOR_SIZE;
    int err = q->op == BLK_OP_WRITE
                  ? mica_grant_read(g, 0, disk_buf(disk, slot), bytes)
                  : mica_grant_write(g, bytes, disk_buf(disk, slot), 0);
    return blk_grant_error(err);
}

/* A READ, WRITE or FLUSH that passed blk_check: to the device. */
static void start(const struct blk_request *q, uint64_t txid,
                  mica_handle_t g)
{
    unsigned s = free_slot();
    int err = g ? take_grant(q, g, s) : OK;
    if (!err)
        err = disk_submit(disk, s, q->op, q->sector, q->count);
    if (err) {
        if (g)
            mica_handle_close(g);
        reply_status(txid, err);
        return;
    }
    slots[s] = (struct pending){ true, q->op, q->count, txid, g };
    nbusy++;
}

static void request(const struct mica_msg_buf *in)
{
    struct blk_request q = { 0 };
    if (!in->txid) {                    /* not a call: nobody to answer */
        close_all(in->handles, in->actual_handles);
        return;
    }
    if (in->actual_bytes == sizeof(q))
        memcpy(&q, in->bytes, sizeof(q));
    int err = blk_check(&disk->info, &q, in->actual_bytes,
                        in->actual_handles);
    if (err) {
        close_all(in->handles, in->actual_handles);
        reply_status(in->txid, err);
    } else if (q.op == BLK_OP_INFO) {
        reply_info(in->txid);
    } else if (q.op == BLK_OP_FLUSH && !disk->info.flush) {
        reply_status(in->txid, OK);     /* no cache: written is stable */
    } else {
        start(&q, in->txid, in->actual_handles ? in->handles[0] : 0);
    }
}

/* Answer one finished request. */
static void finish(unsigned s, int status)
{
    struct pending *p = &slots[s];
    if (!status && p->op == BLK_OP_READ)
        status = blk_grant_error(mica_grant_write(
            p->grant, 0, disk_buf(disk, s),
            (uint64_t)p->count * BLK_SECTOR_SIZE));
    if (p->grant)
        mica_handle_close(p->grant);
    reply_status(p->txid, status);
    p->busy = false;
    nbusy--;
}

/* The device went wrong: every request in flight fails. */
static void fail_all(void)
{
    for (unsigned s = 0; s < disk->nslots; s++)
        if (slots[s].busy)
            finish(s, ERR_IO);
}

static void interrupt(uint64_t seq)
{
    unsigned s;
    int status, r;
    if (!disk_irq_mine(disk)) {
        mica_interrupt_nak(disk->irq, seq);
        return;
    }
    while ((r = disk_complete(disk, &s, &status)) == 1)
        if (s < disk->nslots && slots[s].busy)
            finish(s, status);
    mica_interrupt_ack(disk->irq, seq);
    if (r < 0) {
        printf("virtio-blk: the device gave back a request not in flight; "
               "no more I/O\n");
        fail_all();
    }
}

/* A new connection: from init on the startup channel, the token `blk`
 * and one channel; from the name service on the listening endpoint
 * (serve=), the service's name and one channel. */
static void connect(const struct mica_msg_buf *in, bool listening)
{
    unsigned c = 0;
    while (c < MAX_CLIENTS && clients[c])
        c++;
    const char *b = in->bytes;
    bool good = in->actual_handles == 1 &&
                (listening ? in->actual_bytes > 1 &&
                                 b[in->actual_bytes - 1] == 0
                           : in->actual_bytes == sizeof(CONNECT_TOKEN) &&
                                 memcmp(b, CONNECT_TOKEN,
                                        sizeof(CONNECT_TOKEN)) == 0);
    const char *why = !good                ? "not a blk connection"
                      : c == MAX_CLIENTS   ? "no room"
                      : mica_channel_bind(in->handles[0], port, c + 1)
                          ? "bind"
                      : mica_object_wait_async(in->handles[0], port,
                                               CLOSED_KEY + c,
                                               SIGNAL_PEER_CLOSED, 0)
                          ? "observer"
                          : NULL;
    if (why) {
        printf("virtio-blk: connection refused (%s)\n", why);
        close_all(in->handles, in->actual_handles);
        return;
    }
    clients[c] = in->handles[0];
    mica_report_clients(++nclients);
}

static void packet(const struct mica_packet *p)
{
    if (p->key == IRQ_KEY && p->type == MICA_PACKET_INTERRUPT) {
        interrupt(p->data[0]);
    } else if (p->key >= CLOSED_KEY && p->key < CLOSED_KEY + MAX_CLIENTS) {
        unsigned c = (unsigned)(p->key - CLOSED_KEY);
        if (clients[c]) {
            mica_handle_close(clients[c]);
            clients[c] = 0;
            mica_report_clients(--nclients);
        }
    }
}

static void dispatch(struct mica_msg_buf *in)
{
    if (in->kind == MICA_RECV_PACKET)
        packet(&in->packet);
    else if (in->key == 0 && mica_heartbeat(in))
        return;
    else if (in->key == 0)
        connect(in, false);
    else if (in->key == LISTEN_KEY)
        connect(in, true);
    else if (in->key <= MAX_CLIENTS && clients[in->key - 1])
        request(in);
    else
        close_all(in->handles, in->actual_handles);
}

int serve(struct disk *d)
{
    static char bytes[MICA_MSG_MAX_BYTES];          /* any message fits */
    static mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    disk = d;
    int err = mica_port_create(0, &port);
    if (!err)
        err = mica_channel_bind(mica_startup_handle(), port, 0);
    if (!err && mica_cap("serve", 0))
        err = mica_channel_bind(mica_cap("serve", 0), port, LISTEN_KEY);
    if (!err)
        err = mica_interrupt_set_port(d->irq, port, IRQ_KEY);
    if (!err)
        err = mica_ready();
    while (!err) {
        struct mica_msg_buf in = {
            .bytes = bytes, .bytes_cap = sizeof(bytes), .handles = hs,
            .handles_cap = MICA_MSG_MAX_HANDLES,
        };
        if (nbusy == disk->nslots) {    /* requests wait in the kernel */
            in.kind = MICA_RECV_PACKET;
            err = mica_port_wait(port, 0, &in.packet);
        } else {
            err = mica_port_receive(port, &in, 0);
        }
        if (!err)
            dispatch(&in);
    }
    return err;
}
