/*
 * test_elf.c - host tests of the ELF64 executable validator.
 *
 * Two kinds of input.  Synthetic files are built in memory in the shape
 * musl-gcc -static gives (R, RX and RW segments, PT_TLS, PT_GNU_STACK),
 * then broken one field at a time; each break must give the expected
 * status.  The real file is build/host/elf-sample (or $ELF_SAMPLE), a
 * musl-gcc -static build of elf_sample.c: it must parse to exactly what
 * its own program headers say, every truncation of it must fail unless
 * it keeps all the bytes the parser needs, and thousands of seeded random
 * mutations must never crash or yield an image breaking the invariants.
 * Every file handed to elf_parse is a heap block of exactly its length,
 * so AddressSanitizer traps any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "elf.h"
#include <mica/errors.h>

#define LIMIT      0x0000800000000000ull    /* end of the user half */
#define SYN_LEN    0x2000u
#define EH_SIZE    64u
#define PH_SIZE    56u

#define PT_LOAD_   1u
#define PT_DYN_    2u
#define PT_INTERP_ 3u
#define PT_PHDR_   6u
#define PT_TLS_    7u
#define PT_STACK_  0x6474e551u
#define R_ 4u
#define W_ 2u
#define X_ 1u

/* ---- building files ----------------------------------------------------- */

static void put(uint8_t *b, size_t off, uint64_t v, size_t n)
{
    memcpy(b + off, &v, n);         /* little-endian host */
}

static uint64_t get(const uint8_t *b, size_t off, size_t n)
{
    uint64_t v = 0;

    memcpy(&v, b + off, n);
    return v;
}

static void set_phdr(uint8_t *b, unsigned i, uint32_t type, uint32_t flags,
                     uint64_t off, uint64_t vaddr, uint64_t filesz,
                     uint64_t memsz, uint64_t align)
{
    size_t at = get(b, 32, 8) + (size_t)i * PH_SIZE;

    put(b, at, type, 4);
    put(b, at + 4, flags, 4);
    put(b, at + 8, off, 8);
    put(b, at + 16, vaddr, 8);
    put(b, at + 24, vaddr, 8);
    put(b, at + 32, filesz, 8);
    put(b, at + 40, memsz, 8);
    put(b, at + 48, align, 8);
}

static size_t phdr_at(unsigned i, unsigned field)
{
    return EH_SIZE + (size_t)i * PH_SIZE + field;
}

/* The layout of a musl static binary, in 8 KiB:
 *   0 LOAD R   file 0x0000+0x200   at 0x400000 (ELF + program headers)
 *   1 LOAD RX  file 0x1000+0x100   at 0x401000
 *   2 LOAD RW  file 0x1f80+0x80    at 0x402f80, memsz 0x300 (bss)
 *   3 TLS      file 0x1f80+4       at 0x402f80, memsz 0x68
 *   4 GNU_STACK RW */
static void build(uint8_t *b)
{
    memset(b, 0, SYN_LEN);
    memcpy(b, "\x7f" "ELF\x02\x01\x01", 7);
    put(b, 16, 2, 2);               /* ET_EXEC */
    put(b, 18, 62, 2);              /* EM_X86_64 */
    put(b, 20, 1, 4);
    put(b, 24, 0x401010, 8);        /* entry */
    put(b, 32, EH_SIZE, 8);         /* phoff */
    put(b, 52, EH_SIZE, 2);
    put(b, 54, PH_SIZE, 2);
    put(b, 56, 5, 2);
    set_phdr(b, 0, PT_LOAD_, R_, 0, 0x400000, 0x200, 0x200, 0x1000);
    set_phdr(b, 1, PT_LOAD_, R_ | X_, 0x1000, 0x401000, 0x100, 0x100, 0x1000);
    set_phdr(b, 2, PT_LOAD_, R_ | W_, 0x1f80, 0x402f80, 0x80, 0x300, 0x1000);
    set_phdr(b, 3, PT_TLS_, R_, 0x1f80, 0x402f80, 4, 0x68, 4);
    set_phdr(b, 4, PT_STACK_, R_ | W_, 0, 0, 0, 0, 16);
}

