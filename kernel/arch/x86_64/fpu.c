/*
 * fpu.c - x87/SSE/AVX state for user threads.
 *
 * CR4.OSFXSR and OSXMMEXCPT enable SSE for user code.  With XSAVE,
 * CR4.OSXSAVE is set and XCR0 enables every state component the CPU
 * reports among x87, SSE, AVX and AVX-512; the area size then comes from
 * CPUID leaf 0xD for exactly those components.  Areas are allocated with
 * kmalloc (64-byte aligned for the sizes used: the slab caches align
 * objects of 64 bytes and more to 64).
 */
#include "arch/x86_64/cpu.h"
#include "fpu.h"
#include "lib.h"
#include "panic.h"
#include "slab.h"

#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_OSXSAVE    (1ul << 18)
#define XCR0_WANTED    0xE7ull          /* x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM */

static bool use_xsave;
static uint64_t xcr0;
static size_t area_size = 512;
static uint8_t initial[4096] __aligned(64);

static void xsetbv(uint32_t reg, uint64_t v)
{
    __asm__ volatile("xsetbv" : : "c"(reg), "a"((uint32_t)v),
                     "d"((uint32_t)(v >> 32)));
}

void fpu_init_cpu(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    write_cr0((read_cr0() & ~(1ul << 2)) | (1ul << 1));   /* EM off, MP on */
    if (r[2] & (1u << 26)) {
        write_cr4(read_cr4() | CR4_OSXSAVE);
        cpuid(0xD, 0, r);
        xcr0 = (((uint64_t)r[3] << 32) | r[0]) & XCR0_WANTED;
        xsetbv(0, xcr0);
        cpuid(0xD, 0, r);
        if (r[1] <= sizeof(initial)) {
            use_xsave = true;
            area_size = r[1];
        }
    }
    __asm__ volatile("fninit");
    if (!initial[24]) {                     /* boot CPU: capture once */
        uint32_t mxcsr = 0x1f80;
        __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
        fpu_save(initial);
    }
}

size_t fpu_area_size(void)
{
    return area_size;
}

bool fpu_uses_xsave(void)
{
    return use_xsave;
}

void *fpu_area_alloc(void)
{
    size_t sz = area_size <= 512 ? 512 : (area_size <= 1024 ? 1024 :
                (area_size <= 2048 ? 2048 : 4096));
    void *a = kmalloc(sz);
    if (a)
        memcpy(a, initial, area_size);
    KASSERT(((uintptr_t)a & 63) == 0);
    return a;
}

void fpu_area_free(void *area)
{
    kfree(area);
}

void fpu_save(void *area)
{
    if (use_xsave)
        __asm__ volatile("xsave64 (%0)" : : "r"(area), "a"((uint32_t)xcr0),
                         "d"((uint32_t)(xcr0 >> 32)) : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void fpu_restore(const void *area)
{
    if (use_xsave)
        __asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"((uint32_t)xcr0),
                         "d"((uint32_t)(xcr0 >> 32)) : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}
