/*
 * ustack.c - the initial user stack, as Linux builds it for execve.
 *
 * musl's _start hands its stack pointer to __libc_start_main, which
 * takes argc from the first word, argv from the words after it, envp
 * after argv's NULL, and the auxiliary vector after envp's NULL; from the
 * vector it takes AT_PHDR/AT_PHNUM/AT_PHENT (to find PT_TLS), AT_PAGESZ,
 * AT_RANDOM (the stack protector's canary), AT_EXECFN (program name when
 * argv is empty), AT_HWCAP, the four ids and AT_SECURE.  From the top of
 * the stack down:
 *
 *     user_top ->  8 zero bytes (end marker, as Linux leaves)
 *                  execfn string
 *                  argv strings, then envp strings (ascending)
 *                  padding to 16
 *                  16 random bytes            <- AT_RANDOM (16-aligned)
 *                  padding to 16
 *                  auxv pairs ... AT_RANDOM, AT_EXECFN, AT_NULL
 *                  NULL, envp[envc-1] ... envp[0]
 *                  NULL, argv[argc-1] ... argv[0]
 *     user_sp  ->  argc                       (16-aligned)
 *
 * Sizes are measured first, with every list and string bounded
 * (USTACK_MAX_*), so the sums cannot overflow; only when all of it fits
 * is anything written.  Everything from user_sp to user_top is written,
 * padding included, so no stale kernel bytes reach the program.  Words
 * are stored with memcpy: buf need not be aligned.
 */
#include "ustack.h"
#include "lib.h"
#include <mica/errors.h>

#define WORD 8u

struct layout {
    size_t argc, envc, nauxv;   /* nauxv: the caller's pairs */
    uint64_t strbytes;          /* argv and envp strings with NULs */
    const char *execfn;
    uint64_t execfn_len;        /* with its NUL */
    uint64_t str_off, rand_off, sp_off; /* offsets below user_top */
};

/* strlen + 1, or ERR_OUT_OF_RANGE past USTACK_MAX_STRLEN bytes. */
static int str_size(const char *s, uint64_t *size)
{
    for (uint64_t n = 0; n < USTACK_MAX_STRLEN; n++) {
        if (s[n] == '\0') {
            *size = n + 1;
            return 0;
        }
    }
    return ERR_OUT_OF_RANGE;
}

static int measure_list(const char *const list[], size_t *count,
                        uint64_t *bytes)
{
    size_t n;
    uint64_t size;
    int err;

    for (n = 0; list[n]; n++) {
        if (n == USTACK_MAX_ARGS)
            return ERR_OUT_OF_RANGE;
        if ((err = str_size(list[n], &size)))
            return err;
        *bytes += size;
    }
    *count = n;
    return 0;
}

static int measure_auxv(const uint64_t *auxv, size_t *count)
{
    for (size_t n = 0; n <= USTACK_MAX_AUXV; n++) {
        uint64_t type = auxv[2 * n];

        if (type == AT_NULL) {
            *count = n;
            return 0;
        }
        if (type == AT_RANDOM || type == AT_EXECFN)
            return ERR_INVALID_ARGS;
        for (size_t i = 0; i < n; i++)
            if (auxv[2 * i] == type)
                return ERR_INVALID_ARGS;
    }
    return ERR_INVALID_ARGS;
}

static int measure(struct layout *l, const char *const argv[],
                   const char *const envp[], const uint64_t *auxv)
{
    uint64_t words;
    int err;

    l->strbytes = 0;
    if ((err = measure_list(argv, &l->argc, &l->strbytes)) ||
        (err = measure_list(envp, &l->envc, &l->strbytes)) ||
        (err = measure_auxv(auxv, &l->nauxv)))
        return err;
    l->execfn = l->argc ? argv[0] : "";
    if ((err = str_size(l->execfn, &l->execfn_len)))
        return err;
    /* argc, argv + NULL, envp + NULL, caller's pairs + 3 of ours */
    words = 1 + (l->argc + 1) + (l->envc + 1) + 2 * (l->nauxv + 3);
    l->str_off = WORD + l->execfn_len + l->strbytes;
    l->rand_off = ALIGN_UP(l->str_off + 16, 16);
    l->sp_off = ALIGN_UP(l->rand_off + words * WORD, 16);
    return 0;
}

static void put_word(uint8_t *table, size_t index, uint64_t value)
{
    memcpy(table + index * WORD, &value, WORD);
}

/* Copy a list's strings upward from *off (an offset below the top),
 * storing their user addresses in the table from word `index` on. */
static void copy_list(uint8_t *top, uint64_t user_top, uint64_t *off,
                      const char *const list[], uint8_t *table, size_t index)
{
    for (size_t i = 0; list[i]; i++) {
        size_t n = strlen(list[i]) + 1;

        memcpy(top - *off, list[i], n);
        put_word(table, index + i, user_top - *off);
        *off -= n;
    }
}

static void write_stack(const struct layout *l, uint8_t *top,
                        uint64_t user_top, const char *const argv[],
                        const char *const envp[], const uint64_t *auxv,
                        const uint8_t random16[16])
{
    uint8_t *table = top - l->sp_off;
    uint64_t off = l->str_off, execfn_off = WORD + l->execfn_len;
    size_t i = 0;

    memset(table, 0, l->sp_off);
    memcpy(top - execfn_off, l->execfn, l->execfn_len);
    memcpy(top - l->rand_off, random16, 16);

    put_word(table, i++, l->argc);
    copy_list(top, user_top, &off, argv, table, i);
    i += l->argc + 1;                   /* the NULL is already zero */
    copy_list(top, user_top, &off, envp, table, i);
    i += l->envc + 1;
    memcpy(table + i * WORD, auxv, l->nauxv * 2 * WORD);
    i += l->nauxv * 2;
    put_word(table, i++, AT_RANDOM);
    put_word(table, i++, user_top - l->rand_off);
    put_word(table, i++, AT_EXECFN);
    put_word(table, i++, user_top - execfn_off);
    /* AT_NULL, 0: already zero */
}

int ustack_build(void *buf, size_t size, uint64_t user_top,
                 const char *const argv[], const char *const envp[],
                 const uint64_t *auxv, const uint8_t random16[16],
                 uint64_t *user_sp)
{
    struct layout l;
    int err;

    if (!buf || !argv || !envp || !auxv || !random16 || !user_sp ||
        (user_top & 15) || size > user_top)
        return ERR_INVALID_ARGS;
    if ((err = measure(&l, argv, envp, auxv)))
        return err;
    if (l.sp_off > size)
        return ERR_NO_MEMORY;
    write_stack(&l, (uint8_t *)buf + size, user_top, argv, envp, auxv,
                random16);
    *user_sp = user_top - l.sp_off;
    return 0;
}
