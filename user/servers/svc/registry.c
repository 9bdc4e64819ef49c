/*
 * registry.c - svc's table of published services (registry.h).
 *
 * Each service: its name, the ids of the methods it serves (sorted, as
 * checked on PUBLISH) and the connecting end of its listening channel.
 * A CONNECT is checked against the ids, every declared method in turn,
 * and the first one the service lacks is named in the refusal.  Then
 * svc makes the connection's channel, writes the server's end into the
 * listening channel and replies with the client's.
 *
 * A name stays taken while its listening endpoint lives.  svc learns
 * that it died when a write into it fails (or, on PUBLISH of the same
 * name, by looking): the entry goes, and the name is free again.
 * Requests are trusted in nothing: sizes, counts, names and handles are
 * checked before anything is kept.
 */
#include <stdbool.h>
#include <string.h>

#include "registry.h"

struct service {
    char name[SVC_NAME_MAX];
    mica_handle_t connect;          /* 0: a free slot */
    unsigned count;
    uint64_t ids[SVC_METHODS_MAX];
};

static struct service table[REGISTRY_MAX];

static struct service *find(const char *name)
{
    for (unsigned i = 0; i < REGISTRY_MAX; i++)
        if (table[i].connect && strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

static void drop(struct service *s)
{
    mica_handle_close(s->connect);
    memset(s, 0, sizeof(*s));
}

/* Whether the listening endpoint behind s is gone. */
static bool dead(const struct service *s)
{
    mica_signals_t seen = 0;
    mica_object_wait_one(s->connect, SIGNAL_PEER_CLOSED, 1, &seen);
    return (seen & SIGNAL_PEER_CLOSED) != 0;
}

/* A free entry, making room by dropping those whose endpoints died. */
static struct service *free_slot(void)
{
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < REGISTRY_MAX; i++) {
            if (pass == 0 && table[i].connect && dead(&table[i]))
                drop(&table[i]);
            if (pass == 1 && !table[i].connect)
                return &table[i];
        }
    return NULL;
}

/* The request's shape: header, count entries, a name. */
static int check_shape(const struct svc_request *q, uint32_t len,
                       const struct mica_iface_entry **e)
{
    if (len < sizeof(*q) || q->count > SVC_METHODS_MAX ||
        len != sizeof(*q) + q->count * sizeof(struct mica_iface_entry) ||
        q->name[0] == 0 || memchr(q->name, 0, sizeof(q->name)) == NULL)
        return ERR_INVALID_ARGS;
    *e = (const struct mica_iface_entry *)(q + 1);
    for (uint32_t i = 0; i < q->count; i++)
        if ((*e)[i].name[0] == 0 ||
            memchr((*e)[i].name, 0, MICA_IFACE_NAME_MAX) == NULL)
            return ERR_INVALID_ARGS;
    return OK;
}

static int publish(const struct svc_request *q,
                   const struct mica_iface_entry *e, mica_handle_t connect)
{
    for (uint32_t i = 1; i < q->count; i++)
        if (e[i - 1].id >= e[i].id)
            return ERR_INVALID_ARGS;
    struct service *s = find(q->name);
    if (s && !dead(s))
        return ERR_ALREADY_EXISTS;
    if (s)
        drop(s);
    if (!(s = free_slot()))
        return ERR_NO_RESOURCES;
    strcpy(s->name, q->name);
    s->count = q->count;
    for (uint32_t i = 0; i < q->count; i++)
        s->ids[i] = e[i].id;
    s->connect = connect;
    return OK;
}

static bool serves(const struct service *s, uint64_t id)
{
    unsigned lo = 0, hi = s->count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (s->ids[mid] == id)
            return true;
        if (s->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int connect(const struct svc_request *q,
                   const struct mica_iface_entry *e, struct svc_reply *r,
                   mica_handle_t *give)
{
    struct service *s = find(q->name);
    if (!s)
        return ERR_NOT_FOUND;
    for (uint32_t i = 0; i < q->count; i++)
        if (!serves(s, e[i].id)) {
            memcpy(r->method, e[i].name, sizeof(r->method));
            return ERR_NOT_SUPPORTED;
        }
    mica_handle_t ch[2];
    int err = mica_channel_create(0, ch);
    if (err)
        return err;
    err = mica_channel_write(s->connect, s->name,
                             (uint32_t)strlen(s->name) + 1, &ch[1], 1);
    if (err) {
        mica_handle_close(ch[0]);
        mica_handle_close(ch[1]);
        if (err == ERR_SHOULD_WAIT)
            return err;                 /* its queue is full: try again */
        drop(s);                        /* gone, or never a channel */
        return ERR_PEER_CLOSED;
    }
    *give = ch[0];
    return OK;
}

void registry_request(const void *bytes, uint32_t len,
                      const mica_handle_t *h, uint32_t nh,
                      struct svc_reply *r, mica_handle_t *give)
{
    struct svc_request q;
    const struct mica_iface_entry *e = NULL;
    memset(r, 0, sizeof(*r));
    *give = 0;
    memcpy(&q, bytes, len < sizeof(q) ? len : sizeof(q));
    int err = check_shape(bytes, len, &e);
    if (!err && q.op == SVC_OP_PUBLISH)
        err = nh != 1 ? ERR_INVALID_ARGS : publish(&q, e, h[0]);
    else if (!err && q.op == SVC_OP_CONNECT)
        err = nh != 0 ? ERR_INVALID_ARGS : connect(&q, e, r, give);
    else if (!err)
        err = ERR_NOT_SUPPORTED;
    /* a published endpoint is kept; everything else that came goes */
    for (uint32_t i = 0; i < nh; i++)
        if (err || q.op != SVC_OP_PUBLISH)
            mica_handle_close(h[i]);
    r->status = err;
}
