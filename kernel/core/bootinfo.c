/*
 * bootinfo.c - the loader's information, in the kernel's own form.
 */
#include "bootinfo.h"
#include "lib.h"

struct bootinfo bootinfo;

/* A module's string is "PATH [WORDS...]"; it is found by any of its
 * words, so `bootfs` finds "/boot/bootfs.cpio bootfs". */
const struct boot_module *bootinfo_module(const char *name)
{
    size_t n = strlen(name);
    for (unsigned i = 0; i < bootinfo.nmods; i++) {
        const char *s = bootinfo.mods[i].name;
        while (*s) {
            size_t w = 0;
            while (s[w] && s[w] != ' ')
                w++;
            if (w == n && strncmp(s, name, n) == 0)
                return &bootinfo.mods[i];
            s += w;
            while (*s == ' ')
                s++;
        }
    }
    return NULL;
}
