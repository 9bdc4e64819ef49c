/*
 * multiboot.h - reading the Multiboot 1 loader's information.
 */
#ifndef MICA_X86_64_MULTIBOOT_H
#define MICA_X86_64_MULTIBOOT_H

#include "types.h"

/* Fill bootinfo and kernel_cmdline from the loader's information at
 * `info_phys`; reserve the kernel image, modules and the first MiB.
 * Panics when the kernel was not started by a Multiboot loader. */
void multiboot_parse(uint32_t magic, uint32_t info_phys);

#endif
