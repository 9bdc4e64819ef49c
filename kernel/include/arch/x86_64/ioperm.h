/*
 * ioperm.h - I/O port permissions inside the x86_64 code (ioperm.c).
 */
#ifndef MICA_ARCH_X86_64_IOPERM_H
#define MICA_ARCH_X86_64_IOPERM_H

#include "arch/x86_64/gdt.h"

struct process;

/* On a switch to a thread of `next` (NULL: a kernel thread). */
void io_switch(struct arch_cpu *ac, const struct process *next);

/* A #GP in p's thread: true if this CPU held an older copy of p's
 * bitmap, now reloaded (retry the instruction). */
bool io_refresh(const struct process *p);

#endif
