/*
 * test_ustack.c - host tests of the initial user stack builder.
 *
 * Each stack is built into a heap block of exactly `size` bytes (so
 * AddressSanitizer traps a write past either end) standing for the top
 * of a user stack ending at USER_TOP.  It is then read back the way musl
 * reads it - argc at sp, argv after it, envp after argv's NULL, the
 * auxiliary vector after envp's NULL, getauxval() scanning pairs up to
 * AT_NULL - translating each user address to the block and failing on
 * any address outside [sp, USER_TOP).
 *
 * The last test is the real thing: a child process maps the static musl
 * program build/host/elf-sample (or $ELF_SAMPLE) as elf_parse describes
 * it, builds its stack with ustack_build and jumps to its entry point, so
 * musl's own crt1.o and __libc_start_main read the stack and the program
 * checks what they found (see elf_sample.c).  The host kernel stands in
 * for Mica only for the system calls the program makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "elf.h"
#include "ustack.h"
#include <mica/errors.h>

#define USER_TOP 0x00007ffffffff000ull
#define FILL     0xa5

static const uint8_t rnd[16] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
};

struct stack {
    uint8_t *buf;
    size_t size;
    uint64_t top, sp;
};

/* The block's byte for user address ua, checking [ua, ua+n) is inside
 * what the builder wrote. */
static const uint8_t *at(const struct stack *s, uint64_t ua, size_t n)
{
    if (ua < s->sp || ua > s->top || n > s->top - ua)
        fail_msg("user address %#llx+%zu outside [%#llx, %#llx)",
                 (unsigned long long)ua, n, (unsigned long long)s->sp,
                 (unsigned long long)s->top);
    return s->buf + (ua - (s->top - s->size));
}

static uint64_t word(const struct stack *s, uint64_t ua)
{
    uint64_t v;

    memcpy(&v, at(s, ua, 8), 8);
    return v;
}

/* A NUL-terminated string at ua, wholly inside the stack. */
static const char *str(const struct stack *s, uint64_t ua)
{
    const char *p = (const char *)at(s, ua, 1);
    size_t room = s->top - ua;

    if (!memchr(p, '\0', room))
        fail_msg("string at %#llx runs off the stack", (unsigned long long)ua);
    return p;
}

static int build(struct stack *s, size_t size, const char *const *argv,
                 const char *const *envp, const uint64_t *auxv)
{
    int err;

    s->size = size;
    s->top = USER_TOP;
    s->buf = malloc(size ? size : 1);
    assert_non_null(s->buf);
    memset(s->buf, FILL, size);
    err = ustack_build(s->buf, size, USER_TOP, argv, envp, auxv, rnd, &s->sp);
    if (err) {
        for (size_t i = 0; i < size; i++)
            assert_int_equal(s->buf[i], FILL);      /* nothing written */
    }
    return err;
}

/* musl's getauxval over the vector starting at user address av. */
static bool getauxval(const struct stack *s, uint64_t av, uint64_t type,
                      uint64_t *val)
{
    for (uint64_t a = av; ; a += 16) {
        uint64_t t = word(s, a);

        if (t == AT_NULL)
            return false;
        if (t == type) {
            *val = word(s, a + 8);
            return true;
        }
    }
}

static size_t count(const char *const *list)
{
    size_t n = 0;

    while (list[n])
        n++;
    return n;
}

/* Read the stack back as musl would and compare with what went in. */
static void check(const struct stack *s, const char *const *argv,
                  const char *const *envp, const uint64_t *auxv)
{
    size_t argc = count(argv), envc = count(envp), n = 0;
    uint64_t a = s->sp, av, v;
    const char *execfn = argc ? argv[0] : "";

    assert_int_equal(s->sp % 16, 0);
    assert_true(s->sp >= s->top - s->size);
    for (uint64_t u = s->top - s->size; u < s->sp; u++)   /* untouched */
        assert_int_equal(s->buf[u - (s->top - s->size)], FILL);
    assert_int_equal(word(s, s->top - 8), 0);             /* end marker */

    assert_int_equal(word(s, a), argc);
    a += 8;
    for (size_t i = 0; i < argc; i++, a += 8)
        assert_string_equal(str(s, word(s, a)), argv[i]);
    assert_int_equal(word(s, a), 0);
    a += 8;
    for (size_t i = 0; i < envc; i++, a += 8)
        assert_string_equal(str(s, word(s, a)), envp[i]);
    assert_int_equal(word(s, a), 0);
    av = a + 8;

    /* the caller's pairs in order, then AT_RANDOM, AT_EXECFN, AT_NULL */
    for (; auxv[2 * n] != AT_NULL; n++) {
        assert_int_equal(word(s, av + 16 * n), auxv[2 * n]);
        assert_int_equal(word(s, av + 16 * n + 8), auxv[2 * n + 1]);
        assert_true(getauxval(s, av, auxv[2 * n], &v));
        assert_int_equal(v, auxv[2 * n + 1]);
    }
    assert_int_equal(word(s, av + 16 * n), AT_RANDOM);
    assert_int_equal(word(s, av + 16 * n + 16), AT_EXECFN);
    assert_int_equal(word(s, av + 16 * n + 32), AT_NULL);
    assert_int_equal(word(s, av + 16 * n + 40), 0);
    assert_true(getauxval(s, av, AT_RANDOM, &v));
    assert_int_equal(v % 16, 0);
    assert_memory_equal(at(s, v, 16), rnd, 16);
    assert_true(getauxval(s, av, AT_EXECFN, &v));
    assert_string_equal(str(s, v), execfn);
    assert_false(getauxval(s, av, AT_SYSINFO_EHDR, &v));
    /* strings lie above the vector and the random bytes */
    assert_true(v > av + 16 * n + 48);
}

