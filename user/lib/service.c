/*
 * service.c - starting a manifest entry with its capabilities
 * (service.h).
 *
 * Each object is made from a resource carved for that capability alone
 * (and closed again), so the kernel itself checks that the object lies
 * within what the token names: a slip here fails loudly instead of
 * handing out more.  ISA interrupts are the exception: only the kernel
 * knows the firmware's map from ISA IRQ to GSI, so they are made from
 * the starter's resource directly; the object is still bound to the
 * one line.
 *
 * The caps message is written into the startup channel before the
 * program runs, so it is the first message the program finds, and a
 * program that fails to start takes its objects with it (closing the
 * channel closes the handles queued in it).
 */
#include <stdio.h>
#include <string.h>

#include "bootfs.h"
#include "caps.h"
#include "service.h"
#include "spawn.h"

/* A resource of `kind` over exactly the token's range. */
static int carve(mica_handle_t res, uint32_t kind,
                 const struct manifest_cap *c, mica_handle_t *r)
{
    return mica_resource_create(res, kind, c->base, c->size, r);
}

static int make_irq(mica_handle_t res, const struct manifest_cap *c,
                    mica_handle_t *out)
{
    mica_handle_t r;
    if (c->irq_options == MICA_IRQ_ISA)
        return mica_interrupt_create(res, c->irq_number, MICA_IRQ_ISA, out,
                                     NULL);
    int err = mica_resource_create(res, MICA_RESOURCE_IRQ, c->irq_number, 1,
                                   &r);
    if (err)
        return err;
    err = mica_interrupt_create(r, c->irq_number, c->irq_options, out, NULL);
    mica_handle_close(r);
    return err;
}

struct service *service_find(const struct service_set *set,
                             const char *name)
{
    for (unsigned i = 0; set && i < set->n; i++)
        if (set->s[i].entry && strcmp(set->s[i].entry->name, name) == 0)
            return &set->s[i];
    return NULL;
}

/* A connection to the running line `name` with `token`. */
static int connect_to(const struct service_set *running, const char *name,
                      const char *token, mica_handle_t *out)
{
    struct service *srv = service_find(running, name);
    return srv ? service_connect(srv, token, out) : ERR_NOT_FOUND;
}

static int make_cap(mica_handle_t res, const struct manifest_entry *e,
                    unsigned i, const struct service_set *running,
                    mica_handle_t *out)
{
    const struct manifest_cap *c = &e->caps[i];
    mica_handle_t r;
    int err;
    switch (c->kind) {
    case CAP_IOPORT:
        if ((err = carve(res, MICA_RESOURCE_IOPORT, c, &r)))
            return err;
        err = mica_ioport_create(r, (uint32_t)c->base, (uint32_t)c->size,
                                 out);
        break;
    case CAP_MMIO:
        if ((err = carve(res, MICA_RESOURCE_MMIO, c, &r)))
            return err;
        err = mica_vmo_create_physical(r, c->base, c->size,
                                       MICA_CACHE_UNCACHED, out);
        break;
    case CAP_IRQ:
        return make_irq(res, c, out);
    case CAP_RESOURCE:
        return carve(res, c->res_kind, c, out);
    case CAP_PCI:
        return connect_to(running, MANIFEST_PCI_SERVER, c->token, out);
    case CAP_SVC:
        return connect_to(running, MANIFEST_SVC_SERVER, c->token, out);
    case CAP_SERVE:
        *out = running && running->listen ? running->listen(e, i) : 0;
        return *out ? OK : ERR_NOT_FOUND;
    default:
        return ERR_INVALID_ARGS;
    }
    mica_handle_close(r);
    return err;
}

int service_send_caps(mica_handle_t ch, const char *const tokens[],
                      const mica_handle_t handles[], unsigned n)
{
    char bytes[MICA_CAPS_BYTES_MAX];
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t tl = strlen(tokens[i]) + 1;
        if (tl > sizeof(bytes) - len)
            return ERR_OUT_OF_RANGE;
        memcpy(bytes + len, tokens[i], tl);
        len += tl;
    }
    return mica_channel_write(ch, bytes, (uint32_t)len, handles, n);
}

static void close_all(mica_handle_t *h, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        mica_handle_close(h[i]);
}

