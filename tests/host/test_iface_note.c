/*
 * test_iface_note.c - host tests of the interface note reader
 * (user/lib/iface_note.c): a real program's note written by
 * iface_emit.h and kept by strip, images built here with good notes
 * (alignments 4 and 8, other owners' notes among ours, no note at all),
 * and every malformed shape, each refused with its reason and never
 * read outside the image (ASan watches the copies, which are made to
 * the exact length).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mica/errors.h>

#include "iface_note.h"

/* --- building images ------------------------------------------------- */

static unsigned char img[8192];
static size_t imglen;

static void put(size_t off, uint64_t v, unsigned n)
{
    memcpy(img + off, &v, n);
}

/* One note of `owner`, type, desc (desc_len bytes), padded to a. */
static size_t note(unsigned char *at, const char *owner, uint32_t type,
                   const void *desc, uint32_t desc_len, unsigned a)
{
    uint32_t namesz = (uint32_t)strlen(owner) + 1;
    size_t npad = (namesz + a - 1) / a * a, dpad = (desc_len + a - 1) / a * a;
    memset(at, 0, 12 + npad + dpad);
    memcpy(at, &namesz, 4);
    memcpy(at + 4, &desc_len, 4);
    memcpy(at + 8, &type, 4);
    memcpy(at + 12, owner, namesz);
    memcpy(at + 12 + npad, desc, desc_len);
    return 12 + npad + dpad;
}

static struct mica_iface_entry ent[4] = {
    { 0x10, "echo.Echo" }, { 0x20, "echo.Hang" }, { 0x30, "echo.More" },
    { 0x7, "block.Read" },
};

#define SHOFF 64
#define NOTES 1024
/* An ELF header and sections: null, .shstrtab, then the note section
 * (type, alignment) over notes[0..nlen). */
static void image(const unsigned char *notes, size_t nlen, uint32_t type,
                  uint64_t align)
{
    static const char strtab[] = "\0.shstrtab\0.note.mica.iface\0.other";
    memset(img, 0, sizeof(img));
    memcpy(img, "\177ELF\2\1\1", 7);
    put(40, SHOFF, 8);                  /* e_shoff */
    put(58, 64, 2);                     /* e_shentsize */
    put(60, 4, 2);                      /* e_shnum */
    put(62, 1, 2);                      /* e_shstrndx */
    size_t strs = SHOFF + 4 * 64;
    memcpy(img + strs, strtab, sizeof(strtab));
    put(SHOFF + 64, 1, 4);              /* .shstrtab */
    put(SHOFF + 64 + 4, 3, 4);
    put(SHOFF + 64 + 24, strs, 8);
    put(SHOFF + 64 + 32, sizeof(strtab), 8);
    put(SHOFF + 128, 11, 4);            /* .note.mica.iface */
    put(SHOFF + 128 + 4, type, 4);
    put(SHOFF + 128 + 24, NOTES, 8);
    put(SHOFF + 128 + 32, nlen, 8);
    put(SHOFF + 128 + 48, align, 8);
    put(SHOFF + 192, 28, 4);            /* .other, empty */
    put(SHOFF + 192 + 4, 1, 4);
    memcpy(img + NOTES, notes, nlen);
    imglen = NOTES + nlen;
}

static unsigned char notes[4096];

/* The image with one SERVES note of ent[0..n) and one CALLS of ent[3]. */
static void standard(unsigned a)
{
    size_t n = note(notes, "Mica", MICA_NOTE_SERVES, ent, 3 * 64, a);
    n += note(notes + n, "GNU", 3, "abcd", 4, a);
    n += note(notes + n, "Mica", MICA_NOTE_CALLS, &ent[3], 64, a);
    image(notes, n, 7, a);
}

static struct iface_note N;
static const char *why;

static int readit(void)
{
    why = "";
    return iface_note_read(img, imglen, &N, &why);
}

static void refused(const char *what)
{
    assert_int_equal(readit(), ERR_BAD_FORMAT);
    if (!strstr(why, what))
        fail_msg("reason '%s', wanted '%s'", why, what);
    assert_int_equal(N.serves.count + N.calls.count, 0);
}

/* --- good notes -------------------------------------------------------- */