static int parse_copy(const uint8_t *b, size_t len, struct elf_image *img,
                      const char **why)
{
    uint8_t *copy = malloc(len ? len : 1);
    int err;

    assert_non_null(copy);
    memcpy(copy, b, len);
    err = elf_parse(copy, len, LIMIT, img, why);
    free(copy);
    return err;
}

/* ---- invariants every accepted image keeps ----------------------------- */

static void check_invariants(const struct elf_image *img, size_t len,
                             uint64_t limit)
{
    bool entry_ok = false, phdr_ok = false;

    assert_true(img->nsegs >= 1 && img->nsegs <= ELF_MAX_SEGS);
    assert_int_equal(img->lo, img->seg[0].vaddr & ~0xfffull);
    for (unsigned i = 0; i < img->nsegs; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint64_t end = s->vaddr + s->memsz;

        assert_true(s->vaddr >= 4096 && s->memsz > 0 && end > s->vaddr);
        assert_true(end <= limit && s->filesz <= s->memsz);
        assert_true(s->offset <= len && s->filesz <= len - s->offset);
        assert_true(((s->vaddr ^ s->offset) & 0xfff) == 0);
        assert_false((s->prot & ELF_PROT_W) && (s->prot & ELF_PROT_X));
        assert_true(img->lo <= s->vaddr && end <= img->hi);
        if (i > 0)
            assert_true((s->vaddr & ~0xfffull) >=
                        ((img->seg[i - 1].vaddr + img->seg[i - 1].memsz +
                          0xfff) & ~0xfffull));
        if ((s->prot & ELF_PROT_X) && img->entry >= s->vaddr &&
            img->entry < end)
            entry_ok = true;
        if (img->phdr_vaddr >= s->vaddr &&
            img->phdr_vaddr + (uint64_t)img->phnum * PH_SIZE <=
                s->vaddr + s->filesz)
            phdr_ok = true;
    }
    assert_int_equal(img->hi & 0xfff, 0);
    assert_int_equal(img->hi, (img->seg[img->nsegs - 1].vaddr +
                               img->seg[img->nsegs - 1].memsz + 0xfff) &
                              ~0xfffull);
    assert_true(entry_ok);
    assert_true(phdr_ok);
    assert_int_equal(img->phentsize, PH_SIZE);
    assert_int_equal(img->stack_prot, ELF_PROT_R | ELF_PROT_W);
}

/* ---- synthetic files ---------------------------------------------------- */

static void test_synthetic_valid(void **state)
{
    static uint8_t b[SYN_LEN];
    struct elf_image img;
    const char *why = NULL;

    (void)state;
    build(b);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, &why), 0);
    assert_string_equal(why, "ok");
    check_invariants(&img, SYN_LEN, LIMIT);
    assert_int_equal(img.entry, 0x401010);
    assert_int_equal(img.phdr_vaddr, 0x400040);
    assert_int_equal(img.phnum, 5);
    assert_int_equal(img.nsegs, 3);
    assert_int_equal(img.seg[0].prot, ELF_PROT_R);
    assert_int_equal(img.seg[1].prot, ELF_PROT_R | ELF_PROT_X);
    assert_int_equal(img.seg[2].prot, ELF_PROT_R | ELF_PROT_W);
    assert_int_equal(img.seg[2].vaddr, 0x402f80);
    assert_int_equal(img.seg[2].filesz, 0x80);
    assert_int_equal(img.seg[2].memsz, 0x300);
    assert_int_equal(img.seg[2].offset, 0x1f80);
    assert_int_equal(img.lo, 0x400000);
    assert_int_equal(img.hi, 0x404000);
    assert_int_equal(img.tls_vaddr, 0x402f80);
    assert_int_equal(img.tls_filesz, 4);
    assert_int_equal(img.tls_memsz, 0x68);
    assert_int_equal(img.tls_align, 4);

    /* a PT_PHDR that agrees is accepted; why may be NULL */
    set_phdr(b, 4, PT_PHDR_, R_, 64, 0x400040, 5 * PH_SIZE, 5 * PH_SIZE, 8);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, NULL), 0);
    assert_int_equal(img.phdr_vaddr, 0x400040);

    /* no PT_TLS: zeros */
    set_phdr(b, 3, 0x6474e552u, R_, 0x1f80, 0x402f80, 0x10, 0x10, 1);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, NULL), 0);
    assert_int_equal(img.tls_vaddr, 0);
    assert_int_equal(img.tls_memsz, 0);
}

