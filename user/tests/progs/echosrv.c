/*
 * echosrv.c - the echo server of the supervision tests (echo_proto.h),
 * version 2: it serves echo.Echo, echo.Hang and echo.Reverse.
 *
 * Started by init from test-manifest lines such as
 *
 *     echo-od  bin/echosrv  serve=echo-od on-demand idle=1s
 *
 * it takes its connections from its listening endpoint (serve=) and
 * from its startup channel, answers init's heartbeats, and tells init
 * when its first client comes and its last goes.  HANG stops it
 * answering anything, so init's heartbeat finds it hung.
 */
#include <string.h>

#include "caps.h"
#include "echo_proto.h"
#include "iface_emit.h"

MICA_IFACE_NOTE(echo_serves, MICA_NOTE_SERVES,
                { ECHO_ID_ECHO, "echo.Echo" }, { ECHO_ID_HANG, "echo.Hang" },
                { ECHO_ID_REVERSE, "echo.Reverse" });

#define MAX_CLIENTS 16
#define LISTEN_KEY (1ull << 33)
#define CLOSED_KEY (1ull << 32)

static mica_handle_t port, clients[MAX_CLIENTS];
static unsigned nclients;

static void add(mica_handle_t h)
{
    unsigned c = 0;
    while (c < MAX_CLIENTS && clients[c])
        c++;
    if (c == MAX_CLIENTS || mica_channel_bind(h, port, c + 1) ||
        mica_object_wait_async(h, port, CLOSED_KEY + c, SIGNAL_PEER_CLOSED,
                               0)) {
        mica_handle_close(h);
        return;
    }
    clients[c] = h;
    mica_report_clients(++nclients);
}

static void request(const struct mica_msg_buf *in)
{
    char out[4 + ECHO_MAX];
    const char *b = in->bytes;
    uint32_t op = 0, n = in->actual_bytes;
    if (n >= 4)
        memcpy(&op, b, 4);
    if (n < 4 || n > sizeof(out) || in->actual_handles || !in->txid)
        op = 0;
    if (op == ECHO_OP_HANG)
        for (;;)
            mica_nanosleep(UINT64_MAX);
    memcpy(out, b, n);
    for (uint32_t i = 4; op == ECHO_OP_REVERSE && i < n; i++)
        out[i] = b[n - 1 - (i - 4)];
    struct mica_msg m = { out, NULL, op ? n : 0, 0 };
    if (in->txid)
        mica_reply_receive(port, in->txid, &m, NULL, 0);
}

static void message(const struct mica_msg_buf *in)
{
    if (in->key == 0 && mica_heartbeat(in))
        return;
    if ((in->key == 0 || in->key == LISTEN_KEY) && in->actual_handles == 1) {
        add(in->handles[0]);            /* a connection */
    } else if (in->key >= 1 && in->key <= MAX_CLIENTS &&
               clients[in->key - 1]) {
        request(in);
    } else {
        for (uint32_t i = 0; i < in->actual_handles; i++)
            mica_handle_close(in->handles[i]);
    }
}

int main(void)
{
    static char bytes[MICA_MSG_MAX_BYTES];
    static mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    int err = mica_caps_init();
    if (!err)
        err = mica_port_create(0, &port);
    if (!err)
        err = mica_channel_bind(mica_startup_handle(), port, 0);
    if (!err && mica_cap("serve", 0))
        err = mica_channel_bind(mica_cap("serve", 0), port, LISTEN_KEY);
    if (!err)
        err = mica_ready();
    while (!err) {
        struct mica_msg_buf in = { .bytes = bytes, .bytes_cap = sizeof(bytes),
                                   .handles = hs,
                                   .handles_cap = MICA_MSG_MAX_HANDLES };
        if ((err = mica_port_receive(port, &in, 0)) != OK)
            break;
        if (in.kind == MICA_RECV_MESSAGE) {
            message(&in);
        } else if (in.packet.key >= CLOSED_KEY &&
                   in.packet.key < CLOSED_KEY + MAX_CLIENTS) {
            unsigned c = (unsigned)(in.packet.key - CLOSED_KEY);
            mica_handle_close(clients[c]);
            clients[c] = 0;
            mica_report_clients(--nclients);
        }
    }
    return 1;
}
