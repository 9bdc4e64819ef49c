/*
 * elf.c - validate an ELF64 executable before anything of it is mapped.
 *
 * Mica starts statically linked x86_64 executables (musl-gcc -static
 * makes ET_EXEC files).  The file is hostile input: it may be truncated,
 * its counts and offsets may be chosen to overflow, its segments may aim
 * at page 0 or the kernel half.  elf_parse() reads only bytes inside
 * [file, file+len), each field with memcpy (a file in a vmo or archive
 * need not be aligned), checks every sum for overflow before using it,
 * and reports only what passed every check.  It accepts:
 *
 *  - identity: ELF magic, ELFCLASS64, little-endian, version 1, OS ABI
 *    System V or GNU; e_type ET_EXEC, e_machine x86_64, e_ehsize 64,
 *    e_phentsize 56, 1..ELF_MAX_PHDRS program headers lying wholly in the
 *    file after the ELF header;
 *  - no PT_INTERP or PT_DYNAMIC (dynamic linking is not supported);
 *  - each PT_LOAD: filesz <= memsz; file bytes inside the file; memory
 *    from at least one page up, ending at or below user_limit, without
 *    wrapping; vaddr and offset congruent modulo the page and modulo
 *    p_align (0 or a power of two); never both writable and executable;
 *  - PT_LOADs ascending by vaddr (as the ELF specification requires) and
 *    no page shared between two of them (see below);
 *  - the entry point inside an executable segment; the program header
 *    table inside the file bytes of a segment (musl reads it through
 *    AT_PHDR to find PT_TLS), agreeing with PT_PHDR when there is one;
 *  - at most one PT_TLS and one PT_PHDR; the TLS initialisation image
 *    inside the file bytes of a segment; PT_GNU_STACK not executable.
 *
 * The page rule.  GNU ld (with and without -z separate-code and relro),
 * gold and lld, as installed with musl-gcc here, all start each PT_LOAD
 * on a fresh virtual page: a segment may begin mid-page (vaddr 0x408fb4,
 * offset 0x7fb4) and several segments may take bytes from one *file*
 * page, but no *virtual* page holds two segments.  So Mica requires the
 * page-rounded ranges [ALIGN_DOWN(vaddr), ALIGN_UP(vaddr+memsz)) to be
 * disjoint.  Each page then has exactly one owner, one protection and
 * one source, and zeroing the tail of the last file page of a segment
 * cannot clobber a neighbour.  File ranges may overlap freely: the file
 * is only read.  PT_LOADs with memsz 0 are checked, then left out.
 */
#include "elf.h"
#include "lib.h"
#include <mica/errors.h>

#define EHDR_SIZE   64
#define PHDR_SIZE   56

#define ELFCLASS32  1
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define EV_CURRENT  1
#define OSABI_SYSV  0
#define OSABI_GNU   3
#define ET_EXEC     2
#define ET_DYN      3
#define EM_X86_64   62

#define PT_LOAD      1
#define PT_DYNAMIC   2
#define PT_INTERP    3
#define PT_SHLIB     5
#define PT_PHDR      6
#define PT_TLS       7
#define PT_GNU_STACK 0x6474e551u

#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
};

struct parse {
    const uint8_t *file;
    size_t len;
    uint64_t limit;
    struct elf_image *out;
    const char *why;
    uint64_t phoff;
    bool have_tls, have_pt_phdr;
    struct phdr pt_phdr, tls;
};

static int fail(struct parse *p, int err, const char *why)
{
    p->why = why;
    return err;
}

/* Callers have checked that [off, off+size) lies inside the file. */
static uint16_t rd16(const struct parse *p, uint64_t off)
{
    uint16_t v;

    memcpy(&v, p->file + off, sizeof v);
    return v;
}

static uint32_t rd32(const struct parse *p, uint64_t off)
{
    uint32_t v;

    memcpy(&v, p->file + off, sizeof v);
    return v;
}

static uint64_t rd64(const struct parse *p, uint64_t off)
{
    uint64_t v;

    memcpy(&v, p->file + off, sizeof v);
    return v;
}

static bool pow2_or_zero(uint64_t x)
{
    return (x & (x - 1)) == 0;
}