struct mutation {
    const char *name;
    size_t off, size;       /* bytes to overwrite */
    uint64_t value;
    int err;
    const char *why;        /* the reason elf_parse must give */
};

#define PH(i, field, n, v, e, w) \
    { #i "." #field, phdr_at(i, field), n, v, e, w }
#define P_TYPE 0
#define P_FLAGS 4
#define P_OFF 8
#define P_VADDR 16
#define P_FILESZ 32
#define P_MEMSZ 40
#define P_ALIGN 48

static void test_synthetic_hostile(void **state)
{
    static uint8_t b[SYN_LEN];
    const struct mutation m[] = {
        { "magic", 1, 1, 'e', ERR_BAD_FORMAT, "not an ELF file" },
        { "class32", 4, 1, 1, ERR_NOT_SUPPORTED, "32-bit ELF file" },
        { "class", 4, 1, 3, ERR_BAD_FORMAT, "bad ELF class" },
        { "big endian", 5, 1, 2, ERR_NOT_SUPPORTED, "big-endian ELF file" },
        { "data", 5, 1, 0, ERR_BAD_FORMAT, "bad ELF data encoding" },
        { "ident version", 6, 1, 2, ERR_BAD_FORMAT,
          "bad ELF identification version" },
        { "os abi", 7, 1, 9, ERR_NOT_SUPPORTED, "foreign OS ABI" },
        { "ET_DYN", 16, 2, 3, ERR_NOT_SUPPORTED,
          "position-independent executable" },
        { "ET_REL", 16, 2, 1, ERR_BAD_FORMAT, "not an executable" },
        { "aarch64", 18, 2, 183, ERR_NOT_SUPPORTED,
          "not an x86_64 executable" },
        { "version", 20, 4, 0, ERR_BAD_FORMAT, "bad ELF version" },
        { "entry in R", 24, 8, 0x400010, ERR_BAD_FORMAT,
          "entry point is not in an executable segment" },
        { "entry past RX", 24, 8, 0x401100, ERR_BAD_FORMAT,
          "entry point is not in an executable segment" },
        { "entry in RW", 24, 8, 0x403000, ERR_BAD_FORMAT,
          "entry point is not in an executable segment" },
        { "phoff past end", 32, 8, SYN_LEN - 4 * PH_SIZE, ERR_BAD_FORMAT,
          "program headers run past end of file" },
        { "phoff huge", 32, 8, ~0ull - 8, ERR_BAD_FORMAT,
          "program headers run past end of file" },
        { "phoff in ehdr", 32, 8, 8, ERR_BAD_FORMAT,
          "program headers overlap the ELF header" },
        { "phoff unloaded", 32, 8, 0x1800, ERR_BAD_FORMAT,
          "no loadable segment" },
        { "ehsize", 52, 2, 52, ERR_BAD_FORMAT, "bad ELF header size" },
        { "phentsize", 54, 2, 32, ERR_BAD_FORMAT, "bad program header size" },
        { "phentsize big", 54, 2, 0xffff, ERR_BAD_FORMAT,
          "bad program header size" },
        { "phnum 0", 56, 2, 0, ERR_BAD_FORMAT, "no program headers" },
        { "phnum xnum", 56, 2, 0xffff, ERR_NOT_SUPPORTED,
          "too many program headers" },
        { "phnum 64 unloaded", 56, 2, ELF_MAX_PHDRS, ERR_BAD_FORMAT,
          "program headers are not in a loadable segment" },
        { "phnum 65", 56, 2, ELF_MAX_PHDRS + 1, ERR_NOT_SUPPORTED,
          "too many program headers" },
        PH(1, P_FILESZ, 8, 0x101, ERR_BAD_FORMAT,
          "segment file size exceeds its memory size"), /* > memsz */
        PH(2, P_FILESZ, 8, 0x81, ERR_BAD_FORMAT,
          "segment runs past end of file"), /* past EOF */
        PH(2, P_OFF, 8, 0xffffffffffffff80ull, ERR_BAD_FORMAT,
          "segment runs past end of file"), /* wraps */
        PH(1, P_OFF, 8, 0xfffffffffffff000ull, ERR_BAD_FORMAT,
          "segment runs past end of file"),
        PH(2, P_MEMSZ, 8, ~0ull - 0x402f80 + 1, ERR_BAD_FORMAT,
          "segment wraps around the address space"), /* wraps */
        PH(2, P_MEMSZ, 8, LIMIT - 0x402f80 + 1, ERR_BAD_FORMAT,
          "segment reaches beyond user space"), /* kernel */
        PH(2, P_VADDR, 8, 0xffffffff80002f80ull, ERR_BAD_FORMAT,
          "segment reaches beyond user space"),
        PH(0, P_VADDR, 8, 0, ERR_BAD_FORMAT, "segment maps page 0"),
        PH(2, P_VADDR, 8, 0xf80, ERR_BAD_FORMAT, "segment maps page 0"),
        /* congruence */
        PH(1, P_VADDR, 8, 0x401800, ERR_BAD_FORMAT,
          "segment address and file offset not page-congruent"),
        PH(1, P_ALIGN, 8, 0x3000, ERR_BAD_FORMAT,
          "segment alignment is not a power of two"), /* not 2^n */
        /* not congruent */
        PH(1, P_ALIGN, 8, 0x800000, ERR_BAD_FORMAT,
          "segment address and file offset not congruent modulo its alignment"),
        PH(1, P_FLAGS, 4, R_ | W_ | X_, ERR_NOT_SUPPORTED,
          "segment is both writable and executable"),
        PH(2, P_FLAGS, 4, W_ | X_, ERR_NOT_SUPPORTED,
          "segment is both writable and executable"),
        /* no exec seg */
        PH(1, P_FLAGS, 4, R_, ERR_BAD_FORMAT,
          "entry point is not in an executable segment"),
        PH(1, P_VADDR, 8, 0x400000, ERR_BAD_FORMAT,
          "loadable segments overlap"), /* overlap */
        PH(1, P_MEMSZ, 8, 0x2000, ERR_BAD_FORMAT,
          "loadable segments overlap"), /* overlap */
        PH(1, P_MEMSZ, 8, 0x1f81, ERR_BAD_FORMAT,
          "loadable segments overlap"), /* overlap by 1 */
        PH(1, P_MEMSZ, 8, 0x1f80, ERR_BAD_FORMAT,
          "loadable segments share a page"), /* share a page */
        PH(2, P_VADDR, 8, 0x401f80, ERR_BAD_FORMAT,
          "loadable segments share a page"), /* share a page */
        PH(0, P_MEMSZ, 8, 0x1001, ERR_BAD_FORMAT,
          "loadable segments overlap"), /* overlap */
        PH(2, P_VADDR, 8, 0x3fff80, ERR_BAD_FORMAT,
          "loadable segments not in address order"), /* out of order */
        PH(0, P_TYPE, 4, PT_INTERP_, ERR_NOT_SUPPORTED,
          "dynamically linked (PT_INTERP)"),
        PH(4, P_TYPE, 4, PT_INTERP_, ERR_NOT_SUPPORTED,
          "dynamically linked (PT_INTERP)"),
        PH(4, P_TYPE, 4, PT_DYN_, ERR_NOT_SUPPORTED,
          "dynamically linked (PT_DYNAMIC)"),
        PH(4, P_TYPE, 4, 5 /* PT_SHLIB */, ERR_BAD_FORMAT, "PT_SHLIB present"),
        PH(4, P_FLAGS, 4, R_ | W_ | X_, ERR_NOT_SUPPORTED,
          "executable stack requested"), /* exec stack */
        PH(4, P_TYPE, 4, PT_TLS_, ERR_BAD_FORMAT,
          "more than one PT_TLS"), /* second TLS */
        /* TLS filesz>memsz */
        PH(3, P_FILESZ, 8, 0x69, ERR_BAD_FORMAT,
          "segment file size exceeds its memory size"),
        PH(3, P_VADDR, 8, 0x402f84, ERR_BAD_FORMAT,
          "TLS image is not in a loadable segment"), /* TLS image moved */
        PH(3, P_OFF, 8, 0x1500, ERR_BAD_FORMAT,
          "TLS image is not in a loadable segment"), /* TLS not loaded */
        PH(3, P_OFF, 8, SYN_LEN - 2, ERR_BAD_FORMAT,
          "segment runs past end of file"), /* TLS past EOF */
        PH(3, P_ALIGN, 8, 6, ERR_BAD_FORMAT,
          "segment alignment is not a power of two"),
        PH(3, P_MEMSZ, 8, ~0ull - 0x402f80 + 1, ERR_BAD_FORMAT,
          "segment wraps around the address space"),
        /* phdrs unloaded */
        PH(0, P_TYPE, 4, 0, ERR_BAD_FORMAT,
          "program headers are not in a loadable segment"),
    };
    struct elf_image img;
    const char *why;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
        build(b);
        put(b, m[i].off, m[i].value, m[i].size);
        why = NULL;
        int err = parse_copy(b, SYN_LEN, &img, &why);
        if (err != m[i].err)
            fail_msg("%s: got %d (%s), want %d", m[i].name, err,
                     why ? why : "-", m[i].err);
        assert_non_null(why);
        if (strcmp(why, m[i].why) != 0)
            fail_msg("%s: reason \"%s\", want \"%s\"", m[i].name, why,
                     m[i].why);
    }
}

