/*
 * ustack.h - the initial user stack of a new program (System V x86_64).
 *
 * ustack_build() lays out argc, argv, envp and the auxiliary vector the
 * way Linux does, so musl's unmodified crt1.o and __libc_start_main start
 * the program.  See core/ustack.c for the layout.
 */
#ifndef MICA_USTACK_H
#define MICA_USTACK_H

#include "types.h"
#include <mica/auxv.h>

/* Auxiliary vector types (the Linux values). */
#define AT_NULL          0
#define AT_IGNORE        1
#define AT_PHDR          3      /* address of the program headers */
#define AT_PHENT         4      /* size of one program header */
#define AT_PHNUM         5      /* number of program headers */
#define AT_PAGESZ        6
#define AT_BASE          7      /* interpreter base; 0 for static files */
#define AT_FLAGS         8
#define AT_ENTRY         9      /* the program's entry point */
#define AT_UID           11
#define AT_EUID          12
#define AT_GID           13
#define AT_EGID          14
#define AT_PLATFORM      15
#define AT_HWCAP         16
#define AT_CLKTCK        17
#define AT_SECURE        23
#define AT_RANDOM        25     /* added by ustack_build */
#define AT_HWCAP2        26
#define AT_EXECFN        31     /* added by ustack_build */
#define AT_SYSINFO_EHDR  33     /* no vDSO: never provided */
#define AT_MINSIGSTKSZ   51

#define USTACK_MAX_ARGS   4096          /* entries of argv, and of envp */
#define USTACK_MAX_STRLEN (128 * 1024)  /* bytes of one string with its NUL */
#define USTACK_MAX_AUXV   32            /* caller's pairs before AT_NULL */

/*
 * Build the initial stack in buf, the kernel's view of the top `size`
 * bytes of a user stack that ends (exclusive) at user address user_top:
 * byte buf[i] is at user address user_top - size + i.
 *
 * argv and envp are NULL-terminated lists; auxv is (type, value) pairs
 * ending with an AT_NULL pair.  The builder itself adds AT_RANDOM (the
 * 16 bytes random16, copied onto the stack) and AT_EXECFN (a copy of
 * argv[0], or "" when argv is empty), so auxv must not contain either.
 * On success *user_sp is the 16-byte-aligned stack pointer (argc there)
 * to start the program with; the bytes of buf below it are untouched,
 * those from it to the end are all written.
 *
 * Returns 0; ERR_INVALID_ARGS for a NULL argument, user_top not 16-byte
 * aligned or below size, an auxv without AT_NULL within USTACK_MAX_AUXV
 * pairs, with AT_RANDOM or AT_EXECFN, or with a type given twice;
 * ERR_OUT_OF_RANGE when argv or envp has more than USTACK_MAX_ARGS
 * entries or a string longer than USTACK_MAX_STRLEN; ERR_NO_MEMORY when
 * it all does not fit in size bytes.
 */
int ustack_build(void *buf, size_t size, uint64_t user_top,
                 const char *const argv[], const char *const envp[],
                 const uint64_t *auxv, const uint8_t random16[16],
                 uint64_t *user_sp);

#endif