static int check_ident(struct parse *p)
{
    const uint8_t *id = p->file;

    if (p->len < 16 || id[0] != 0x7f || id[1] != 'E' || id[2] != 'L' ||
        id[3] != 'F')
        return fail(p, ERR_BAD_FORMAT, "not an ELF file");
    if (id[4] == ELFCLASS32)
        return fail(p, ERR_NOT_SUPPORTED, "32-bit ELF file");
    if (id[4] != ELFCLASS64)
        return fail(p, ERR_BAD_FORMAT, "bad ELF class");
    if (id[5] == ELFDATA2MSB)
        return fail(p, ERR_NOT_SUPPORTED, "big-endian ELF file");
    if (id[5] != ELFDATA2LSB)
        return fail(p, ERR_BAD_FORMAT, "bad ELF data encoding");
    if (id[6] != EV_CURRENT)
        return fail(p, ERR_BAD_FORMAT, "bad ELF identification version");
    if (id[7] != OSABI_SYSV && id[7] != OSABI_GNU)
        return fail(p, ERR_NOT_SUPPORTED, "foreign OS ABI");
    if (p->len < EHDR_SIZE)
        return fail(p, ERR_BAD_FORMAT, "file too short for the ELF header");
    return 0;
}

static int check_header(struct parse *p)
{
    uint16_t type = rd16(p, 16), phnum = rd16(p, 56);

    if (type == ET_DYN)
        return fail(p, ERR_NOT_SUPPORTED,
                    "position-independent executable");
    if (type != ET_EXEC)
        return fail(p, ERR_BAD_FORMAT, "not an executable");
    if (rd16(p, 18) != EM_X86_64)
        return fail(p, ERR_NOT_SUPPORTED, "not an x86_64 executable");
    if (rd32(p, 20) != EV_CURRENT)
        return fail(p, ERR_BAD_FORMAT, "bad ELF version");
    if (rd16(p, 52) != EHDR_SIZE)
        return fail(p, ERR_BAD_FORMAT, "bad ELF header size");
    if (rd16(p, 54) != PHDR_SIZE)
        return fail(p, ERR_BAD_FORMAT, "bad program header size");
    if (phnum == 0)
        return fail(p, ERR_BAD_FORMAT, "no program headers");
    if (phnum > ELF_MAX_PHDRS)
        return fail(p, ERR_NOT_SUPPORTED, "too many program headers");
    p->phoff = rd64(p, 32);
    if (p->phoff < EHDR_SIZE)
        return fail(p, ERR_BAD_FORMAT,
                    "program headers overlap the ELF header");
    if (p->phoff > p->len || p->len - p->phoff < (uint64_t)phnum * PHDR_SIZE)
        return fail(p, ERR_BAD_FORMAT,
                    "program headers run past end of file");
    p->out->entry = rd64(p, 24);
    p->out->phnum = phnum;
    p->out->phentsize = PHDR_SIZE;
    return 0;
}

static void read_phdr(const struct parse *p, unsigned i, struct phdr *ph)
{
    uint64_t at = p->phoff + (uint64_t)i * PHDR_SIZE;

    ph->type = rd32(p, at);
    ph->flags = rd32(p, at + 4);
    ph->offset = rd64(p, at + 8);
    ph->vaddr = rd64(p, at + 16);
    ph->filesz = rd64(p, at + 32);
    ph->memsz = rd64(p, at + 40);
    ph->align = rd64(p, at + 48);
}

/* Sizes, file bounds and wrap-around, common to PT_LOAD and PT_TLS. */
static int check_range(struct parse *p, const struct phdr *ph)
{
    if (ph->filesz > ph->memsz)
        return fail(p, ERR_BAD_FORMAT,
                    "segment file size exceeds its memory size");
    if (ph->offset > p->len || ph->filesz > p->len - ph->offset)
        return fail(p, ERR_BAD_FORMAT, "segment runs past end of file");
    if (ph->memsz > UINT64_MAX - ph->vaddr)
        return fail(p, ERR_BAD_FORMAT,
                    "segment wraps around the address space");
    if (!pow2_or_zero(ph->align))
        return fail(p, ERR_BAD_FORMAT,
                    "segment alignment is not a power of two");
    return 0;
}

