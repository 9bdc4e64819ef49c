/*
 * mica/rights.h - what a handle allows.
 *
 * Every handle carries a set of rights; a system call names the rights it
 * needs and fails with ERR_ACCESS_DENIED when the handle lacks one.
 * handle_duplicate and handle_replace may only keep or drop rights, never
 * add them.
 */
#ifndef MICA_ABI_RIGHTS_H
#define MICA_ABI_RIGHTS_H

#include <stdint.h>

typedef uint32_t mica_rights_t;

#define RIGHT_READ       (1u << 0)   /* read state or data */
#define RIGHT_WRITE      (1u << 1)   /* change state or data */
#define RIGHT_EXECUTE    (1u << 2)   /* map executable */
#define RIGHT_MAP        (1u << 3)   /* map into an address space */
#define RIGHT_DUPLICATE  (1u << 4)   /* handle_duplicate */
#define RIGHT_TRANSFER   (1u << 5)   /* send through a channel */
#define RIGHT_WAIT       (1u << 6)   /* wait on signals */
#define RIGHT_SIGNAL     (1u << 7)   /* raise user signals */
#define RIGHT_MANAGE     (1u << 8)   /* create threads, kill, change policy */

#define RIGHTS_BASIC     (RIGHT_DUPLICATE | RIGHT_TRANSFER | RIGHT_WAIT)
#define RIGHTS_IO        (RIGHT_READ | RIGHT_WRITE)
#define RIGHTS_ALL       0x1FFu

/* Passed as the rights argument of handle_duplicate/replace: keep them. */
#define RIGHT_SAME_RIGHTS 0x80000000u

#endif
