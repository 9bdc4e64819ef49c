/*
 * iface_note.h - reading a program's interface note (mica/iface_note.h)
 * from its ELF image in memory.
 *
 * The image is untrusted: every offset and size is checked before it is
 * used, and anything malformed is ERR_BAD_FORMAT, never a fault.  No
 * system call: it is tested on the host (tests/host/test_iface_note.c).
 * init reads the notes of the programs it will start, and checks them
 * against each other before starting any (docs/idl.md).
 */
#ifndef MICA_USER_IFACE_NOTE_H
#define MICA_USER_IFACE_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mica/iface_note.h>

/* The entries of one note, where they lie in the image (which need not
 * be aligned: read them with iface_note_entry). */
struct iface_list {
    const unsigned char *p;
    uint32_t n;
};

struct iface_note {
    struct iface_list serves;   /* MICA_NOTE_SERVES */
    struct iface_list calls;    /* MICA_NOTE_CALLS */
};

/* Find and check the note of the ELF image [elf, elf + len): OK, with
 * each list sorted by id, without repeats, every name NUL-terminated and
 * NUL-padded (a program without the note serves and calls nothing: both
 * lists empty).  ERR_BAD_FORMAT: not a 64-bit little-endian ELF file,
 * section headers or names out of bounds, or a note that breaks a rule
 * of mica/iface_note.h (two sections, a note of another owner or type,
 * one type twice, a size not a whole number of entries, ids unsorted or
 * repeated, a name unterminated, empty or not NUL-padded). */
int iface_note_read(const void *elf, size_t len, struct iface_note *out);

/* Entry i (< l->n) of a list. */
void iface_note_entry(const struct iface_list *l, uint32_t i,
                      struct mica_iface_entry *e);

/* Whether the list holds id (a binary search). */
bool iface_note_has(const struct iface_list *l, uint64_t id);

#endif
