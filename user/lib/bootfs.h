/*
 * bootfs.h - reading the boot file system: a cpio "newc" archive.
 *
 * The archive is read in place (init maps the bootfs vmo read-only); an
 * entry names a file by path and gives its bytes.  Every header field is
 * checked against the archive's size before it is used.
 */
#ifndef MICA_USER_BOOTFS_H
#define MICA_USER_BOOTFS_H

#include <stddef.h>

struct bootfs_entry {
    const char *name;           /* NUL-terminated, inside the archive */
    const void *data;
    size_t size;
    unsigned mode;
};

/* The entry after `pos` (0: the first); returns the position of the next
 * one, 0 at the end, -1 when the archive is malformed there. */
long bootfs_next(const void *archive, size_t len, long pos,
                 struct bootfs_entry *e);

/* Find `name`; 0 and *e filled, or -1. */
int bootfs_find(const void *archive, size_t len, const char *name,
                struct bootfs_entry *e);

#endif