static void test_synthetic_segments(void **state)
{
    static uint8_t b[SYN_LEN];
    struct elf_image img;
    const char *why;
    unsigned n;

    (void)state;
    /* no PT_LOAD at all */
    build(b);
    for (unsigned i = 0; i < 3; i++)
        put(b, phdr_at(i, P_TYPE), 4 /* PT_NOTE */, 4);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, &why), ERR_BAD_FORMAT);

    /* ELF_MAX_SEGS loads pass, one more does not; empty loads are dropped */
    for (n = ELF_MAX_SEGS; n <= ELF_MAX_SEGS + 1; n++) {
        build(b);
        put(b, 56, n + 1, 2);
        put(b, 24, 0x411010, 8);
        for (unsigned i = 0; i < n; i++)
            set_phdr(b, i, PT_LOAD_, i == 1 ? R_ | X_ : R_, 0x1000,
                     0x401000 + 0x10000ull * i, 0x100, 0x100, 0x1000);
        set_phdr(b, 0, PT_LOAD_, R_, 0, 0x400000, 0x400, 0x400, 0x1000);
        set_phdr(b, n, PT_LOAD_, R_ | W_, 0, 0x7fff0000, 0, 0, 0x1000);
        int err = parse_copy(b, SYN_LEN, &img, &why);
        assert_int_equal(err, n == ELF_MAX_SEGS ? 0 : ERR_NOT_SUPPORTED);
        if (!err) {
            assert_int_equal(img.nsegs, ELF_MAX_SEGS);
            check_invariants(&img, SYN_LEN, LIMIT);
        }
    }

    /* a segment ending exactly at the limit is fine, one byte more not */
    build(b);
    set_phdr(b, 2, PT_LOAD_, R_ | W_, 0x1f80, LIMIT - 0x1080, 0x80, 0x1080,
             0x1000);
    set_phdr(b, 3, PT_TLS_, R_, 0x1f80, LIMIT - 0x1080, 4, 0x68, 4);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, &why), 0);
    assert_int_equal(img.hi, LIMIT);
    put(b, phdr_at(2, P_MEMSZ), 0x1081, 8);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, &why), ERR_BAD_FORMAT);

    /* a PT_PHDR that disagrees */
    build(b);
    set_phdr(b, 4, PT_PHDR_, R_, 64, 0x400080, 5 * PH_SIZE, 5 * PH_SIZE, 8);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, &why), ERR_BAD_FORMAT);
    set_phdr(b, 4, PT_PHDR_, R_, 64, 0x400040, 5 * PH_SIZE, 5 * PH_SIZE, 8);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, &why), 0);
    put(b, phdr_at(3, P_TYPE), PT_PHDR_, 4);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, &why), ERR_BAD_FORMAT);
    build(b);
    set_phdr(b, 4, PT_PHDR_, R_, 64, 0x400040, PH_SIZE, PH_SIZE, 8);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, &why), ERR_BAD_FORMAT);
    assert_string_equal(why, "PT_PHDR disagrees with the program header table");

    /* program headers found in a segment that does not start the file */
    build(b);
    memmove(b + 0x1010, b + EH_SIZE, 5 * PH_SIZE);
    put(b, 32, 0x1010, 8);
    put(b, phdr_at(0, P_FILESZ) - EH_SIZE + 0x1010, 0x40, 8);
    put(b, phdr_at(1, P_FILESZ) - EH_SIZE + 0x1010, 0x200, 8);
    put(b, phdr_at(1, P_MEMSZ) - EH_SIZE + 0x1010, 0x200, 8);
    assert_int_equal(parse_copy(b, SYN_LEN, &img, &why), 0);
    assert_int_equal(img.phdr_vaddr, 0x401010);
    check_invariants(&img, SYN_LEN, LIMIT);

    /* invalid arguments */
    assert_int_equal(elf_parse(NULL, 10, LIMIT, &img, &why), ERR_INVALID_ARGS);
    assert_int_equal(elf_parse(b, SYN_LEN, LIMIT, NULL, &why),
                     ERR_INVALID_ARGS);
    assert_int_equal(elf_parse(b, SYN_LEN, LIMIT - 1, &img, &why),
                     ERR_INVALID_ARGS);
}

