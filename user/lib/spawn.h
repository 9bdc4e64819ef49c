/*
 * spawn.h - starting a program from an ELF image in memory.
 *
 * The user-space program loader: it validates the image with the same
 * parser the kernel uses for init (elf.c), creates a process, copies each
 * segment into a vmo mapped with the segment's rights, builds the System V
 * initial stack (ustack.c) and starts the first thread.  The child gets
 * a handle to itself (AT_MICA_PROCESS) and, when given, one startup
 * handle (AT_MICA_STARTUP) and one resource (AT_MICA_RESOURCE), both
 * moved from the caller; with none given, the child's entry is 0, so a
 * program holds a resource only if its creator meant it to.  A console
 * channel, when given, carries the child's fds 0-2 (process_set_stdio).
 */
#ifndef MICA_USER_SPAWN_H
#define MICA_USER_SPAWN_H

#include <stddef.h>

#include "mica.h"

/* mica_spawn flags */
#define MICA_SPAWN_LOG (1u << 0)    /* the child may write the kernel log */

/* 0 and *proc (basic, read, write, manage) or a Mica status; *why gets a
 * reason when the image is refused.  `startup` and `resource` are
 * consumed whatever the outcome.  MICA_SPAWN_LOG passes on the log
 * capability, which the caller must hold (else ERR_ACCESS_DENIED). */
int mica_spawn(const void *image, size_t len, const char *name,
               const char *const argv[], mica_handle_t startup,
               mica_handle_t resource, uint32_t flags, mica_handle_t *proc,
               const char **why);

/* What else a child may be given; every handle is consumed. */
struct mica_spawn_args {
    mica_handle_t startup;      /* AT_MICA_STARTUP, or 0 */
    mica_handle_t resource;     /* AT_MICA_RESOURCE, or 0 */
    mica_handle_t stdio;        /* a console channel for fds 0-2
                                   (process_set_stdio), or 0 */
    uint32_t flags;             /* MICA_SPAWN_* */
};

/* mica_spawn with all of a's; the console is set before the child's
 * first instruction. */
int mica_spawn_with(const void *image, size_t len, const char *name,
                    const char *const argv[], const struct mica_spawn_args *a,
                    mica_handle_t *proc, const char **why);

#endif
