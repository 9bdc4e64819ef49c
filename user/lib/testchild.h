/*
 * testchild.h - tiny child processes for in-system tests.
 *
 * A child runs a few bytes of machine code copied to CHILD_CODE
 * (read+execute) with a 1 MiB stack below CHILD_STACK + CHILD_STACK_SIZE:
 * enough to exit with a code, fault, spin until killed, or make one
 * system call, without an ELF file.
 */
#ifndef MICA_USER_TESTCHILD_H
#define MICA_USER_TESTCHILD_H

#include <stddef.h>
#include <stdint.h>

#include "mica.h"

#define CHILD_CODE       0x400000ull
#define CHILD_DATA_PAGE  0x500000ull    /* with CHILD_WITH_DATA: read-only */
#define CHILD_STACK      0x7000000000ull
#define CHILD_STACK_SIZE (1u << 20)

#define CHILD_WITH_DATA  (1u << 0)      /* map a zero page at CHILD_DATA_PAGE */

/* Start a child running `code` (at most a page); *proc gets its process
 * handle, and *thread (when not NULL) its main thread's. */
int child_spawn(const uint8_t *code, size_t len, unsigned flags,
                mica_handle_t *proc, mica_handle_t *thread);

#endif