static uint32_t prot_of(uint32_t flags)
{
    return ((flags & PF_R) ? ELF_PROT_R : 0) |
           ((flags & PF_W) ? ELF_PROT_W : 0) |
           ((flags & PF_X) ? ELF_PROT_X : 0);
}

/* Placement of one PT_LOAD on its own, before its neighbours are seen. */
static int check_load(struct parse *p, const struct phdr *ph)
{
    int err = check_range(p, ph);

    if (err)
        return err;
    if (ph->vaddr < PAGE_SIZE)
        return fail(p, ERR_BAD_FORMAT, "segment maps page 0");
    if (ph->vaddr + ph->memsz > p->limit)
        return fail(p, ERR_BAD_FORMAT, "segment reaches beyond user space");
    if ((ph->vaddr ^ ph->offset) & PAGE_MASK)
        return fail(p, ERR_BAD_FORMAT,
                    "segment address and file offset not page-congruent");
    if (ph->align > 1 && ((ph->vaddr ^ ph->offset) & (ph->align - 1)))
        return fail(p, ERR_BAD_FORMAT,
                    "segment address and file offset not congruent "
                    "modulo its alignment");
    if ((ph->flags & PF_W) && (ph->flags & PF_X))
        return fail(p, ERR_NOT_SUPPORTED,
                    "segment is both writable and executable");
    return 0;
}

static int add_load(struct parse *p, const struct phdr *ph)
{
    struct elf_image *out = p->out;
    struct elf_segment *s;
    int err = check_load(p, ph);

    if (err || ph->memsz == 0)
        return err;
    if (out->nsegs == ELF_MAX_SEGS)
        return fail(p, ERR_NOT_SUPPORTED, "too many loadable segments");
    if (out->nsegs > 0) {
        const struct elf_segment *prev = &out->seg[out->nsegs - 1];
        uint64_t prev_end = prev->vaddr + prev->memsz;

        if (ph->vaddr < prev->vaddr)
            return fail(p, ERR_BAD_FORMAT,
                        "loadable segments not in address order");
        if (ph->vaddr < prev_end)
            return fail(p, ERR_BAD_FORMAT, "loadable segments overlap");
        if (ALIGN_DOWN(ph->vaddr, PAGE_SIZE) < ALIGN_UP(prev_end, PAGE_SIZE))
            return fail(p, ERR_BAD_FORMAT, "loadable segments share a page");
    }
    s = &out->seg[out->nsegs++];
    s->vaddr = ph->vaddr;
    s->memsz = ph->memsz;
    s->filesz = ph->filesz;
    s->offset = ph->offset;
    s->prot = prot_of(ph->flags);
    if (out->nsegs == 1)
        out->lo = ALIGN_DOWN(s->vaddr, PAGE_SIZE);
    out->hi = ALIGN_UP(s->vaddr + s->memsz, PAGE_SIZE);
    return 0;
}

static int note_tls(struct parse *p, const struct phdr *ph)
{
    int err;

    if (p->have_tls)
        return fail(p, ERR_BAD_FORMAT, "more than one PT_TLS");
    err = check_range(p, ph);
    if (err)
        return err;
    p->have_tls = true;
    p->tls = *ph;
    return 0;
}

static int note_phdr(struct parse *p, const struct phdr *ph)
{
    if (p->have_pt_phdr)
        return fail(p, ERR_BAD_FORMAT, "more than one PT_PHDR");
    p->have_pt_phdr = true;
    p->pt_phdr = *ph;
    return 0;
}

static int check_phdr(struct parse *p, const struct phdr *ph)
{
    switch (ph->type) {
    case PT_LOAD:
        return add_load(p, ph);
    case PT_TLS:
        return note_tls(p, ph);
    case PT_PHDR:
        return note_phdr(p, ph);
    case PT_SHLIB:
        return fail(p, ERR_BAD_FORMAT, "PT_SHLIB present");
    case PT_GNU_STACK:
        if (ph->flags & PF_X)
            return fail(p, ERR_NOT_SUPPORTED, "executable stack requested");
        return 0;
    default:
        return 0;           /* notes, relro, eh_frame, properties */
    }
}