static const uint64_t std_auxv[] = {
    AT_PHDR, 0x400040, AT_PHENT, 56, AT_PHNUM, 7, AT_PAGESZ, 4096,
    AT_ENTRY, 0x401083, AT_UID, 0, AT_EUID, 0, AT_GID, 0, AT_EGID, 0,
    AT_SECURE, 0, AT_HWCAP, 0x178bfbff, AT_CLKTCK, 100,
    AT_MICA_STARTUP, 0x12345, AT_NULL, 0,
};

static void test_musl_reads_it(void **state)
{
    const char *argv[] = { "/bin/hello", "-v", "x y", "", NULL };
    const char *envp[] = { "PATH=/bin", "HOME=/", NULL };
    struct stack s;
    uint64_t v;

    (void)state;
    assert_int_equal(build(&s, 4096, argv, envp, std_auxv), 0);
    check(&s, argv, envp, std_auxv);
    /* the Mica entry is found the way getauxval finds it */
    uint64_t av = s.sp + 8 * (1 + 4 + 1 + 2 + 1);
    assert_true(getauxval(&s, av, AT_MICA_STARTUP, &v));
    assert_int_equal(v, 0x12345);
    free(s.buf);
}

/* Alignment and layout for every parity of argc, envc and string size. */
static void test_shapes(void **state)
{
    static const char *words[] = {
        "a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg", "hhhhhhhh",
    };
    const uint64_t one[] = { AT_PAGESZ, 4096, AT_NULL, 0 };
    const uint64_t none[] = { AT_NULL, 0 };

    (void)state;
    for (size_t argc = 0; argc <= 6; argc++) {
        for (size_t envc = 0; envc <= 5; envc++) {
            for (size_t shift = 0; shift < 8; shift++) {
                const char *argv[8] = { 0 }, *envp[8] = { 0 };
                struct stack s;

                for (size_t i = 0; i < argc; i++)
                    argv[i] = words[(i + shift) % 8];
                for (size_t i = 0; i < envc; i++)
                    envp[i] = words[(i * 3 + shift) % 8];
                const uint64_t *auxv = (shift & 1) ? one : none;
                assert_int_equal(build(&s, 1024, argv, envp, auxv), 0);
                check(&s, argv, envp, auxv);
                free(s.buf);
            }
        }
    }
}

/* Below the exact size the build fails with nothing written; from it on,
 * it succeeds with the same stack pointer. */
static void test_exact_fit(void **state)
{
    const char *argv[] = { "/bin/prog", "arg", NULL };
    const char *envp[] = { "A=1", NULL };
    struct stack s;
    size_t need;

    (void)state;
    assert_int_equal(build(&s, 4096, argv, envp, std_auxv), 0);
    need = USER_TOP - s.sp;
    free(s.buf);
    for (size_t size = 0; size <= need + 64; size++) {
        int err = build(&s, size, argv, envp, std_auxv);

        if (size < need) {
            assert_int_equal(err, ERR_NO_MEMORY);
        } else {
            assert_int_equal(err, 0);
            assert_int_equal(s.sp, USER_TOP - need);
            check(&s, argv, envp, std_auxv);
        }
        free(s.buf);
    }
}

/* buf need not be aligned: words are stored with memcpy (UBSan checks). */
static void test_unaligned_buffer(void **state)
{
    const char *argv[] = { "p", NULL };
    const char *envp[] = { NULL };
    uint8_t *raw = malloc(1024 + 3);
    struct stack s = { .buf = raw + 3, .size = 1024, .top = USER_TOP };

    (void)state;
    assert_non_null(raw);
    memset(raw, FILL, 1024 + 3);
    assert_int_equal(ustack_build(s.buf, s.size, USER_TOP, argv, envp,
                                  std_auxv, rnd, &s.sp), 0);
    check(&s, argv, envp, std_auxv);
    free(raw);
}

