/*
 * serve.c - the block protocol loop (idl/block.idl, serve.h).
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
 * Each call goes through block_dispatch, generated from idl/block.idl,
 * which decodes and checks it (its shape, the grant's type and rights)
 * and calls the handler of its method.  A read, write or flush takes a
 * slot of the device (disk.h) and its handler answers IDL_DEFER: the
 * call stays pending, unanswered, until the device gives it back: the
 * interrupt's packet leads to every finished request being answered.
 * While every slot is taken the loop waits for packets only, so new
 * requests stay queued in the kernel rather than here.  The grant of a
 * request is copied from before the device sees a write, and probed (a
 * copy of no bytes at its end) before the device sees a read, so a bad
 * grant fails the request without touching the disk.
 */
#include <stdio.h>
#include <string.h>

#include "block.h"
#include "caps.h"
#include "idl.h"
#include "serve.h"

_Static_assert(BLK_SECTOR_SIZE == BLOCK_SECTOR_SIZE, "the protocol's sector");

#define MAX_CLIENTS 64
#define CLOSED_KEY  (1ull << 32)
#define IRQ_KEY     (1ull << 33)
#define LISTEN_KEY  (1ull << 34)
#define CONNECT_TOKEN "blk"

struct pending {
    bool busy;
    uint32_t op, count;
    uint64_t txid;              /* the kernel's: where the reply goes */
    struct idl_txn t;           /* the protocol's: what the reply repeats */
    mica_handle_t grant;
};

/* The call being dispatched, for a handler that keeps it. */
struct call {
    uint64_t txid;
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

static void send(uint64_t txid, const struct idl_out *o)
{
    struct mica_msg m = { o->bytes, o->handles, o->len, o->nhandles };
    mica_reply_receive(port, txid, &m, NULL, 0);    /* the caller may be gone */
}

static void reply_status(uint64_t txid, const struct idl_txn *t, int status)
{
    uint64_t buf[IDL_HEADER_SIZE / 8];
    struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
    idl_reply(t, status, NULL, &o);
    send(txid, &o);
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
static int take_grant(uint32_t op, uint32_t count, mica_handle_t g,
                      unsigned slot)
{
    uint64_t bytes = (uint64_t)count * BLK_SECTOR_SIZE;
    int err = op == BLK_OP_WRITE
                  ? mica_grant_read(g, 0, disk_buf(disk, slot), bytes)
                  : mica_grant_write(g, bytes, disk_buf(disk, slot), 0);
    return blk_grant_error(err);
}

/* A request that passed its checks: to the device, in a free slot (the
 * loop receives only while there is one). */
static int start(const struct call *c, const struct idl_txn *t, uint32_t op,
                 uint64_t sector, uint32_t count, mica_handle_t g)
{
    unsigned s = free_slot();
    int err = g ? take_grant(op, count, g, s) : OK;
    if (!err)
        err = disk_submit(disk, s, op, sector, count);
    if (err)
        return err;
    slots[s] = (struct pending){ true, op, count, c->txid, *t, g };
    nbusy++;
    return OK;
}

/* --- the handlers (struct block_server) -------------------------------- */

static int do_info(void *ctx, const struct idl_txn *t,
                   struct block_info_resp *r)
{
    const struct blk_dev *i = &disk->info;
    (void)ctx;
    (void)t;
    r->info = (struct block_info){ i->sectors, BLK_SECTOR_SIZE,
                                   i->max_sectors, i->read_only, i->flush };
    return OK;
}

/* A read or a write: answered when the device is done with it. */
static int transfer(const struct call *c, const struct idl_txn *t,
                    uint32_t op, uint64_t sector, uint32_t count,
                    mica_handle_t g)
{
    int err = blk_check(&disk->info, op, sector, count);
    if (!err)
        err = start(c, t, op, sector, count, g);
    if (err) {
        mica_handle_close(g);
        return err;
    }
    return IDL_DEFER;
}

static int do_read(void *ctx, const struct idl_txn *t,
                   const struct block_read_req *q)
{
    return transfer(ctx, t, BLK_OP_READ, q->sector, q->count, q->data);
}

static int do_write(void *ctx, const struct idl_txn *t,
                    const struct block_write_req *q)
{
    return transfer(ctx, t, BLK_OP_WRITE, q->sector, q->count, q->data);
}

static int do_flush(void *ctx, const struct idl_txn *t)
{
    if (!disk->info.flush)
        return OK;                      /* no cache: written is stable */
    int err = start(ctx, t, BLK_OP_FLUSH, 0, 0, 0);
    return err ? err : IDL_DEFER;
}

static const struct block_server server = {
    .info = do_info, .read = do_read, .write = do_write, .flush = do_flush,
};

/* A message from a client: a call to dispatch, answered now or (a
 * deferred one) from finish(). */
static void request(const struct mica_msg_buf *in)
{
    uint64_t buf[16];
    struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
    struct idl_in q = { in->bytes, in->actual_bytes, in->actual_handles,
                        in->handles, in->handle_infos };
    struct call c = { in->txid };
    if (!in->txid) {                    /* not a call: nobody to answer */
        close_all(in->handles, in->actual_handles);
        return;
    }
    int r = block_dispatch(&server, &c, &q, &o);
    if (r == IDL_REFUSED)
        close_all(in->handles, in->actual_handles);
    if (r != IDL_DEFER)
        send(in->txid, &o);
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
    reply_status(p->txid, &p->t, status);
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
    static uint64_t bytes[MICA_MSG_MAX_BYTES / 8];  /* any message fits */
    static mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    static struct mica_handle_info infos[MICA_MSG_MAX_HANDLES];
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
            .handles_cap = MICA_MSG_MAX_HANDLES, .handle_infos = infos,
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
