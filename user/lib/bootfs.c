/*
 * bootfs.c - the cpio newc reader.
 *
 * A record is a 110-byte ASCII header ("070701" then 13 fields of 8 hex
 * digits), the name (namesize bytes with its NUL) padded so the data
 * starts on a 4-byte boundary, then the data padded the same way.  The
 * name "TRAILER!!!" ends the archive.
 */
#include <string.h>

#include "bootfs.h"

#define HDR 110

static int hex8(const char *p, unsigned long *out)
{
    unsigned long v = 0;
    for (int i = 0; i < 8; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned long)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

long bootfs_next(const void *archive, size_t len, long pos,
                 struct bootfs_entry *e)
{
    const char *a = archive;
    unsigned long mode, size, namesize;
    if (pos < 0 || (size_t)pos + HDR > len || memcmp(a + pos, "070701", 6) ||
        hex8(a + pos + 14, &mode) || hex8(a + pos + 54, &size) ||
        hex8(a + pos + 94, &namesize))
        return -1;
    size_t name = (size_t)pos + HDR;
    if (namesize == 0 || namesize > len - name || a[name + namesize - 1])
        return -1;
    size_t data = (name + namesize + 3) & ~(size_t)3;
    if (data > len || size > len - data)
        return -1;
    if (strcmp(a + name, "TRAILER!!!") == 0)
        return 0;
    e->name = a + name;
    e->data = a + data;
    e->size = size;
    e->mode = (unsigned)mode;
    return (long)((data + size + 3) & ~(size_t)3);
}

int bootfs_find(const void *archive, size_t len, const char *name,
                struct bootfs_entry *e)
{
    long pos = 0;
    for (;;) {
        long next = bootfs_next(archive, len, pos, e);
        if (next <= 0)
            return -1;
        const char *n = e->name;
        if (n[0] == '.' && n[1] == '/')
            n += 2;
        if (strcmp(n, name) == 0)
            return 0;
        pos = next;
    }
}
