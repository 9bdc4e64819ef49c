/*
 * iface_sample.c - a program with an interface note written by
 * iface_emit.h, which test_iface_note reads after strip.
 */
#include "iface_emit.h"

MICA_IFACE_NOTE(sample_serves, MICA_NOTE_SERVES, { 0x10, "echo.Echo" },
                { 0x20, "echo.Hang" });
MICA_IFACE_NOTE(sample_calls, MICA_NOTE_CALLS, { 0x7, "block.Read" });

int main(void)
{
    return 0;
}
