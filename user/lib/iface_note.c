/*
 * iface_note.c - reading the interface note of an ELF file
 * (iface_note.h).
 *
 * The walk: the ELF header, the section header table, the section-name
 * table, then every section, looking for the one named
 * MICA_NOTE_SECTION; in it, the notes one after the other, each padded
 * to the section's alignment (4 or 8).  Every field is read with a
 * bounds-checked copy from the file (rd), in 64-bit arithmetic that
 * cannot wrap for the sizes at hand (a 32-bit field plus padding), so a
 * lying header makes the read fail rather than look elsewhere.  Notes of
 * other owners are skipped; a note of ours is checked whole.
 */
#include <string.h>

#include <mica/errors.h>

#include "iface_note.h"

#define EHDR_SIZE   64u
#define SHDR_SIZE   64u
#define SHT_NOTE    7u
#define ENTRY_SIZE  ((uint64_t)sizeof(struct mica_iface_entry))

struct file {
    const unsigned char *p;
    uint64_t len;
    const char **why;
};

static int bad(struct file *f, const char *why)
{
    *f->why = why;
    return ERR_BAD_FORMAT;
}

/* Whether [off, off + n) lies in the file. */
static bool inside(const struct file *f, uint64_t off, uint64_t n)
{
    return off <= f->len && n <= f->len - off;
}

static uint64_t rd(const struct file *f, uint64_t off, unsigned n)
{
    uint64_t v = 0;
    if (inside(f, off, n))
        memcpy(&v, f->p + off, n);          /* little-endian host */
    return v;
}

struct section {
    uint64_t off, size, align;
    uint32_t name, type;
};

static void section_at(const struct file *f, uint64_t at, struct section *s)
{
    s->name = (uint32_t)rd(f, at, 4);
    s->type = (uint32_t)rd(f, at + 4, 4);
    s->off = rd(f, at + 24, 8);
    s->size = rd(f, at + 32, 8);
    s->align = rd(f, at + 48, 8);
}

/* The entries of one note's descriptor [off, off + size): whole
 * entries, ids increasing, names terminated and not empty. */
static int check_list(struct file *f, uint64_t off, uint64_t size,
                      struct iface_list *l)
{
    if (size % ENTRY_SIZE)
        return bad(f, "a note's descriptor is not whole entries");
    if (size / ENTRY_SIZE > IFACE_LIST_MAX)
        return bad(f, "a note lists too many methods");
    l->at = f->p + off;
    l->count = (unsigned)(size / ENTRY_SIZE);
    for (unsigned i = 0; i < l->count; i++) {
        struct mica_iface_entry e;
        memcpy(&e, l->at + i * ENTRY_SIZE, sizeof(e));
        if (e.name[0] == 0 || memchr(e.name, 0, sizeof(e.name)) == NULL)
            return bad(f, "a method's name is empty or not terminated");
        if (i > 0 && rd(f, off + (i - 1) * ENTRY_SIZE, 8) >= e.id)
            return bad(f, "a note's ids are not strictly increasing");
    }
    return OK;
}

static uint64_t pad(uint64_t n, uint64_t a)
{
    return (n + a - 1) & ~(a - 1);
}

/* The notes of the section s. */
static int walk_notes(struct file *f, const struct section *s,
                      struct iface_note *out)
{
    uint64_t a = s->align == 8 ? 8 : 4, pos = s->off, end = s->off + s->size;
    bool seen_serves = false, seen_calls = false;
    while (pos < end) {
        if (end - pos < 12)
            return bad(f, "a note header overruns its section");
        uint64_t namesz = rd(f, pos, 4), descsz = rd(f, pos + 4, 4);
        uint32_t type = (uint32_t)rd(f, pos + 8, 4);
        uint64_t name = pos + 12, desc = name + pad(namesz, a);
        uint64_t next = desc + pad(descsz, a);
        if (next > end)
            return bad(f, "a note overruns its section");
        pos = next;
        if (namesz != sizeof(MICA_NOTE_OWNER) ||
            memcmp(f->p + name, MICA_NOTE_OWNER, namesz) != 0)
            continue;                               /* someone else's */
        bool serves = type == MICA_NOTE_SERVES;
        if (!serves && type != MICA_NOTE_CALLS)
            return bad(f, "a Mica note of an unknown type");
        bool *seen = serves ? &seen_serves : &seen_calls;
        if (*seen)
            return bad(f, "a Mica note given twice");
        *seen = true;
        int err = check_list(f, desc, descsz, serves ? &out->serves
                                                     : &out->calls);
        if (err)
            return err;
    }
    return OK;
}

/* The section called MICA_NOTE_SECTION into *note; found: 1, none: 0. */
static int find_section(struct file *f, struct section *note)
{
    uint64_t shoff = rd(f, 40, 8);
    uint64_t entsize = rd(f, 58, 2), shnum = rd(f, 60, 2);
    uint64_t shstrndx = rd(f, 62, 2);
    if (shnum == 0)
        return 0;                                   /* no sections */
    if (entsize != SHDR_SIZE || !inside(f, shoff, shnum * SHDR_SIZE) ||
        shstrndx >= shnum)
        return bad(f, "the section headers are not in the file");
    struct section names, s;
    section_at(f, shoff + shstrndx * SHDR_SIZE, &names);
    if (!inside(f, names.off, names.size))
        return bad(f, "the section names are not in the file");
    const size_t want = sizeof(MICA_NOTE_SECTION);
    int found = 0;
    for (uint64_t i = 0; i < shnum; i++) {
        section_at(f, shoff + i * SHDR_SIZE, &s);
        if (s.name >= names.size || names.size - s.name < want ||
            memcmp(f->p + names.off + s.name, MICA_NOTE_SECTION, want) != 0)
            continue;
        if (found)
            return bad(f, "two interface note sections");
        if (s.type != SHT_NOTE)
            return bad(f, "the interface note section is not SHT_NOTE");
        if (!inside(f, s.off, s.size))
            return bad(f, "the interface note section is not in the file");
        *note = s;
        found = 1;
    }
    return found;
}

int iface_note_read(const void *image, size_t len, struct iface_note *out,
                    const char **why)
{
    static const char *none;
    struct file f = { image, len, why ? why : &none };
    struct section s;
    memset(out, 0, sizeof(*out));
    if (len < EHDR_SIZE || memcmp(image, "\177ELF", 4) != 0 ||
        f.p[4] != 2 || f.p[5] != 1)
        return bad(&f, "not an ELF64 little-endian file");
    int r = find_section(&f, &s);
    if (r <= 0)
        return r;
    r = walk_notes(&f, &s, out);
    if (r)
        memset(out, 0, sizeof(*out));
    return r;
}

void iface_list_get(const struct iface_list *l, unsigned i,
                    struct mica_iface_entry *e)
{
    memcpy(e, l->at + (size_t)i * ENTRY_SIZE, sizeof(*e));
    e->name[MICA_IFACE_NAME_MAX - 1] = 0;
}

bool iface_list_has(const struct iface_list *l, uint64_t id)
{
    unsigned lo = 0, hi = l->count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        uint64_t v;
        memcpy(&v, l->at + (size_t)mid * ENTRY_SIZE, 8);
        if (v == id)
            return true;
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}
