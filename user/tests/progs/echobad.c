/*
 * echobad.c - a program whose interface note is malformed: its calls
 * are not sorted by id.  init must refuse to start it (a note it cannot
 * trust says nothing about what the program calls).
 *
 * The note is written by hand, as the build never would: one ELF note
 * of owner "Mica" (mica/iface_note.h) in the section MICA_NOTE_SECTION,
 * which the assembler makes SHT_NOTE because of its name and strip
 * keeps, packed and 4-aligned as readelf and init read notes; its
 * entries are version 2's echo.echo and echo.hang
 * (tests/idl/echo/v2/echo.idl), echo.echo first although its id is the
 * larger.  The program links no stub, so the build adds no note of its
 * own.
 */
#include <stdint.h>

#include <mica/iface_note.h>

#include "caps.h"
#include "echo.h"

_Static_assert(ECHO_ECHO_ID > ECHO_HANG_ID, "the calls must be unsorted");

static const struct {
    uint32_t namesz, descsz, note_type;
    char owner[8];
    struct mica_iface_entry e[2];
} __attribute__((packed, aligned(4))) calls
    __attribute__((used, aligned(4), section(MICA_NOTE_SECTION))) = {
    sizeof(MICA_NOTE_OWNER), sizeof(calls.e), MICA_NOTE_CALLS,
    MICA_NOTE_OWNER,
    { { ECHO_ECHO_ID, "echo.echo" }, { ECHO_HANG_ID, "echo.hang" } },
};

int main(void)
{
    mica_caps_init();
    mica_ready();
    for (;;)
        mica_nanosleep(UINT64_MAX);
}