/* A dynamically linked file says so before anything else is judged. */
static int check_static(struct parse *p)
{
    struct phdr ph;

    for (unsigned i = 0; i < p->out->phnum; i++) {
        read_phdr(p, i, &ph);
        if (ph.type == PT_INTERP)
            return fail(p, ERR_NOT_SUPPORTED,
                        "dynamically linked (PT_INTERP)");
        if (ph.type == PT_DYNAMIC)
            return fail(p, ERR_NOT_SUPPORTED,
                        "dynamically linked (PT_DYNAMIC)");
    }
    return 0;
}

/* The segment holding file bytes [off, off+size) at the address that
 * keeps their offset from the segment's start, or NULL. */
static const struct elf_segment *file_home(const struct elf_image *img,
                                           uint64_t off, uint64_t size)
{
    for (unsigned i = 0; i < img->nsegs; i++) {
        const struct elf_segment *s = &img->seg[i];

        if (off >= s->offset && off - s->offset <= s->filesz &&
            size <= s->filesz - (off - s->offset))
            return s;
    }
    return NULL;
}

static int check_entry(struct parse *p)
{
    const struct elf_image *img = p->out;
    uint64_t e = img->entry;

    for (unsigned i = 0; i < img->nsegs; i++) {
        const struct elf_segment *s = &img->seg[i];

        if ((s->prot & ELF_PROT_X) && e >= s->vaddr &&
            e - s->vaddr < s->memsz)
            return 0;
    }
    return fail(p, ERR_BAD_FORMAT,
                "entry point is not in an executable segment");
}

static int place_phdrs(struct parse *p)
{
    struct elf_image *img = p->out;
    uint64_t size = (uint64_t)img->phnum * PHDR_SIZE;
    const struct elf_segment *s = file_home(img, p->phoff, size);

    if (!s)
        return fail(p, ERR_BAD_FORMAT,
                    "program headers are not in a loadable segment");
    img->phdr_vaddr = s->vaddr + (p->phoff - s->offset);
    if (p->have_pt_phdr &&
        (p->pt_phdr.offset != p->phoff || p->pt_phdr.filesz < size ||
         p->pt_phdr.vaddr != img->phdr_vaddr))
        return fail(p, ERR_BAD_FORMAT,
                    "PT_PHDR disagrees with the program header table");
    return 0;
}

static int place_tls(struct parse *p)
{
    struct elf_image *img = p->out;
    const struct phdr *t = &p->tls;
    const struct elf_segment *s;

    if (!p->have_tls)
        return 0;
    if (t->filesz > 0) {
        s = file_home(img, t->offset, t->filesz);
        if (!s || s->vaddr + (t->offset - s->offset) != t->vaddr)
            return fail(p, ERR_BAD_FORMAT,
                        "TLS image is not in a loadable segment");
    }
    img->tls_vaddr = t->vaddr;
    img->tls_filesz = t->filesz;
    img->tls_memsz = t->memsz;
    img->tls_align = t->align;
    return 0;
}

static int parse(struct parse *p)
{
    struct phdr ph;
    int err;

    if ((err = check_ident(p)) || (err = check_header(p)) ||
        (err = check_static(p)))
        return err;
    for (unsigned i = 0; i < p->out->phnum; i++) {
        read_phdr(p, i, &ph);
        if ((err = check_phdr(p, &ph)))
            return err;
    }
    if (p->out->nsegs == 0)
        return fail(p, ERR_BAD_FORMAT, "no loadable segment");
    if ((err = check_entry(p)) || (err = place_phdrs(p)) ||
        (err = place_tls(p)))
        return err;
    p->out->stack_prot = ELF_PROT_R | ELF_PROT_W;
    return 0;
}

int elf_parse(const void *file, size_t len, uint64_t user_limit,
              struct elf_image *out, const char **why)
{
    struct parse p = {
        .file = file, .len = len, .limit = user_limit, .out = out,
    };
    int err;

    if (!file || !out || (user_limit & PAGE_MASK))
        err = fail(&p, ERR_INVALID_ARGS, "invalid arguments");
    else {
        memset(out, 0, sizeof *out);
        err = parse(&p);
    }
    if (why)
        *why = err ? p.why : "ok";
    return err;
}
