/*
 * layout.h - the x86_64 kernel's virtual memory layout and fixed numbers.
 *
 * Included from assembly too, so only preprocessor definitions here.
 *
 *   0x0000000000000000 - 0x00007fffffffffff   user space (later)
 *   0xffff800000000000 - 0xffffbfffffffffff   direct map of physical memory
 *   0xffffc00000000000 - 0xffffc07fffffffff   MMIO mappings (uncached)
 *   0xffffffff80000000 - ...                  kernel image (-2 GiB)
 */
#ifndef MICA_X86_64_LAYOUT_H
#define MICA_X86_64_LAYOUT_H

#define KERNEL_VMA          0xFFFFFFFF80000000
#define KERNEL_PHYS         0x100000
#define DIRECT_MAP_BASE     0xFFFF800000000000
#define DIRECT_MAP_SIZE     0x0000400000000000      /* 64 TiB */
#define MMIO_BASE           0xFFFFC00000000000
#define MMIO_SIZE           0x0000008000000000      /* 512 GiB: one PML4 slot */

#define BOOT_STACK_SIZE     16384
#define KSTACK_SIZE         16384
#define IST_STACK_SIZE      8192

#define TRAMPOLINE_PHYS     0x8000

/* QEMU isa-debug-exit (iobase 0xf4): the process exit status is
 * (value << 1) | 1, so success is 33 and failure 35. */
#define DEBUG_EXIT_PORT     0xF4
#define MICA_EXIT_SUCCESS   0x10
#define MICA_EXIT_FAILURE   0x11

#endif
