/*
 * iface_note.c - the interface note of an ELF image (iface_note.h).
 *
 * Only section headers are used: the note is not loaded (no PT_NOTE
 * covers it), and strip keeps section headers.  The walk checks each
 * structure before it reads it, in 64-bit arithmetic that cannot wrap:
 * the ELF header, the section header table, the table of section names,
 * each name, then the note section and each note in it.
 */
#include <string.h>

#include <mica/errors.h>

#include "iface_note.h"

/* The ELF structures used, as the ELF specification has them (defined
 * here: the kernel's elf.h takes <elf.h>'s place in some programs). */
typedef struct {
    unsigned char e_ident[16];
    uint16_t e_type, e_machine;
    uint32_t e_version;
    uint64_t e_entry, e_phoff, e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum,
        e_shstrndx;
} Elf64_Ehdr;

typedef struct {
    uint32_t sh_name, sh_type;
    uint64_t sh_flags, sh_addr, sh_offset, sh_size;
    uint32_t sh_link, sh_info;
    uint64_t sh_addralign, sh_entsize;
} Elf64_Shdr;

#define ELFMAG      "\177ELF"
#define SELFMAG     4
#define EI_CLASS    4
#define EI_DATA     5
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define SHT_NOTE    7

_Static_assert(sizeof(Elf64_Ehdr) == 64, "the ELF header");
_Static_assert(sizeof(Elf64_Shdr) == 64, "a section header");

#define ENTRY sizeof(struct mica_iface_entry)

struct image {
    const unsigned char *p;
    size_t len;
};

static bool in_bounds(const struct image *im, uint64_t off, uint64_t n)
{
    return off <= im->len && n <= im->len - off;
}

static uint32_t word(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The section headers, and the one named MICA_NOTE_SECTION (NULL: none). */
static int find_section(const struct image *im, Elf64_Shdr *note,
                        bool *found)
{
    Elf64_Ehdr eh;
    *found = false;
    if (im->len < sizeof(eh))
        return ERR_BAD_FORMAT;
    memcpy(&eh, im->p, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return ERR_BAD_FORMAT;
    if (eh.e_shnum == 0)
        return OK;                      /* no sections: no note */
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum ||
        !in_bounds(im, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr)))
        return ERR_BAD_FORMAT;
    Elf64_Shdr strs;
    memcpy(&strs, im->p + eh.e_shoff + eh.e_shstrndx * sizeof(strs),
           sizeof(strs));
    if (!in_bounds(im, strs.sh_offset, strs.sh_size))
        return ERR_BAD_FORMAT;
    const char *names = (const char *)im->p + strs.sh_offset;
    for (uint32_t i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        memcpy(&sh, im->p + eh.e_shoff + i * sizeof(sh), sizeof(sh));
        if (sh.sh_name >= strs.sh_size ||
            !memchr(names + sh.sh_name, 0, strs.sh_size - sh.sh_name))
            return ERR_BAD_FORMAT;
        if (strcmp(names + sh.sh_name, MICA_NOTE_SECTION) != 0)
            continue;
        if (*found || sh.sh_type != SHT_NOTE ||
            !in_bounds(im, sh.sh_offset, sh.sh_size))
            return ERR_BAD_FORMAT;
        *note = sh;
        *found = true;
    }
    return OK;
}

/* The entries of one note's descriptor: sorted, unique, good names. */
static int check_entries(const unsigned char *d, uint32_t size)
{
    if (size % ENTRY)
        return ERR_BAD_FORMAT;
    for (uint32_t off = 0; off < size; off += ENTRY) {
        struct mica_iface_entry e, prev;
        memcpy(&e, d + off, ENTRY);
        const char *nul = memchr(e.name, 0, sizeof(e.name));
        if (!nul || nul == e.name)
            return ERR_BAD_FORMAT;
        for (const char *c = nul; c < e.name + sizeof(e.name); c++)
            if (*c)
                return ERR_BAD_FORMAT;
        if (off) {
            memcpy(&prev, d + off - ENTRY, ENTRY);
            if (prev.id >= e.id)
                return ERR_BAD_FORMAT;
        }
    }
    return OK;
}

/* One note at p, of at most `left` bytes; *used gets its padded size. */
static int one_note(const unsigned char *p, uint64_t left,
                    struct iface_note *out, uint64_t *used)
{
    if (left < 12)
        return ERR_BAD_FORMAT;
    uint32_t namesz = word(p), descsz = word(p + 4), type = word(p + 8);
    uint64_t name_pad = ((uint64_t)namesz + 3) & ~3ull;
    uint64_t desc_pad = ((uint64_t)descsz + 3) & ~3ull;
    if (namesz != sizeof(MICA_NOTE_OWNER) ||
        memcmp(p + 12, MICA_NOTE_OWNER, sizeof(MICA_NOTE_OWNER)) != 0 ||
        12 + name_pad + desc_pad > left)
        return ERR_BAD_FORMAT;
    struct iface_list *l = type == MICA_NOTE_SERVES ? &out->serves
                           : type == MICA_NOTE_CALLS ? &out->calls
                                                     : NULL;
    if (!l || l->p)
        return ERR_BAD_FORMAT;          /* another type, or twice */
    const unsigned char *d = p + 12 + name_pad;
    int err = check_entries(d, descsz);
    if (err)
        return err;
    *l = (struct iface_list){ d, descsz / (uint32_t)ENTRY };
    *used = 12 + name_pad + desc_pad;
    return OK;
}

int iface_note_read(const void *elf, size_t len, struct iface_note *out)
{
    struct image im = { elf, len };
    Elf64_Shdr sh;
    bool found;
    memset(out, 0, sizeof(*out));
    int err = find_section(&im, &sh, &found);
    if (err || !found)
        return err;
    const unsigned char *p = im.p + sh.sh_offset;
    uint64_t left = sh.sh_size;
    while (left) {
        uint64_t used;
        if ((err = one_note(p, left, out, &used))) {
            memset(out, 0, sizeof(*out));
            return err;
        }
        p += used;
        left -= used;
    }
    return OK;
}

void iface_note_entry(const struct iface_list *l, uint32_t i,
                      struct mica_iface_entry *e)
{
    memcpy(e, l->p + (size_t)i * ENTRY, ENTRY);
}

bool iface_note_has(const struct iface_list *l, uint64_t id)
{
    uint32_t lo = 0, hi = l->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        struct mica_iface_entry e;
        iface_note_entry(l, mid, &e);
        if (e.id == id)
            return true;
        if (e.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}