/* Make every object of the line and queue the caps message on `ch`. */
static int send_caps(const struct manifest_entry *e, mica_handle_t res,
                     const struct service_set *running, mica_handle_t ch,
                     const char **why)
{
    mica_handle_t h[MANIFEST_MAX_CAPS];
    const char *tokens[MANIFEST_MAX_CAPS];
    unsigned n;
    int err = OK;
    for (n = 0; n < e->ncaps && !err; n++) {
        tokens[n] = e->caps[n].token;
        if ((err = make_cap(res, e, n, running, &h[n])))
            *why = e->caps[n].token;
    }
    if (err) {
        close_all(h, n - 1);
        return err;
    }
    if ((err = service_send_caps(ch, tokens, h, n))) {
        close_all(h, n);
        *why = "the caps message";
    }
    return err;
}

/* The program's console: a connection to the server stdio= names. */
static int connect_stdio(const struct manifest_entry *e,
                         const struct service_set *running,
                         mica_handle_t *out, const char **why)
{
    static char token[6 + MANIFEST_NAME_MAX];
    *out = 0;
    if (!e->stdio[0])
        return OK;
    snprintf(token, sizeof(token), "stdio=%s", e->stdio);
    struct service *srv = service_find(running, e->stdio);
    int err = srv ? service_connect(srv, token, out) : ERR_NOT_FOUND;
    if (err)
        *why = token;
    return err;
}

int service_start(const struct manifest_entry *e, const void *fs, size_t len,
                  mica_handle_t resource, const struct service_set *running,
                  struct service *out, const char **why)
{
    static const char *none;
    struct bootfs_entry f;
    mica_handle_t ch[2], con;
    int err;
    why = why ? why : &none;
    memset(out, 0, sizeof(*out));
    if (bootfs_find(fs, len, e->program, &f) || f.size == 0) {
        *why = "no such program in the bootfs";
        return ERR_NOT_FOUND;
    }
    if ((err = mica_channel_create(0, ch))) {
        *why = "the startup channel";
        return err;
    }
    err = send_caps(e, resource, running, ch[0], why);
    if (!err)
        err = connect_stdio(e, running, &con, why);
    if (err) {
        mica_handle_close(ch[0]);
        mica_handle_close(ch[1]);
        return err;
    }
    const char *const argv[] = { e->name, NULL };
    struct mica_spawn_args a = {
        .startup = ch[1], .stdio = con,
        .flags = e->log ? MICA_SPAWN_LOG : 0,
    };
    err = mica_spawn_with(f.data, f.size, e->name, argv, &a, &out->proc,
                          why);
    if (err) {
        mica_handle_close(ch[0]);
        return err;
    }
    out->entry = e;
    out->chan = ch[0];
    return OK;
}

int service_wait_ready(struct service *s, uint64_t deadline)
{
    while (!s->ready) {
        char buf[16];
        struct mica_msg_buf m = { .bytes = buf, .bytes_cap = sizeof(buf) };
        int err = mica_object_wait_one(s->chan,
                                       SIGNAL_READABLE | SIGNAL_PEER_CLOSED,
                                       deadline, NULL);
        if (err)
            return err;
        err = mica_channel_read(s->chan, &m);
        if (err == ERR_BUFFER_TOO_SMALL) {
            /* not the ready message: take it off the queue and drop it */
            mica_handle_t hs[MICA_MSG_MAX_HANDLES];
            static char big[MICA_MSG_MAX_BYTES];
            struct mica_msg_buf all = {
                .bytes = big, .bytes_cap = sizeof(big), .handles = hs,
                .handles_cap = MICA_MSG_MAX_HANDLES,
            };
            if (mica_channel_read(s->chan, &all) == OK)
                close_all(hs, all.actual_handles);
            continue;
        }
        if (err)
            return err;
        s->ready = m.actual_bytes == sizeof(MICA_READY_MSG) - 1 &&
                   memcmp(buf, MICA_READY_MSG, m.actual_bytes) == 0;
    }
    return OK;
}

int service_connect(struct service *srv, const char *token,
                    mica_handle_t *client)
{
    mica_handle_t ch[2];
    int err = mica_channel_create(0, ch);
    if (err)
        return err;
    const char *tokens[] = { token };
    if ((err = service_send_caps(srv->chan, tokens, &ch[1], 1))) {
        mica_handle_close(ch[0]);
        mica_handle_close(ch[1]);
        return err;
    }
    *client = ch[0];
    return OK;
}

void service_stop(struct service *s)
{
    if (s->proc) {
        mica_process_kill(s->proc, -1);
        mica_object_wait_one(s->proc, SIGNAL_TERMINATED, 0, NULL);
        mica_handle_close(s->proc);
    }
    if (s->chan)
        mica_handle_close(s->chan);
    memset(s, 0, sizeof(*s));
}
