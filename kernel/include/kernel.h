/*
 * kernel.h - the portable kernel's entry, called by the arch boot code
 * once memory, interrupts and every CPU are up.
 */
#ifndef MICA_KERNEL_H
#define MICA_KERNEL_H

#include "types.h"

noreturn void kernel_main(void);

#endif
