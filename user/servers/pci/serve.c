/*
 * serve.c - the pci server's protocol loop (idl/pci.idl, serve.h).
 *
 * One thread, one port.  The startup channel is bound with key 0 before
 * the server says it is ready, so no connection can come unseen: each
 * message on it after the first is a new connection from init, one
 * `pci=SELECTOR` token and the server's end of a channel.  A connection
 * is bound with its slot's number (1..) as key, and an observer for
 * its peer's closing reports on the port with CLOSED_KEY added, so a
 * gone client's slot is freed.  Each call goes through pci_dispatch,
 * generated from idl/pci.idl, which decodes and checks it and calls the
 * handler of its method, and is answered at once: no state survives
 * between calls except what the device keeps.  A message that is not a
 * call is dropped unread: nobody waits for its answer.
 */
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "grant.h"
#include "policy.h"
#include "serve.h"

#define MAX_CLIENTS 64
#define CLOSED_KEY  (1ull << 32)

struct client {
    mica_handle_t ch;           /* 0: a free slot */
    struct pci_selector sel;
};

static struct client clients[MAX_CLIENTS];
static const struct pci_config *cfg;
static struct pci_func *funcs;
static unsigned nfuncs;

/* The connection's index-th function, or NULL. */
static struct pci_func *nth(const struct client *c, unsigned index)
{
    for (unsigned i = 0; i < nfuncs; i++) {
        const struct pci_info *p = &funcs[i].info;
        if (pci_selector_matches(&c->sel, p->bus, p->dev, p->fn, p->vendor,
                                 p->device) &&
            index-- == 0)
            return &funcs[i];
    }
    return NULL;
}

static int config_write(struct pci_func *f,
                        const struct pci_config_write_req *q)
{
    int err = pci_check_access(q->offset, q->width, cfg->size);
    if (err || (err = pci_check_write(f, q->offset, q->width)))
        return err;
    uint32_t v = q->value;
    if (q->offset == PCI_COMMAND)
        v = pci_command_merge(cfg_read(cfg, f->addr, PCI_COMMAND, 2), v);
    cfg_write(cfg, f->addr, q->offset, q->width, v);
    return OK;
}

static bool reader(const struct client *c)
{
    return c->sel.by == PCI_SEL_ALL;
}

/* --- the handlers (struct pci_server); ctx is the client --------------- */

static int do_info(void *ctx, const struct idl_txn *t,
                   const struct pci_info_req *q, struct pci_info_resp *r)
{
    const struct pci_func *f = nth(ctx, q->device);
    (void)t;
    if (!f)
        return ERR_NOT_FOUND;
    r->info = f->info;
    r->bars = (struct idl_span){ f->bar, PCI_BARS };
    return OK;
}

static int do_bar(void *ctx, const struct idl_txn *t,
                  const struct pci_bar_req *q, struct pci_bar_resp *r)
{
    const struct pci_func *f = nth(ctx, q->device);
    (void)t;
    if (!f)
        return ERR_NOT_FOUND;
    if (reader(ctx))
        return ERR_ACCESS_DENIED;
    int err = grant_bar(f, q->index, &r->object);
    if (!err)
        r->bar = f->bar[q->index];
    return err;
}

static int do_irq(void *ctx, const struct idl_txn *t,
                  const struct pci_irq_req *q, struct pci_irq_resp *r)
{
    const struct pci_func *f = nth(ctx, q->device);
    (void)t;
    if (!f)
        return ERR_NOT_FOUND;
    if (reader(ctx))
        return ERR_ACCESS_DENIED;
    return grant_irq(cfg, f, q->kind, &r->interrupt, &r->given);
}

static int do_config_read(void *ctx, const struct idl_txn *t,
                          const struct pci_config_read_req *q,
                          struct pci_config_read_resp *r)
{
    const struct pci_func *f = nth(ctx, q->device);
    (void)t;
    if (!f)
        return ERR_NOT_FOUND;
    int err = pci_check_access(q->offset, q->width, cfg->size);
    if (!err)
        r->value = cfg_read(cfg, f->addr, q->offset, q->width);
    return err;
}

static int do_config_write(void *ctx, const struct idl_txn *t,
                           const struct pci_config_write_req *q)
{
    struct pci_func *f = nth(ctx, q->device);
    (void)t;
    if (!f)
        return ERR_NOT_FOUND;
    return reader(ctx) ? ERR_ACCESS_DENIED : config_write(f, q);
}

