/*
 * echobad.c - a program whose interface note is malformed: its calls
 * are not sorted by id.  init must refuse to start it (a note it cannot
 * trust says nothing about what the program calls).
 */
#include "caps.h"
#include "echo_proto.h"
#include "iface_emit.h"

MICA_IFACE_NOTE(echo_calls, MICA_NOTE_CALLS, { ECHO_ID_HANG, "echo.Hang" },
                { ECHO_ID_ECHO, "echo.Echo" });

int main(void)
{
    mica_caps_init();
    mica_ready();
    for (;;)
        mica_nanosleep(UINT64_MAX);
}
