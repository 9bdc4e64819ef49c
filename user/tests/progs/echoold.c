/*
 * echoold.c - a client built against version 1 of the echo protocol
 * (echo_proto.h): it calls echo.Echo with the signature no server has
 * any more.  init must refuse to start it, naming echo.Echo; were it
 * started, it would only say it is ready.
 */
#include "caps.h"
#include "echo_proto.h"
#include "iface_emit.h"

MICA_IFACE_NOTE(echo_calls, MICA_NOTE_CALLS,
                { ECHO_ID_ECHO_V1, "echo.Echo" });

int main(void)
{
    mica_caps_init();
    mica_ready();
    for (;;)
        mica_nanosleep(UINT64_MAX);
}
