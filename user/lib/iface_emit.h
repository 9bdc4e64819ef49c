/*
 * iface_emit.h - writing a program's interface note by hand.
 *
 * Until tools/idlc writes the note from the stubs a program links, a
 * program that serves or calls a protocol says so with this macro, at
 * file scope, once per kind:
 *
 *     MICA_IFACE_NOTE(echo_serves, MICA_NOTE_SERVES,
 *                     { ECHO_ID_ECHO, "echo.Echo" },
 *                     { ECHO_ID_HANG, "echo.Hang" });
 *
 * Entries must be sorted by id, without repeats (init refuses a program
 * whose note is not: user/lib/iface_note.h).  The note is one ELF note
 * of owner "Mica" in the section MICA_NOTE_SECTION, which the assembler
 * makes SHT_NOTE because of its name and strip keeps; its layout is
 * packed and 4-aligned, as readelf and init read notes.
 */
#ifndef MICA_USER_IFACE_EMIT_H
#define MICA_USER_IFACE_EMIT_H

#include <stdint.h>

#include <mica/iface_note.h>

#define MICA_IFACE_NOTE(var, kind, ...)                                   \
    static const struct {                                                 \
        uint32_t namesz, descsz, note_type;                               \
        char owner[8];                                                    \
        struct mica_iface_entry e[sizeof((struct mica_iface_entry[]){     \
                                      __VA_ARGS__ }) /                    \
                                  sizeof(struct mica_iface_entry)];       \
    } __attribute__((packed, aligned(4))) var                             \
        __attribute__((used, aligned(4), section(MICA_NOTE_SECTION))) = { \
        sizeof(MICA_NOTE_OWNER), sizeof(var.e), (kind), MICA_NOTE_OWNER,  \
        { __VA_ARGS__ }                                                   \
    }

#endif