static const struct pci_server server = {
    .info = do_info, .bar = do_bar, .irq = do_irq,
    .config_read = do_config_read, .config_write = do_config_write,
};

static void close_all(const mica_handle_t *h, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        mica_handle_close(h[i]);
}

/* A call from client c: dispatched, answered at once. */
static void answer(mica_handle_t port, struct client *c,
                   const struct mica_msg_buf *in)
{
    uint64_t buf[(IDL_HEADER_SIZE + 256) / 8];      /* any reply fits */
    struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
    struct idl_in q = { in->bytes, in->actual_bytes, in->actual_handles,
                        in->handles, in->handle_infos };
    if (!in->txid) {                    /* not a call: nobody to answer */
        close_all(in->handles, in->actual_handles);
        return;
    }
    int r = pci_dispatch(&server, c, &q, &o);
    if (r == IDL_REFUSED)
        close_all(in->handles, in->actual_handles);
    struct mica_msg m = { o.bytes, o.handles, o.len, o.nhandles };
    if (mica_reply_receive(port, in->txid, &m, NULL, 0) != OK)
        close_all(o.handles, o.nhandles);           /* not delivered */
}

/* A new connection from init: one pci= token and one channel. */
static void new_client(mica_handle_t port, const struct mica_msg_buf *in)
{
    const mica_handle_t *hs = in->handles;
    struct manifest_cap cap;
    char err[80];
    unsigned slot = 0;
    while (slot < MAX_CLIENTS && clients[slot].ch)
        slot++;
    const char *tok = in->bytes;
    bool good = in->actual_handles == 1 && in->actual_bytes > 0 &&
                tok[in->actual_bytes - 1] == 0 &&
                strlen(tok) + 1 == in->actual_bytes &&
                manifest_cap_parse(tok, &cap, err, sizeof(err)) == 0 &&
                cap.kind == CAP_PCI;
    const char *why = !good                  ? "not a pci= connection"
                      : slot == MAX_CLIENTS  ? "no room"
                      : mica_channel_bind(hs[0], port, slot + 1) ? "bind"
                      : mica_object_wait_async(hs[0], port, CLOSED_KEY + slot,
                                               SIGNAL_PEER_CLOSED, 0)
                          ? "observer"
                          : NULL;
    if (why) {
        printf("pci: connection refused (%s)\n", why);
        close_all(hs, in->actual_handles);
        return;
    }
    clients[slot].ch = hs[0];
    clients[slot].sel = cap.pci;
}

static void closed(uint64_t key)
{
    unsigned slot = (unsigned)(key - CLOSED_KEY);
    if (slot < MAX_CLIENTS && clients[slot].ch) {
        mica_handle_close(clients[slot].ch);
        clients[slot].ch = 0;
    }
}

static void dispatch(mica_handle_t port, struct mica_msg_buf *in)
{
    if (in->kind == MICA_RECV_PACKET) {
        if (in->packet.key >= CLOSED_KEY)
            closed(in->packet.key);
        return;
    }
    if (in->key == 0) {
        new_client(port, in);
        return;
    }
    struct client *c = in->key <= MAX_CLIENTS ? &clients[in->key - 1] : NULL;
    if (c && c->ch)
        answer(port, c, in);
    else
        close_all(in->handles, in->actual_handles);
}

int pci_serve(const struct pci_config *config, struct pci_func *f,
              unsigned n)
{
    /* any message fits, 8-aligned as the decoder wants, and a NUL after
     * it for a connection's token */
    static uint64_t bytes[MICA_MSG_MAX_BYTES / 8 + 1];
    static mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    static struct mica_handle_info infos[MICA_MSG_MAX_HANDLES];
    mica_handle_t port;
    cfg = config;
    funcs = f;
    nfuncs = n;
    int err = mica_port_create(0, &port);
    if (!err)
        err = mica_channel_bind(mica_startup_handle(), port, 0);
    if (!err)
        err = mica_ready();
    while (!err) {
        struct mica_msg_buf in = {
            .bytes = bytes, .bytes_cap = MICA_MSG_MAX_BYTES, .handles = hs,
            .handles_cap = MICA_MSG_MAX_HANDLES, .handle_infos = infos,
        };
        err = mica_port_receive(port, &in, 0);
        if (!err) {
            ((char *)bytes)[in.actual_bytes] = 0;
            dispatch(port, &in);
        }
    }
    return err;
}
