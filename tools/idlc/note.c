/*
 * note.c - `idlc note PROGRAM OUT`: the interface note of a linked
 * program (mica/iface_note.h), from the records its stubs and dispatch
 * kept (gen.c): the sections .mica_serves.* and .mica_calls.*, each
 * holding struct mica_iface_entry records.
 *
 * OUT gets the contents of the section .note.mica.iface: a
 * MICA_NOTE_SERVES note and a MICA_NOTE_CALLS note, each sorted by id
 * without repeats, the empty one left out; OUT is empty when the
 * program has neither (the build then adds no section).  Two records
 * with one id and different names are an error: a hash collision,
 * which must never reach a program.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include <mica/iface_note.h>

#include "idlc.h"

struct list {
    struct mica_iface_entry *e;
    int n;
};

static const unsigned char *img;
static size_t img_len;
static const char *path;

static const void *at(uint64_t off, uint64_t len)
{
    if (off > img_len || len > img_len - off)
        fatal("%s: not a well-formed ELF file", path);
    return img + off;
}

static void add(struct list *l, const unsigned char *p, uint64_t size,
                const char *sec)
{
    if (size % sizeof(struct mica_iface_entry))
        fatal("%s: %s: not whole records", path, sec);
    for (uint64_t o = 0; o < size; o += sizeof(struct mica_iface_entry)) {
        l->e = xgrow(l->e, l->n, sizeof(*l->e));
        memcpy(&l->e[l->n], p + o, sizeof(*l->e));
        if (!memchr(l->e[l->n].name, 0, MICA_IFACE_NAME_MAX))
            fatal("%s: %s: a name without its NUL", path, sec);
        l->n++;
    }
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const struct mica_iface_entry *)a)->id;
    uint64_t y = ((const struct mica_iface_entry *)b)->id;
    return (x > y) - (x < y);
}

/* Sort, drop repeats, refuse collisions. */
static void tidy(struct list *l)
{
    int k = 0;
    qsort(l->e, (size_t)l->n, sizeof(*l->e), by_id);
    for (int i = 0; i < l->n; i++) {
        if (k && l->e[k - 1].id == l->e[i].id) {
            if (strcmp(l->e[k - 1].name, l->e[i].name))
                fatal("%s: %s and %s have the same id", path,
                      l->e[k - 1].name, l->e[i].name);
            continue;
        }
        l->e[k++] = l->e[i];
    }
    l->n = k;
}

static void collect(struct list *serves, struct list *calls)
{
    const Elf64_Ehdr *eh = at(0, sizeof(Elf64_Ehdr));
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shstrndx >= eh->e_shnum)
        fatal("%s: not a 64-bit ELF file with sections", path);
    const Elf64_Shdr *sh = at(eh->e_shoff,
                              (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr));
    const Elf64_Shdr *strs = &sh[eh->e_shstrndx];
    const char *names = at(strs->sh_offset, strs->sh_size);
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_name >= strs->sh_size ||
            !memchr(names + sh[i].sh_name, 0, strs->sh_size - sh[i].sh_name))
            fatal("%s: a section name out of bounds", path);
        const char *n = names + sh[i].sh_name;
        struct list *l = strncmp(n, ".mica_serves.", 13) == 0  ? serves
                         : strncmp(n, ".mica_calls.", 12) == 0 ? calls
                                                               : NULL;
        if (l && sh[i].sh_type == SHT_PROGBITS)
            add(l, at(sh[i].sh_offset, sh[i].sh_size), sh[i].sh_size, n);
    }
}

static void write_note(FILE *f, uint32_t type, const struct list *l)
{
    if (!l->n)
        return;
    uint32_t h[3] = { sizeof(MICA_NOTE_OWNER),
                      (uint32_t)(l->n * (int)sizeof(*l->e)), type };
    char name[8] = MICA_NOTE_OWNER;     /* "Mica\0", padded to 4 */
    fwrite(h, sizeof(h), 1, f);
    fwrite(name, 8, 1, f);
    fwrite(l->e, sizeof(*l->e), (size_t)l->n, f);
}

int note_main(const char *elf, const char *out)
{
    struct list serves = { 0 }, calls = { 0 };
    path = elf;
    img = (const unsigned char *)read_file(elf, &img_len);
    collect(&serves, &calls);
    tidy(&serves);
    tidy(&calls);
    FILE *f = fopen(out, "wb");
    if (!f)
        fatal("%s: cannot write", out);
    write_note(f, MICA_NOTE_SERVES, &serves);
    write_note(f, MICA_NOTE_CALLS, &calls);
    if (fclose(f))
        fatal("%s: write error", out);
    return 0;
}
