/*
 * iface_note.h - reading a program's interface note (mica/iface_note.h)
 * from its ELF file.
 *
 * init reads the note of every program of the manifest before starting
 * any, to check that each method a program calls is served by another
 * (docs/services.md, "Verification").  The files come from the bootfs,
 * which anyone who builds an image can fill, so the reader trusts
 * nothing: every offset and size is checked against the file before it
 * is used, and anything out of shape is refused with ERR_BAD_FORMAT and
 * a reason, never read past.  The reader makes no system call, so it is
 * tested on the host (tests/host/test_iface_note.c).
 *
 * The lists point into the file: entries are read through
 * iface_list_get, which copies, because the file need not be aligned.
 */
#ifndef MICA_USER_IFACE_NOTE_H
#define MICA_USER_IFACE_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mica/iface_note.h>

/* The most entries one list may hold: more is refused as malformed. */
#define IFACE_LIST_MAX 1024

struct iface_list {
    const unsigned char *at;    /* count entries, 64 bytes each */
    unsigned count;
};

struct iface_note {
    struct iface_list serves, calls;
};

/* Read the note of the ELF file image[0..len): OK with *out (both lists
 * empty when the file has no note), or ERR_BAD_FORMAT with *why saying
 * what is wrong (not an ELF64 little-endian file, section headers or a
 * section outside the file, two note sections, a note that is not
 * SHT_NOTE, a note overrunning its section, a Mica note of another
 * type or given twice, a descriptor that is not whole entries, ids not
 * strictly increasing, a name that is empty or not NUL-terminated). */
int iface_note_read(const void *image, size_t len, struct iface_note *out,
                    const char **why);

/* Entry i of the list (i < l->count) into *e; its name is terminated. */
void iface_list_get(const struct iface_list *l, unsigned i,
                    struct mica_iface_entry *e);

/* Whether the list holds id; the list is sorted, so this is a binary
 * search. */
bool iface_list_has(const struct iface_list *l, uint64_t id);

#endif
