/*
 * echosub.c - an older client of the echo protocol (echo_proto.h): it
 * calls echo.Echo only, version 2's signature, not echo.Reverse, which
 * its server also serves.  init starts it (everything it calls is
 * served); through the name service (its line's `svc`) it connects to
 * "echo-bo", declaring only echo.Echo, and
 * says it is ready only once an echo came back whole: otherwise it ends
 * with status 1 before it is ready, which fails the boot.
 */
#include <string.h>

#include "caps.h"
#include "echo_proto.h"
#include "iface_emit.h"
#include "svc_client.h"

MICA_IFACE_NOTE(echo_calls, MICA_NOTE_CALLS, { ECHO_ID_ECHO, "echo.Echo" });

static const struct mica_iface_entry calls[] = {
    { ECHO_ID_ECHO, "echo.Echo" },
};

int main(void)
{
    mica_handle_t ch;
    char q[12] = { ECHO_OP_ECHO, 0, 0, 0, 'o', 'l', 'd', 'e', 'r', '!', 0,
                   0 }, r[12];
    struct mica_msg m = { q, NULL, sizeof(q), 0 };
    struct mica_msg_buf rb = { .bytes = r, .bytes_cap = sizeof(r) };
    if (mica_caps_init() ||
        svc_connect(mica_cap("svc", 0), "echo-bo", calls, 1, &ch, NULL, 0) ||
        mica_channel_call(ch, &m, &rb, 0) || rb.actual_bytes != sizeof(q) ||
        memcmp(q, r, sizeof(q)) != 0)
        return 1;
    mica_ready();
    for (;;)
        mica_nanosleep(UINT64_MAX);
}