static void test_synthetic_truncated(void **state)
{
    static uint8_t b[SYN_LEN];
    struct elf_image img;
    const char *why;

    (void)state;
    build(b);
    /* the last byte the parser needs is the RW segment's last file byte */
    for (size_t len = 0; len <= SYN_LEN; len++) {
        int err = parse_copy(b, len, &img, &why);

        if (len < 0x2000)
            assert_int_equal(err, ERR_BAD_FORMAT);
        else
            assert_int_equal(err, 0);
    }
}

/* ---- the real musl binary ----------------------------------------------- */

static uint8_t *sample;
static size_t sample_len;

static int load_sample(void **state)
{
    const char *path = getenv("ELF_SAMPLE");
    FILE *f;
    long n;

    (void)state;
    if (!path)
        path = "build/host/elf-sample";
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    sample = malloc(n);
    if (!sample || fread(sample, 1, n, f) != (size_t)n) {
        fclose(f);
        return -1;
    }
    fclose(f);
    sample_len = n;
    return 0;
}

static int free_sample(void **state)
{
    (void)state;
    free(sample);
    return 0;
}

/* The bytes the parser must see: the header, the program headers, and
 * the file part of every PT_LOAD and PT_TLS (read straight from the file). */
static size_t bytes_needed(const uint8_t *b)
{
    uint64_t phoff = get(b, 32, 8), phnum = get(b, 56, 2);
    size_t need = phoff + phnum * PH_SIZE;

    for (unsigned i = 0; i < phnum; i++) {
        size_t at = phoff + i * PH_SIZE;
        uint32_t type = get(b, at, 4);
        uint64_t end = get(b, at + 8, 8) + get(b, at + 32, 8);

        if ((type == PT_LOAD_ || type == PT_TLS_) && end > need)
            need = end;
    }
    return need;
}

