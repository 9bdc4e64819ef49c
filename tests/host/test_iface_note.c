/*
 * test_iface_note.c - the interface note reader (user/lib/iface_note.c)
 * against a real program and broken copies of it.
 *
 * build/host/note-sample is linked from the C idlc generates for
 * tests/idl/demo.idl the way user programs are (--gc-sections, then
 * `idlc note` and objcopy; host.mk): it serves every demo method and
 * calls two.  Its stripped copy must say the same.  Then each rule of
 * the note is broken in a copy of the image, and the reader must refuse
 * it without reading outside the copy (ASan watches).
 */
#include <linux/elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "demo.h"
#include "iface_note.h"

static unsigned char *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(*len);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, *len, f), *len);
    fclose(f);
    return p;
}

static const uint64_t served[] = {
    DEMO_PING_ID, DEMO_ADD_ID, DEMO_PAINT_ID, DEMO_STORE_ID,
    DEMO_SAMPLES_ID, DEMO_GIVE_ID, DEMO_MIX_ID,
};

static void check_sample(const char *path)
{
    size_t len;
    unsigned char *img = load(path, &len);
    struct iface_note n;
    assert_int_equal(iface_note_read(img, len, &n), OK);
    assert_int_equal(n.serves.n, 7);
    for (size_t i = 0; i < 7; i++)
        assert_true(iface_note_has(&n.serves, served[i]));
    assert_int_equal(n.calls.n, 2);     /* only the stubs it uses */
    assert_true(iface_note_has(&n.calls, DEMO_PING_ID));
    assert_true(iface_note_has(&n.calls, DEMO_ADD_ID));
    assert_false(iface_note_has(&n.calls, DEMO_PAINT_ID));
    struct mica_iface_entry e0, e1;
    iface_note_entry(&n.calls, 0, &e0);
    iface_note_entry(&n.calls, 1, &e1);
    assert_true(e0.id < e1.id);         /* add's id is below ping's */
    assert_string_equal(e0.name, "demo.add");
    assert_string_equal(e1.name, "demo.ping");
    free(img);
}

static void reads_the_sample(void **state)
{
    (void)state;
    check_sample("build/host/note-sample");
}

static void strip_keeps_it(void **state)
{
    (void)state;
    check_sample("build/host/note-sample.stripped");
}

static void no_note_is_empty(void **state)
{
    (void)state;
    size_t len;
    unsigned char *img = load("build/host/elf-sample", &len);
    struct iface_note n;
    assert_int_equal(iface_note_read(img, len, &n), OK);
    assert_int_equal(n.serves.n + n.calls.n, 0);
    free(img);
}

/* --- broken copies -------------------------------------------------- */

static unsigned char *img;
static size_t img_len;
static Elf64_Shdr *note_sh;

static int setup(void **state)
{
    (void)state;
    img = load("build/host/note-sample", &img_len);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    Elf64_Shdr *sh = (Elf64_Shdr *)(img + eh->e_shoff);
    const char *names = (const char *)img + sh[eh->e_shstrndx].sh_offset;
    for (int i = 0; i < eh->e_shnum; i++)
        if (strcmp(names + sh[i].sh_name, MICA_NOTE_SECTION) == 0)
            note_sh = &sh[i];
    assert_non_null(note_sh);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(img);
    return 0;
}

/* Break a fresh copy with f, and expect the reader to refuse it. */
static void refuse(void (*f)(unsigned char *, Elf64_Shdr *), const char *what,
                   size_t len)
{
    unsigned char *c = malloc(img_len);
    memcpy(c, img, img_len);
    f(c, (Elf64_Shdr *)(c + ((unsigned char *)note_sh - img)));
    struct iface_note n;
    int err = iface_note_read(c, len, &n);
    if (err != ERR_BAD_FORMAT)
        fail_msg("%s: %d", what, err);
    assert_null(n.serves.p);
    free(c);
}

/* The note section's bytes are not aligned: words and entries are
 * read and written with memcpy. */
static uint32_t get_word(unsigned char *c, Elf64_Shdr *s, size_t i)
{
    uint32_t v;
    memcpy(&v, c + s->sh_offset + 4 * i, 4);
    return v;
}

static void set_word(unsigned char *c, Elf64_Shdr *s, size_t i, uint32_t v)
{
    memcpy(c + s->sh_offset + 4 * i, &v, 4);
}

/* The first note: header at 0, name at 12, entries from 20. */
static struct mica_iface_entry get_entry(unsigned char *c, Elf64_Shdr *s,
                                         int i)
{
    struct mica_iface_entry e;
    memcpy(&e, c + s->sh_offset + 20 + i * sizeof(e), sizeof(e));
    return e;
}

static void set_entry(unsigned char *c, Elf64_Shdr *s, int i,
                      const struct mica_iface_entry *e)
{
    memcpy(c + s->sh_offset + 20 + i * sizeof(*e), e, sizeof(*e));
}

