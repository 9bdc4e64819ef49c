/*
 * cam.c - configuration mechanism #1 (cam.h).
 *
 * An access writes the function's address and the register's dword to
 * 0xCF8, then reads or writes 0xCFC plus the byte offset, with the
 * access's width.  The two steps are not atomic: the pci server is the
 * only process holding these ports and has one thread, so nothing comes
 * between them.  It reaches the first 256 bytes of each function
 * (PCI Express's extended configuration space needs ECAM: ecam.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "cam.h"

#define CAM_ADDR 0xcf8
#define CAM_DATA 0xcfc

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static uint32_t cam_select(struct pci_addr a, unsigned off)
{
    uint32_t addr = 0x80000000u | (uint32_t)a.bus << 16 |
                    (uint32_t)(a.dev & 31) << 11 | (uint32_t)(a.fn & 7) << 8 |
                    (off & 0xfc);
    outl(CAM_ADDR, addr);
    return CAM_DATA + (off & 3);
}

static uint32_t cam_read(void *ctx, struct pci_addr a, unsigned off,
                         unsigned width)
{
    (void)ctx;
    uint16_t port = (uint16_t)cam_select(a, off);
    uint32_t v;
    if (width == 1) {
        uint8_t b;
        __asm__ volatile("inb %1, %0" : "=a"(b) : "Nd"(port));
        v = b;
    } else if (width == 2) {
        uint16_t w;
        __asm__ volatile("inw %1, %0" : "=a"(w) : "Nd"(port));
        v = w;
    } else {
        __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    }
    return v;
}

static void cam_write(void *ctx, struct pci_addr a, unsigned off,
                      unsigned width, uint32_t v)
{
    (void)ctx;
    uint16_t port = (uint16_t)cam_select(a, off);
    if (width == 1)
        __asm__ volatile("outb %0, %1" : : "a"((uint8_t)v), "Nd"(port));
    else if (width == 2)
        __asm__ volatile("outw %0, %1" : : "a"((uint16_t)v), "Nd"(port));
    else
        outl(port, v);
}

const struct pci_config pci_cam = { cam_read, cam_write, NULL, 256 };
