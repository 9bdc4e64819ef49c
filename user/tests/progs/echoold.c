/*
 * echoold.c - a client built against version 1 of the echo protocol
 * (tests/idl/echo/v1/echo.idl): it links that version's echo.echo stub,
 * whose signature (a reply of a length alone) no server has any more,
 * so its note says it calls echo.echo with version 1's id.  init must
 * refuse to start it, naming echo.echo.  Were it started, it would call
 * echo.echo on its `echo` capability, if it had one, and say it is
 * ready.
 */
#include "caps.h"
#include "echo.h"

int main(void)
{
    uint32_t length = 0;
    mica_caps_init();
    mica_handle_t ch = mica_cap("echo", 0);
    if (ch && (echo_echo(ch, "older", 5, &length) != OK || length != 5))
        return 1;
    mica_ready();
    for (;;)
        mica_nanosleep(UINT64_MAX);
}
