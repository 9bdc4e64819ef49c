/*
 * cmdline.h - the kernel command line.
 *
 * Words separated by spaces; each is `key=value` or a bare `key`.  A value
 * may be double-quoted to hold spaces.  The loaders put the kernel's own
 * path first (QEMU: the file name, GRUB: the path it loaded); that word is
 * kept like any other bare word and simply never asked for.
 *
 * Keys the kernel knows (docs/boot.md has the list):
 *   test=all|none|NAME[,NAME...]   in-kernel self-tests to run
 *   fault=KIND                     crash on purpose (harness self-test)
 *   quiet                          fewer boot messages
 */
#ifndef MICA_CMDLINE_H
#define MICA_CMDLINE_H

#include "types.h"

#define CMDLINE_MAX   1024
#define CMDLINE_WORDS 64

struct cmdline {
    char buf[CMDLINE_MAX];
    const char *key[CMDLINE_WORDS];
    const char *val[CMDLINE_WORDS];     /* NULL for a bare word */
    unsigned n;
    bool truncated;                     /* input did not fit */
};

/* Split `s` into words (a copy is kept in c->buf). */
void cmdline_parse(struct cmdline *c, const char *s);

/* The value of `key`: NULL when absent, "" for a bare word. The last
 * occurrence wins. */
const char *cmdline_get(const struct cmdline *c, const char *key);

/* True when the comma-separated `list` holds `item` exactly. */
bool cmdline_list_has(const char *list, const char *item);

/* The kernel's own command line, parsed at boot. */
extern struct cmdline kernel_cmdline;

#endif