static void check_standard(void)
{
    struct mica_iface_entry e;
    assert_int_equal(readit(), OK);
    assert_int_equal(N.serves.count, 3);
    assert_int_equal(N.calls.count, 1);
    iface_list_get(&N.serves, 1, &e);
    assert_int_equal(e.id, 0x20);
    assert_string_equal(e.name, "echo.Hang");
    iface_list_get(&N.calls, 0, &e);
    assert_string_equal(e.name, "block.Read");
    assert_true(iface_list_has(&N.serves, 0x10));
    assert_true(iface_list_has(&N.serves, 0x30));
    assert_false(iface_list_has(&N.serves, 0x7));
    assert_false(iface_list_has(&N.serves, 0x25));
    assert_false(iface_list_has(&N.calls, 0x10));
}

static void test_good_notes(void **state)
{
    (void)state;
    standard(4);
    check_standard();
    standard(8);
    check_standard();
}

static void test_no_note(void **state)
{
    (void)state;
    image(notes, 0, 7, 4);
    put(SHOFF + 128, 28, 4);            /* rename the note .other */
    assert_int_equal(readit(), OK);
    assert_int_equal(N.serves.count + N.calls.count, 0);
    put(60, 0, 2);                      /* no sections at all */
    assert_int_equal(readit(), OK);
    /* an empty note section, and notes of others only */
    image(notes, 0, 7, 4);
    assert_int_equal(readit(), OK);
    size_t n = note(notes, "GNU", MICA_NOTE_SERVES, ent, 64, 4);
    image(notes, n, 7, 4);
    assert_int_equal(readit(), OK);
    assert_int_equal(N.serves.count, 0);
}

/* The program built from iface_sample.c and stripped. */
static void test_real_program(void **state)
{
    (void)state;
    FILE *f = fopen("build/host/iface-sample", "rb");
    assert_non_null(f);
    static unsigned char buf[4 << 20];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    unsigned char *copy = malloc(len);      /* exact size, for ASan */
    memcpy(copy, buf, len);
    struct mica_iface_entry e;
    assert_int_equal(iface_note_read(copy, len, &N, &why), OK);
    assert_int_equal(N.serves.count, 2);
    assert_int_equal(N.calls.count, 1);
    iface_list_get(&N.serves, 0, &e);
    assert_string_equal(e.name, "echo.Echo");
    iface_list_get(&N.calls, 0, &e);
    assert_int_equal(e.id, 0x7);
    /* every truncation is refused or read within bounds */
    for (size_t l = 0; l < len; l += 97) {
        unsigned char *t = malloc(l ? l : 1);
        memcpy(t, copy, l);
        int r = iface_note_read(t, l, &N, &why);
        assert_true(r == OK || r == ERR_BAD_FORMAT);
        free(t);
    }
    free(copy);
}

/* --- malformed files ----------------------------------------------------- */

static void test_not_elf(void **state)
{
    (void)state;
    standard(4);
    imglen = 63;
    refused("not an ELF64");
    standard(4);
    img[4] = 1;                         /* ELF32 */
    refused("not an ELF64");
    standard(4);
    img[5] = 2;                         /* big-endian */
    refused("not an ELF64");
    standard(4);
    img[1] = 'X';
    refused("not an ELF64");
}

static void test_bad_section_headers(void **state)
{
    (void)state;
    standard(4);
    put(40, imglen - 100, 8);           /* the table runs off the end */
    refused("section headers");
    standard(4);
    put(40, UINT64_MAX - 10, 8);        /* an offset that would wrap */
    refused("section headers");
    standard(4);
    put(58, 40, 2);                     /* odd entry size */
    refused("section headers");
    standard(4);
    put(62, 4, 2);                      /* shstrndx past the table */
    refused("section headers");
    standard(4);
    put(SHOFF + 64 + 24, 8000, 8);      /* names outside */
    refused("section names");
    standard(4);
    put(SHOFF + 64 + 32, UINT64_MAX, 8);
    refused("section names");
}

