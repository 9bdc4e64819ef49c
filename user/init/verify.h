/*
 * verify.h - checking, before anything starts, that every method a
 * program of the manifest calls is served by one of them.
 */
#ifndef MICA_INIT_VERIFY_H
#define MICA_INIT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "iface_note.h"
#include "manifest.h"

/* What verification found for one entry of the manifest. */
struct verdict {
    struct iface_note note;     /* the program's note (empty if refused) */
    bool refused;
    char method[MICA_IFACE_NAME_MAX];   /* refused for a call: its name */
};

/* Read the note of every entry of m from the bootfs (fs, len) into
 * v[0..m->n), and refuse each entry whose program calls a method that no
 * entry serves with the same id, or whose note is malformed; prints
 * each refusal.  Entries whose program is missing are left to fail at
 * their start.  Returns the number refused. */
unsigned verify_manifest(const struct manifest *m, const void *fs,
                         size_t len, struct verdict *v);

#endif
