/*
 * fpu.h - saving user threads' x87/SSE/AVX state.
 *
 * The kernel itself never touches these registers (it is built with
 * -mgeneral-regs-only), so a thread's state only needs saving when the
 * CPU switches to another user thread.  XSAVE is used when the CPU has
 * it (all components the CPU supports, up to AVX-512), FXSAVE otherwise.
 */
#ifndef MICA_FPU_H
#define MICA_FPU_H

#include "types.h"

/* Enable SSE (and XSAVE when present) on this CPU. */
void fpu_init_cpu(void);

/* Bytes and alignment (64) of a save area. */
size_t fpu_area_size(void);

/* A fresh area with the power-up state (FCW 0x37f, MXCSR 0x1f80), or NULL. */
void *fpu_area_alloc(void);
void fpu_area_free(void *area);

void fpu_save(void *area);
void fpu_restore(const void *area);

bool fpu_uses_xsave(void);

#endif
