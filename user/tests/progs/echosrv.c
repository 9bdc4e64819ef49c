/*
 * echosrv.c - the echo server of the supervision tests: version 2 of
 * the echo protocol (tests/idl/echo/v2/echo.idl), served through the
 * generated echo_dispatch, so its note says it serves echo.echo,
 * echo.reverse and echo.hang.
 *
 * Started by init from test-manifest lines such as
 *
 *     echo-od  bin/echosrv  serve=echo-od on-demand idle=1s
 *
 * it takes its connections from its listening endpoint (serve=) and
 * from its startup channel, answers init's heartbeats, and tells init
 * when its first client comes and its last goes.  hang stops it
 * answering anything, so init's heartbeat finds it hung.
 */
#include <string.h>

#include "caps.h"
#include "echo.h"

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

static char reversed[ECHO_MAX];

static int do_echo(void *ctx, const struct idl_txn *txn,
                   const struct echo_echo_req *req,
                   struct echo_echo_resp *resp)
{
    (void)ctx, (void)txn;
    resp->echoed = req->data;           /* the request outlives the reply */
    return OK;
}

static int do_reverse(void *ctx, const struct idl_txn *txn,
                      const struct echo_reverse_req *req,
                      struct echo_reverse_resp *resp)
{
    (void)ctx, (void)txn;
    const char *b = req->data.data;
    uint32_t n = req->data.count;
    for (uint32_t i = 0; i < n; i++)
        reversed[i] = b[n - 1 - i];
    resp->reversed = (struct idl_span){ reversed, n };
    return OK;
}

static int do_hang(void *ctx, const struct idl_txn *txn)
{
    (void)ctx, (void)txn;
    for (;;)
        mica_nanosleep(UINT64_MAX);
    return IDL_DEFER;                   /* never reached */
}

static const struct echo_server server = {
    .echo = do_echo, .reverse = do_reverse, .hang = do_hang,
};

static void close_handles(const struct mica_msg_buf *in)
{
    for (uint32_t i = 0; i < in->actual_handles; i++)
        mica_handle_close(in->handles[i]);
}

/* A call from a client, answered through the generated dispatch. */
static void request(const struct mica_msg_buf *in)
{
    uint64_t buf[(IDL_HEADER_SIZE + 8 + ECHO_MAX) / 8];
    struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
    struct idl_in q = { in->bytes, in->actual_bytes, in->actual_handles,
                        in->handles, in->handle_infos };
    if (!in->txid) {                    /* not a call: nobody to answer */
        close_handles(in);
        return;
    }
    int r = echo_dispatch(&server, NULL, &q, &o);
    if (r == IDL_REFUSED)
        close_handles(in);
    struct mica_msg m = { o.bytes, o.handles, o.len, o.nhandles };
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
        close_handles(in);
    }
}

int main(void)
{
    static uint64_t bytes[MICA_MSG_MAX_BYTES / 8];  /* 8-aligned */
    static mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    static struct mica_handle_info infos[MICA_MSG_MAX_HANDLES];
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
                                   .handles_cap = MICA_MSG_MAX_HANDLES,
                                   .handle_infos = infos };
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
