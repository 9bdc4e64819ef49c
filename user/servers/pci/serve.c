/*
 * serve.c - the pci server's protocol loop (pci_proto.h, serve.h).
 *
 * One thread, one port.  The startup channel is bound with key 0 before
 * the server says it is ready, so no connection can come unseen: each
 * message on it after the first is a new connection from init, one
 * `pci=SELECTOR` token and the server's end of a channel.  A connection
 * is bound with its slot's number (1..) as key, and an observer for
 * its peer's closing reports on the port with CLOSED_KEY added, so a
 * gone client's slot is freed.  Each request is answered at once: no
 * state survives between calls except what the device keeps.  A message
 * that is not a call is dropped unread: nobody waits for its answer.
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

static int config_write(struct pci_func *f, const struct pci_request *q)
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

/* Carry out request q for client c into r (and *h, a handle to give). */
static int handle(const struct client *c, const struct pci_request *q,
                  struct pci_reply *r, mica_handle_t *h)
{
    struct pci_func *f = nth(c, q->device);
    bool reader = c->sel.by == PCI_SEL_ALL;
    if (q->op < PCI_OP_INFO || q->op > PCI_OP_CONFIG_WRITE)
        return ERR_NOT_SUPPORTED;
    if (!f)
        return ERR_NOT_FOUND;
    r->info = f->info;
    switch (q->op) {
    case PCI_OP_INFO:
        return OK;
    case PCI_OP_BAR:
        return reader ? ERR_ACCESS_DENIED : grant_bar(f, q->arg, h);
    case PCI_OP_IRQ:
        return reader ? ERR_ACCESS_DENIED
                      : grant_irq(cfg, f, q->arg, h, &r->value);
    case PCI_OP_CONFIG_READ: {
        int err = pci_check_access(q->offset, q->width, cfg->size);
        if (!err)
            r->value = cfg_read(cfg, f->addr, q->offset, q->width);
        return err;
    }
    default:
        return reader ? ERR_ACCESS_DENIED : config_write(f, q);
    }
}

static void answer(mica_handle_t port, const struct client *c,
                   const struct mica_msg_buf *in)
{
    struct pci_reply r;
    struct pci_request q;
    mica_handle_t h = 0;
    memset(&r, 0, sizeof(r));
    if (!in->txid) {                    /* not a call: nobody to answer */
        for (uint32_t i = 0; i < in->actual_handles; i++)
            mica_handle_close(in->handles[i]);
        return;
    }
    if (in->actual_bytes != sizeof(q) || in->actual_handles) {
        for (uint32_t i = 0; i < in->actual_handles; i++)
            mica_handle_close(in->handles[i]);
        r.status = ERR_INVALID_ARGS;
    } else {
        memcpy(&q, in->bytes, sizeof(q));
        r.status = handle(c, &q, &r, &h);
    }
    struct mica_msg m = { &r, h ? &h : NULL, sizeof(r), h ? 1 : 0 };
    if (mica_reply_receive(port, in->txid, &m, NULL, 0) != OK && h)
        mica_handle_close(h);           /* not delivered */
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
        for (uint32_t i = 0; i < in->actual_handles; i++)
            mica_handle_close(hs[i]);
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
    if (c && c->ch) {
        answer(port, c, in);
        return;
    }
    for (uint32_t i = 0; i < in->actual_handles; i++)
        mica_handle_close(in->handles[i]);
}

int pci_serve(const struct pci_config *config, struct pci_func *f,
              unsigned n)
{
    static char bytes[MICA_MSG_MAX_BYTES + 1];      /* any message fits */
    static mica_handle_t hs[MICA_MSG_MAX_HANDLES];
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
            .handles_cap = MICA_MSG_MAX_HANDLES,
        };
        err = mica_port_receive(port, &in, 0);
        if (!err) {
            bytes[in.actual_bytes] = 0;
            dispatch(port, &in);
        }
    }
    return err;
}
