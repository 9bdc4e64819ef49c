/*
 * bootinfo.h - what the boot loader told the kernel, in portable form.
 *
 * The arch code fills this from the loader's own format (Multiboot on
 * PCs) before paging is set up; afterwards nothing refers to the loader's
 * structures again.
 */
#ifndef MICA_BOOTINFO_H
#define MICA_BOOTINFO_H

#include "memmap.h"

#define BOOT_MODULES_MAX 16

struct boot_module {
    paddr_t start, end;         /* physical, [start, end) */
    char name[64];              /* the loader's string for it */
};

struct bootinfo {
    struct memmap ram;          /* all RAM reported, for the direct map */
    struct memmap free;         /* usable RAM not yet in use */
    unsigned nmods;
    struct boot_module mods[BOOT_MODULES_MAX];
    char loader[48];            /* boot loader name, if given */
};

extern struct bootinfo bootinfo;

/* A boot module by name (the first word of its string), or NULL. */
const struct boot_module *bootinfo_module(const char *name);

#endif