static void test_limits(void **state)
{
    const char **many = calloc(USTACK_MAX_ARGS + 2, sizeof *many);
    char *longstr = malloc(USTACK_MAX_STRLEN + 1);
    const char *envp[] = { NULL };
    const char *argv[] = { longstr, NULL };
    size_t big = 4 * USTACK_MAX_STRLEN;
    struct stack s;

    (void)state;
    assert_non_null(many);
    assert_non_null(longstr);
    for (size_t i = 0; i <= USTACK_MAX_ARGS; i++)
        many[i] = "x";
    /* USTACK_MAX_ARGS entries pass, one more is refused */
    many[USTACK_MAX_ARGS] = NULL;
    assert_int_equal(build(&s, big, many, envp, std_auxv), 0);
    check(&s, many, envp, std_auxv);
    free(s.buf);
    many[USTACK_MAX_ARGS] = "x";
    assert_int_equal(build(&s, big, many, envp, std_auxv), ERR_OUT_OF_RANGE);
    free(s.buf);
    assert_int_equal(build(&s, big, envp, many, std_auxv), ERR_OUT_OF_RANGE);
    free(s.buf);

    /* a string of USTACK_MAX_STRLEN bytes with its NUL passes */
    memset(longstr, 'L', USTACK_MAX_STRLEN);
    longstr[USTACK_MAX_STRLEN - 1] = '\0';
    assert_int_equal(build(&s, big, argv, envp, std_auxv), 0);
    check(&s, argv, envp, std_auxv);
    free(s.buf);
    /* ... and in a stack too small for it (and its execfn copy) fails */
    assert_int_equal(build(&s, USTACK_MAX_STRLEN, argv, envp, std_auxv),
                     ERR_NO_MEMORY);
    free(s.buf);
    longstr[USTACK_MAX_STRLEN - 1] = 'L';
    longstr[USTACK_MAX_STRLEN] = '\0';
    assert_int_equal(build(&s, big, argv, envp, std_auxv), ERR_OUT_OF_RANGE);
    free(s.buf);
    free(longstr);
    free(many);
}

static void test_bad_arguments(void **state)
{
    const char *argv[] = { "p", NULL };
    const char *envp[] = { NULL };
    uint64_t auxv[2 * (USTACK_MAX_AUXV + 2)];
    uint8_t buf[512];
    uint64_t sp;
    struct stack s;

    (void)state;
    assert_int_equal(ustack_build(NULL, 512, USER_TOP, argv, envp, std_auxv,
                                  rnd, &sp), ERR_INVALID_ARGS);
    assert_int_equal(ustack_build(buf, 512, USER_TOP, NULL, envp, std_auxv,
                                  rnd, &sp), ERR_INVALID_ARGS);
    assert_int_equal(ustack_build(buf, 512, USER_TOP, argv, NULL, std_auxv,
                                  rnd, &sp), ERR_INVALID_ARGS);
    assert_int_equal(ustack_build(buf, 512, USER_TOP, argv, envp, NULL,
                                  rnd, &sp), ERR_INVALID_ARGS);
    assert_int_equal(ustack_build(buf, 512, USER_TOP, argv, envp, std_auxv,
                                  NULL, &sp), ERR_INVALID_ARGS);
    assert_int_equal(ustack_build(buf, 512, USER_TOP, argv, envp, std_auxv,
                                  rnd, NULL), ERR_INVALID_ARGS);
    assert_int_equal(ustack_build(buf, 512, USER_TOP - 8, argv, envp,
                                  std_auxv, rnd, &sp), ERR_INVALID_ARGS);
    assert_int_equal(ustack_build(buf, 512, 256, argv, envp, std_auxv,
                                  rnd, &sp), ERR_INVALID_ARGS);

    /* the builder owns AT_RANDOM and AT_EXECFN; no type twice */
    const uint64_t has_random[] = { AT_RANDOM, 1, AT_NULL, 0 };
    const uint64_t has_execfn[] = { AT_PAGESZ, 4096, AT_EXECFN, 1, AT_NULL, 0 };
    const uint64_t twice[] = { AT_PAGESZ, 4096, AT_UID, 0, AT_PAGESZ, 8192,
                               AT_NULL, 0 };
    assert_int_equal(build(&s, 512, argv, envp, has_random), ERR_INVALID_ARGS);
    free(s.buf);
    assert_int_equal(build(&s, 512, argv, envp, has_execfn), ERR_INVALID_ARGS);
    free(s.buf);
    assert_int_equal(build(&s, 512, argv, envp, twice), ERR_INVALID_ARGS);
    free(s.buf);

    /* USTACK_MAX_AUXV pairs pass; without AT_NULL by then, refused */
    for (size_t i = 0; i < USTACK_MAX_AUXV + 2; i++) {
        auxv[2 * i] = 100 + i;
        auxv[2 * i + 1] = i;
    }
    auxv[2 * USTACK_MAX_AUXV] = AT_NULL;
    assert_int_equal(build(&s, 2048, argv, envp, auxv), 0);
    check(&s, argv, envp, auxv);
    free(s.buf);
    auxv[2 * USTACK_MAX_AUXV] = 999;
    auxv[2 * USTACK_MAX_AUXV + 2] = AT_NULL;
    assert_int_equal(build(&s, 2048, argv, envp, auxv), ERR_INVALID_ARGS);
    free(s.buf);
}

