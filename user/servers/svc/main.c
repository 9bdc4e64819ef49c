/*
 * main.c - svc, the name service.
 *
 * Started by init from the manifest line
 *
 *     svc  bin/svc
 *
 * before every line that publishes (serve=) or connects (svc).  Its
 * clients' channels come from init on the startup channel, each as the
 * token `svc` and one channel end, as the pci server's do; init holds
 * one of them itself, to publish the manifest's services.  One thread,
 * one port: the startup channel (key 0), the clients (keys 1..MAX) and
 * an observer for each client's end closing (CLOSED_KEY + slot).  Every
 * request is a call answered at once (registry.c): svc never waits for a
 * server, so a hung server cannot hang the name service.
 */
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "registry.h"

#define MAX_CLIENTS 64
#define CLOSED_KEY (1ull << 32)
#define CONNECT_TOKEN "svc"

static mica_handle_t port;
static mica_handle_t clients[MAX_CLIENTS];

static void close_all(const mica_handle_t *h, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        mica_handle_close(h[i]);
}

/* A new client from init: the token `svc` and one channel. */
static void add_client(const struct mica_msg_buf *in)
{
    unsigned c = 0;
    while (c < MAX_CLIENTS && clients[c])
        c++;
    bool good = in->actual_handles == 1 &&
                in->actual_bytes == sizeof(CONNECT_TOKEN) &&
                memcmp(in->bytes, CONNECT_TOKEN, sizeof(CONNECT_TOKEN)) == 0;
    const char *why = !good              ? "not an svc connection"
                      : c == MAX_CLIENTS ? "no room"
                      : mica_channel_bind(in->handles[0], port, c + 1)
                          ? "bind"
                      : mica_object_wait_async(in->handles[0], port,
                                               CLOSED_KEY + c,
                                               SIGNAL_PEER_CLOSED, 0)
                          ? "observer"
                          : NULL;
    if (why) {
        printf("svc: connection refused (%s)\n", why);
        close_all(in->handles, in->actual_handles);
        return;
    }
    clients[c] = in->handles[0];
}

static void request(const struct mica_msg_buf *in)
{
    struct svc_reply r;
    mica_handle_t give;
    if (!in->txid) {                    /* not a call: nobody to answer */
        close_all(in->handles, in->actual_handles);
        return;
    }
    registry_request(in->bytes, in->actual_bytes, in->handles,
                     in->actual_handles, &r, &give);
    struct mica_msg m = { &r, give ? &give : NULL, sizeof(r), give ? 1 : 0 };
    if (mica_reply_receive(port, in->txid, &m, NULL, 0) && give)
        mica_handle_close(give);        /* the caller went away */
}

static void dispatch(const struct mica_msg_buf *in)
{
    if (in->kind == MICA_RECV_PACKET) {
        uint64_t c = in->packet.key - CLOSED_KEY;
        if (in->packet.key >= CLOSED_KEY && c < MAX_CLIENTS && clients[c]) {
            mica_handle_close(clients[c]);
            clients[c] = 0;
        }
    } else if (in->key == 0) {
        if (!mica_heartbeat(in))
            add_client(in);
    } else if (in->key <= MAX_CLIENTS && clients[in->key - 1]) {
        request(in);
    } else {
        close_all(in->handles, in->actual_handles);
    }
}

int main(void)
{
    static char bytes[MICA_MSG_MAX_BYTES] __attribute__((aligned(8)));
    static mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    int err = mica_caps_init();
    if (!err)
        err = mica_port_create(0, &port);
    if (!err)
        err = mica_channel_bind(mica_startup_handle(), port, 0);
    if (!err)
        err = mica_ready();
    while (!err) {
        struct mica_msg_buf in = {
            .bytes = bytes, .bytes_cap = sizeof(bytes), .handles = hs,
            .handles_cap = MICA_MSG_MAX_HANDLES,
        };
        if ((err = mica_port_receive(port, &in, 0)) == OK)
            dispatch(&in);
    }
    printf("svc: stopped: %s\n", mica_status_str(err));
    return 1;
}