static void test_bad_note_section(void **state)
{
    (void)state;
    standard(4);
    put(SHOFF + 128 + 4, 1, 4);         /* PROGBITS */
    refused("not SHT_NOTE");
    standard(4);
    put(SHOFF + 128 + 32, 8000, 8);     /* runs off the end */
    refused("not in the file");
    standard(4);
    put(SHOFF + 128 + 24, UINT64_MAX - 4, 8);
    refused("not in the file");
    standard(4);
    put(SHOFF + 192, 11, 4);            /* a second one */
    put(SHOFF + 192 + 4, 7, 4);
    refused("two interface note sections");
    standard(4);
    put(SHOFF + 128, 5000, 4);          /* a name past the names: skipped */
    assert_int_equal(readit(), OK);
    assert_int_equal(N.serves.count, 0);
}

static void test_bad_notes(void **state)
{
    (void)state;
    size_t n = note(notes, "Mica", MICA_NOTE_SERVES, ent, 3 * 64, 4);
    image(notes, n - 1, 7, 4);          /* the descriptor cut short */
    refused("overruns");
    image(notes, 11, 7, 4);             /* a header cut short */
    refused("overruns");
    note(notes, "Mica", MICA_NOTE_SERVES, ent, 3 * 64, 4);
    uint32_t huge = 0xfffffff0u;
    memcpy(notes + 4, &huge, 4);        /* descsz past the section */
    image(notes, n, 7, 4);
    refused("overruns");
    memcpy(notes, &huge, 4);            /* namesz past the section */
    image(notes, n, 7, 4);
    refused("overruns");
    n = note(notes, "Mica", 0x4d490003u, ent, 64, 4);
    image(notes, n, 7, 4);
    refused("unknown type");
    n = note(notes, "Mica", MICA_NOTE_SERVES, ent, 64, 4);
    n += note(notes + n, "Mica", MICA_NOTE_SERVES, &ent[1], 64, 4);
    image(notes, n, 7, 4);
    refused("given twice");
    n = note(notes, "Mica", MICA_NOTE_CALLS, ent, 100, 4);
    image(notes, n, 7, 4);
    refused("whole entries");
}

static void test_bad_entries(void **state)
{
    (void)state;
    struct mica_iface_entry e[3];
    memcpy(e, ent, sizeof(e));
    e[2].id = 0x20;                     /* a repeat */
    size_t n = note(notes, "Mica", MICA_NOTE_SERVES, e, sizeof(e), 4);
    image(notes, n, 7, 4);
    refused("strictly increasing");
    memcpy(e, ent, sizeof(e));
    e[0].id = 0x40;                     /* out of order */
    n = note(notes, "Mica", MICA_NOTE_SERVES, e, sizeof(e), 4);
    image(notes, n, 7, 4);
    refused("strictly increasing");
    memcpy(e, ent, sizeof(e));
    e[1].name[0] = 0;
    n = note(notes, "Mica", MICA_NOTE_SERVES, e, sizeof(e), 4);
    image(notes, n, 7, 4);
    refused("name");
    memcpy(e, ent, sizeof(e));
    memset(e[2].name, 'x', sizeof(e[2].name));
    n = note(notes, "Mica", MICA_NOTE_CALLS, e, sizeof(e), 8);
    image(notes, n, 7, 8);
    refused("name");
    static struct mica_iface_entry many[IFACE_LIST_MAX + 1];
    for (unsigned i = 0; i <= IFACE_LIST_MAX; i++)
        many[i] = (struct mica_iface_entry){ i + 1, "a.b" };
    static unsigned char big[(IFACE_LIST_MAX + 2) * 64];
    n = note(big, "Mica", MICA_NOTE_SERVES, many, sizeof(many), 4);
    unsigned char *whole = calloc(1, NOTES + n);
    image(notes, 0, 7, 4);
    memcpy(whole, img, NOTES);
    memcpy(whole + NOTES, big, n);
    memcpy(whole + SHOFF + 128 + 32, &n, 8);
    assert_int_equal(iface_note_read(whole, NOTES + n, &N, &why),
                     ERR_BAD_FORMAT);
    assert_non_null(strstr(why, "too many"));
    free(whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_notes),
        cmocka_unit_test(test_no_note),
        cmocka_unit_test(test_real_program),
        cmocka_unit_test(test_not_elf),
        cmocka_unit_test(test_bad_section_headers),
        cmocka_unit_test(test_bad_note_section),
        cmocka_unit_test(test_bad_notes),
        cmocka_unit_test(test_bad_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