/* ---- starting a real musl program on the stack ------------------------- */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (b = malloc(n)) &&
        fread(b, 1, n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = b ? (size_t)n : 0;
    return b;
}

static int map_prot(uint32_t prot)
{
    return ((prot & ELF_PROT_R) ? PROT_READ : 0) |
           ((prot & ELF_PROT_W) ? PROT_WRITE : 0) |
           ((prot & ELF_PROT_X) ? PROT_EXEC : 0);
}

/* What Mica's loader will do with a vmo per segment, done with mmap. */
static int load(const uint8_t *file, const struct elf_image *img)
{
    for (unsigned i = 0; i < img->nsegs; i++) {
        const struct elf_segment *sg = &img->seg[i];
        uint64_t lo = sg->vaddr & ~0xfffull;
        uint64_t hi = (sg->vaddr + sg->memsz + 0xfff) & ~0xfffull;
        void *m = mmap((void *)lo, hi - lo, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                       -1, 0);

        if (m != (void *)lo)
            return -1;
        memcpy((void *)sg->vaddr, file + sg->offset, sg->filesz);
        if (mprotect(m, hi - lo, map_prot(sg->prot)) != 0)
            return -1;
    }
    return 0;
}

static noreturn void enter(uint64_t sp, uint64_t entry)
{
    /* as at Linux process entry: rdx (atexit function) and rbp zero */
    __asm__ volatile("mov %%rdi, %%rsp\n\t"
                     "xor %%edx, %%edx\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "jmp *%%rax"
                     : : "D"(sp), "a"(entry) : "memory");
    __builtin_unreachable();
}

static noreturn void child(const char *path,
                            const uint8_t *file, size_t len)
{
    const size_t size = 64 * 1024;
    struct elf_image img;
    const char *why;
    uint8_t *stack;
    uint64_t sp;

    alarm(10);
    if (elf_parse(file, len, 0x800000000000ull, &img, &why) != 0 ||
        load(file, &img) != 0)
        _exit(100);
    const char *argv[] = { path, "check", "two", NULL };
    const char *envp[] = { "MICA=yes", NULL };
    const uint64_t auxv[] = {
        AT_PHDR, img.phdr_vaddr, AT_PHENT, img.phentsize,
        AT_PHNUM, img.phnum, AT_PAGESZ, 4096, AT_ENTRY, img.entry,
        AT_UID, 0, AT_EUID, 0, AT_GID, 0, AT_EGID, 0, AT_SECURE, 0,
        AT_CLKTCK, 100, AT_MICA_STARTUP, 0x1234, AT_NULL, 0,
    };
    stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        _exit(101);
    /* here the kernel's view of the stack is the user's view */
    if (ustack_build(stack, size, (uint64_t)stack + size, argv, envp, auxv,
                     rnd, &sp) != 0)
        _exit(102);
    enter(sp, img.entry);
}

static void test_musl_starts(void **state)
{
    const char *path = getenv("ELF_SAMPLE");
    uint8_t *file;
    size_t len;
    pid_t pid;
    int status;

    (void)state;
    if (!path)
        path = "build/host/elf-sample";
    file = read_file(path, &len);
    if (!file)
        fail_msg("cannot read %s", path);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child(path, file, len);
    free(file);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status))
        fail_msg("program killed by signal %d", WTERMSIG(status));
    assert_int_equal(WEXITSTATUS(status), 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_musl_reads_it),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_exact_fit),
        cmocka_unit_test(test_unaligned_buffer),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_musl_starts),
    };

    return cmocka_run_group_tests_name("ustack", tests, NULL, NULL);
}
