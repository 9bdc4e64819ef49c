/*
 * echosub.c - an older client of the echo protocol: built against
 * version 2 (tests/idl/echo/v2/echo.idl), it calls echo.echo only, not
 * echo.reverse, which its server also serves; its note lists echo.echo
 * alone, the one stub it links.  init starts it (everything it calls is
 * served); through the name service (its line's `svc`) it connects to
 * "echo-bo", declaring only echo.echo, and says it is ready only once an
 * echo came back whole: otherwise it ends with status 1 before it is
 * ready, which fails the boot.
 */
#include <string.h>

#include "caps.h"
#include "echo.h"
#include "svc_client.h"

static const struct mica_iface_entry calls[] = {
    { ECHO_ECHO_ID, "echo.echo" },
};

int main(void)
{
    mica_handle_t ch;
    static const char q[] = "older!";
    char r[ECHO_MAX];
    uint32_t n = 0;
    if (mica_caps_init() ||
        svc_connect(mica_cap("svc", 0), "echo-bo", calls, 1, &ch, NULL, 0) ||
        echo_echo(ch, q, sizeof(q), r, sizeof(r), &n) != OK ||
        n != sizeof(q) || memcmp(q, r, sizeof(q)) != 0)
        return 1;
    mica_ready();
    for (;;)
        mica_nanosleep(UINT64_MAX);
}