static void test_sample_matches_headers(void **state)
{
    struct elf_image img;
    const char *why;
    uint64_t phoff = get(sample, 32, 8);
    unsigned phnum = get(sample, 56, 2), nload = 0;
    bool tls = false;

    (void)state;
    assert_int_equal(parse_copy(sample, sample_len, &img, &why), 0);
    check_invariants(&img, sample_len, LIMIT);
    assert_int_equal(img.entry, get(sample, 24, 8));
    assert_int_equal(img.phnum, phnum);
    for (unsigned i = 0; i < phnum; i++) {
        size_t at = phoff + i * PH_SIZE;
        uint32_t type = get(sample, at, 4), flags = get(sample, at + 4, 4);

        if (type == PT_LOAD_) {
            const struct elf_segment *s = &img.seg[nload++];

            assert_int_equal(s->offset, get(sample, at + 8, 8));
            assert_int_equal(s->vaddr, get(sample, at + 16, 8));
            assert_int_equal(s->filesz, get(sample, at + 32, 8));
            assert_int_equal(s->memsz, get(sample, at + 40, 8));
            assert_int_equal(s->prot, ((flags & R_) ? ELF_PROT_R : 0) |
                                      ((flags & W_) ? ELF_PROT_W : 0) |
                                      ((flags & X_) ? ELF_PROT_X : 0));
            if (get(sample, at + 8, 8) == 0)
                assert_int_equal(img.phdr_vaddr,
                                 get(sample, at + 16, 8) + phoff);
        } else if (type == PT_TLS_) {
            tls = true;
            assert_int_equal(img.tls_vaddr, get(sample, at + 16, 8));
            assert_int_equal(img.tls_filesz, get(sample, at + 32, 8));
            assert_int_equal(img.tls_memsz, get(sample, at + 40, 8));
            assert_int_equal(img.tls_align, get(sample, at + 48, 8));
        }
    }
    assert_int_equal(img.nsegs, nload);
    assert_true(nload >= 2);
    assert_true(tls && img.tls_memsz > img.tls_filesz);

    /* the same file with a user limit below its segments is refused */
    assert_int_equal(elf_parse(sample, sample_len, img.lo, &img, &why),
                     ERR_BAD_FORMAT);
}

