/*
 * host_support.h - helpers shared by the host unit tests.
 *
 * Include after the cmocka headers.  fake_phys_init makes `bytes` of
 * host memory play physical memory starting at physical address 0
 * (phys_to_virt works on it), aligned to 4 MiB like real buddy blocks.
 */
#ifndef MICA_HOST_SUPPORT_H
#define MICA_HOST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

void *fake_phys_init(size_t bytes);
void fake_phys_free(void *mem);

#endif