static void bad_magic(unsigned char *c, Elf64_Shdr *s) { (void)s; c[1] = 'X'; }
static void bad_class(unsigned char *c, Elf64_Shdr *s) { (void)s; c[EI_CLASS] = ELFCLASS32; }
static void shoff_past(unsigned char *c, Elf64_Shdr *s)
{
    (void)s;
    ((Elf64_Ehdr *)c)->e_shoff = ~0ull - 8;
}
static void shstrndx_past(unsigned char *c, Elf64_Shdr *s)
{
    (void)s;
    ((Elf64_Ehdr *)c)->e_shstrndx = ((Elf64_Ehdr *)c)->e_shnum;
}
static void name_past(unsigned char *c, Elf64_Shdr *s) { (void)c; s->sh_name = 0x7fffffff; }
static void not_a_note(unsigned char *c, Elf64_Shdr *s) { (void)c; s->sh_type = SHT_PROGBITS; }
static void offset_past(unsigned char *c, Elf64_Shdr *s) { (void)c; s->sh_offset = ~0ull - 4; }
static void size_past(unsigned char *c, Elf64_Shdr *s) { (void)c; s->sh_size += 1u << 20; }
static void size_odd(unsigned char *c, Elf64_Shdr *s) { (void)c; s->sh_size -= 4; }
static void owner(unsigned char *c, Elf64_Shdr *s) { c[s->sh_offset + 12] = 'm'; }
static void namesz(unsigned char *c, Elf64_Shdr *s) { set_word(c, s, 0, 4); }
static void descsz_huge(unsigned char *c, Elf64_Shdr *s) { set_word(c, s, 1, 0xfffffff0u); }
static void descsz_part(unsigned char *c, Elf64_Shdr *s) { set_word(c, s, 1, get_word(c, s, 1) - 4); }
static void type_other(unsigned char *c, Elf64_Shdr *s) { set_word(c, s, 2, 3); }
static void type_twice(unsigned char *c, Elf64_Shdr *s)
{
    /* the second note (calls) becomes a second serves */
    uint32_t first = 20 + get_word(c, s, 1);
    set_word(c, s, first / 4 + 2, MICA_NOTE_SERVES);
}
static void unsorted(unsigned char *c, Elf64_Shdr *s)
{
    struct mica_iface_entry e0 = get_entry(c, s, 0), e1 = get_entry(c, s, 1);
    set_entry(c, s, 0, &e1);
    set_entry(c, s, 1, &e0);
}
static void repeated(unsigned char *c, Elf64_Shdr *s)
{
    struct mica_iface_entry e = get_entry(c, s, 0);
    set_entry(c, s, 1, &e);
}
static void unterminated(unsigned char *c, Elf64_Shdr *s)
{
    struct mica_iface_entry e = get_entry(c, s, 0);
    memset(e.name, 'x', MICA_IFACE_NAME_MAX);
    set_entry(c, s, 0, &e);
}
static void empty_name(unsigned char *c, Elf64_Shdr *s)
{
    struct mica_iface_entry e = get_entry(c, s, 0);
    memset(e.name, 0, MICA_IFACE_NAME_MAX);
    set_entry(c, s, 0, &e);
}
static void unpadded(unsigned char *c, Elf64_Shdr *s)
{
    struct mica_iface_entry e = get_entry(c, s, 0);
    e.name[MICA_IFACE_NAME_MAX - 1] = 'x';
    set_entry(c, s, 0, &e);
}
static void second_section(unsigned char *c, Elf64_Shdr *s)
{
    /* the section before takes the note's name */
    (s - 1)->sh_name = s->sh_name;
    (s - 1)->sh_type = SHT_NOTE;
    (s - 1)->sh_offset = s->sh_offset;
    (s - 1)->sh_size = s->sh_size;
    (void)c;
}

static void refuses_broken_images(void **state)
{
    (void)state;
    static const struct {
        void (*f)(unsigned char *, Elf64_Shdr *);
        const char *what;
    } cases[] = {
        { bad_magic, "not ELF" }, { bad_class, "32-bit" },
        { shoff_past, "section headers past the end" },
        { shstrndx_past, "no names section" }, { name_past, "a name past" },
        { not_a_note, "not SHT_NOTE" }, { offset_past, "offset past" },
        { size_past, "size past" }, { size_odd, "a note cut short" },
        { owner, "another owner" }, { namesz, "owner's size" },
        { descsz_huge, "a huge descriptor" },
        { descsz_part, "a part of an entry" }, { type_other, "a type" },
        { type_twice, "serves twice" }, { unsorted, "unsorted" },
        { repeated, "a repeated id" }, { unterminated, "no NUL" },
        { empty_name, "an empty name" }, { unpadded, "not NUL-padded" },
        { second_section, "two sections" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        refuse(cases[i].f, cases[i].what, img_len);
}

static void nothing(unsigned char *c, Elf64_Shdr *s) { (void)c; (void)s; }

static void refuses_every_truncation(void **state)
{
    (void)state;
    /* cut anywhere inside the section headers or the note: refused */
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    for (size_t len = 0; len < img_len; len += 1 + len / 64) {
        bool inside = len < sizeof(*eh) ||
                      len < eh->e_shoff + eh->e_shnum * sizeof(Elf64_Shdr) ||
                      len < note_sh->sh_offset + note_sh->sh_size;
        if (inside)
            refuse(nothing, "truncated", len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_the_sample),
        cmocka_unit_test(strip_keeps_it),
        cmocka_unit_test(no_note_is_empty),
        cmocka_unit_test(refuses_broken_images),
        cmocka_unit_test(refuses_every_truncation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