static void test_sample_truncated(void **state)
{
    struct elf_image full, img;
    const char *why;
    size_t need = bytes_needed(sample);

    (void)state;
    assert_true(need <= sample_len);
    assert_int_equal(parse_copy(sample, sample_len, &full, &why), 0);
    for (size_t len = 0; len <= sample_len; len++) {
        int err = parse_copy(sample, len, &img, &why);

        if (len < need) {
            if (err != ERR_BAD_FORMAT)
                fail_msg("length %zu of %zu: got %d", len, need, err);
        } else {
            assert_int_equal(err, 0);
            assert_memory_equal(&img, &full, sizeof img);
        }
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void mutate(uint8_t *b, size_t len)
{
    static const uint64_t nasty[] = {
        0, 1, 0xfff, 0x1000, 0x7fffffffffffull, 0x800000000000ull,
        0xffffffffffffffffull, 0x8000000000000000ull, 0xffffffff80000000ull,
    };
    size_t hdrs = get(b, 32, 8) + get(b, 56, 2) * PH_SIZE;
    unsigned n = 1 + rng() % 6;

    if (hdrs > len)
        hdrs = len;
    for (unsigned k = 0; k < n; k++) {
        /* mostly the headers, where the parser looks */
        size_t at = (rng() % 8) ? rng() % hdrs : rng() % len;

        if (rng() % 4 == 0 && at + 8 <= len)
            put(b, at & ~7ul, nasty[rng() % ARRAY_SIZE(nasty)], 8);
        else
            b[at] ^= (uint8_t)(1u << (rng() % 8));
    }
}

static void test_sample_mutations(void **state)
{
    struct elf_image img;
    const char *why;
    unsigned ok = 0, iters = 5000;

    (void)state;
    for (unsigned i = 0; i < iters; i++) {
        uint8_t *b = malloc(sample_len);
        size_t len = sample_len;

        assert_non_null(b);
        memcpy(b, sample, sample_len);
        mutate(b, len);
        if (rng() % 8 == 0)
            len = rng() % (sample_len + 1);
        int err = elf_parse(b, len, LIMIT, &img, &why);
        if (err == 0) {
            check_invariants(&img, len, LIMIT);
            ok++;
        } else {
            assert_true(err == ERR_BAD_FORMAT || err == ERR_NOT_SUPPORTED);
            assert_non_null(why);
        }
        free(b);
    }
    /* both outcomes happen: the loop is not trivially all-fail */
    assert_true(ok > 0 && ok < iters);
}

int main(void)
{
    const struct CMUnitTest synthetic[] = {
        cmocka_unit_test(test_synthetic_valid),
        cmocka_unit_test(test_synthetic_hostile),
        cmocka_unit_test(test_synthetic_segments),
        cmocka_unit_test(test_synthetic_truncated),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test(test_sample_matches_headers),
        cmocka_unit_test(test_sample_truncated),
        cmocka_unit_test(test_sample_mutations),
    };
    int failed = cmocka_run_group_tests_name("elf_synthetic", synthetic,
                                             NULL, NULL);

    return failed | cmocka_run_group_tests_name("elf_musl_sample", real,
                                                load_sample, free_sample);
}
