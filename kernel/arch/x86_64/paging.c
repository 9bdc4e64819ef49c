/*
 * paging.c - building and extending the kernel's page tables.
 *
 * The boot tables (boot.S) map 1 GiB at KERNEL_VMA with 2 MiB pages and
 * no protections.  paging_init replaces them: 2 MiB pages for the direct
 * map, 4 KiB pages for the image so text is read-only and everything else
 * is not executable.  Every upper-half PML4 slot the kernel will ever use
 * (direct map, MMIO, image) is filled here, so address spaces made later
 * can share the kernel half by copying those slots once.
 *
 * Before the page allocator exists, table pages come from the boot
 * memory map; afterwards from pmm.  kpt_lock serializes edits.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/pagetable.h"
#include "arch/x86_64/paging.h"
#include "lib.h"
#include "log.h"
#include "panic.h"
#include "physmem.h"
#include "pmm.h"
#include "spinlock.h"

#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)

paddr_t kernel_root;
uint64_t pte_nx;
uintptr_t phys_map_offset = KERNEL_VMA;

extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[];
extern char _data_start[], _image_end[];

static spinlock_t kpt_lock = SPINLOCK_INIT;
static vaddr_t mmio_next = MMIO_BASE;

paddr_t kimage_to_phys(const void *p)
{
    return (paddr_t)((uintptr_t)p - KERNEL_VMA);
}

static paddr_t boot_alloc(void *ctx)
{
    paddr_t p = memmap_alloc(ctx, PAGE_SIZE, SZ_1G);
    if (p)
        memset(phys_to_virt(p), 0, PAGE_SIZE);
    return p;
}

static paddr_t pmm_table_alloc(void *ctx)
{
    (void)ctx;
    paddr_t p = pmm_alloc(0);
    if (p)
        memset(phys_to_virt(p), 0, PAGE_SIZE);
    return p;
}

static void map_or_die(vaddr_t va, paddr_t pa, uint64_t flags, unsigned size,
                       struct memmap *boot)
{
    int err = pt_map(kernel_root, va, pa, flags, size, boot_alloc, boot);
    if (err)
        panic("paging: cannot map %#lx -> %#lx (error %d)", va, pa, err);
}

static void map_direct(const struct memmap *ram, struct memmap *boot)
{
    for (unsigned i = 0; i < ram->n; i++) {
        paddr_t s = ALIGN_DOWN(ram->r[i].start, SZ_2M);
        paddr_t e = ALIGN_UP(ram->r[i].end, SZ_2M);
        for (paddr_t p = s; p < e; p += SZ_2M) {
            paddr_t old;
            if (pt_lookup(kernel_root, DIRECT_MAP_BASE + p, &old, NULL))
                continue;           /* two ranges share a 2 MiB page */
            map_or_die(DIRECT_MAP_BASE + p, p, PTE_W | PTE_G | pte_nx,
                       PT_SIZE_2M, boot);
        }
    }
}

static void map_image(struct memmap *boot)
{
    for (uintptr_t va = (uintptr_t)_text_start; va < (uintptr_t)_image_end;
         va += PAGE_SIZE) {
        uint64_t flags = PTE_G;
        if (va >= (uintptr_t)_data_start)
            flags |= PTE_W | pte_nx;
        else if (va >= (uintptr_t)_rodata_start)
            flags |= pte_nx;
        map_or_die(va, kimage_to_phys((void *)va), flags, PT_SIZE_4K, boot);
    }
}

/* Fill the PML4 slots of every kernel region so they never change. */
static void reserve_slots(struct memmap *boot)
{
    pte_t *pml4 = phys_to_virt(kernel_root);
    vaddr_t slots[] = { MMIO_BASE, KERNEL_VMA };
    for (unsigned i = 0; i < ARRAY_SIZE(slots); i++) {
        pte_t *e = &pml4[(slots[i] >> 39) & 511];
        if (!(*e & PTE_P))
            *e = boot_alloc(boot) | PTE_P | PTE_W;
    }
}

void paging_init(const struct memmap *ram, struct memmap *boot)
{
    uint32_t r[4];
    cpuid(0x80000001, 0, r);
    if (r[3] & (1u << 20)) {
        pte_nx = PTE_NX;
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    }
    kernel_root = boot_alloc(boot);
    if (!kernel_root)
        panic("paging: no memory for the kernel page tables");
    map_direct(ram, boot);
    map_image(boot);
    reserve_slots(boot);
    write_cr4(read_cr4() | CR4_PGE);
    write_cr0(read_cr0() | CR0_WP);
    write_cr3(kernel_root);
    phys_map_offset = DIRECT_MAP_BASE;
}

void *mmio_map(paddr_t pa, size_t len)
{
    paddr_t base = ALIGN_DOWN(pa, PAGE_SIZE);
    size_t size = ALIGN_UP(pa + len, PAGE_SIZE) - base;
    irqflags_t f = spin_lock_irqsave(&kpt_lock);
    if (mmio_next + size > MMIO_BASE + MMIO_SIZE) {
        spin_unlock_irqrestore(&kpt_lock, f);
        return NULL;
    }
    vaddr_t va = mmio_next;
    mmio_next += size + PAGE_SIZE;      /* a guard page between mappings */
    for (size_t off = 0; off < size; off += PAGE_SIZE) {
        if (pt_map(kernel_root, va + off, base + off,
                   PTE_W | PTE_PCD | PTE_PWT | PTE_G | pte_nx, PT_SIZE_4K,
                   pmm_table_alloc, NULL)) {
            spin_unlock_irqrestore(&kpt_lock, f);
            return NULL;        /* the range stays reserved, unused */
        }
    }
    spin_unlock_irqrestore(&kpt_lock, f);
    return (void *)(va + (pa - base));
}

int paging_identity_low(void)
{
    irqflags_t f = spin_lock_irqsave(&kpt_lock);
    int err = pt_map(kernel_root, 0, 0, PTE_W, PT_SIZE_2M, pmm_table_alloc,
                     NULL);
    spin_unlock_irqrestore(&kpt_lock, f);
    return err;
}

/* Tear down PML4 slot 0 (only the identity map lives there in the
 * kernel's own tables) and free its tables.  Other CPUs may still cache
 * the (non-global) identity entries; their next CR3 load drops them, and
 * nothing runs in the lower half before that. */
void paging_drop_identity_low(void)
{
    irqflags_t f = spin_lock_irqsave(&kpt_lock);
    pte_t *pml4 = phys_to_virt(kernel_root);
    pte_t pdpt_e = pml4[0];
    pml4[0] = 0;
    write_cr3(kernel_root);
    spin_unlock_irqrestore(&kpt_lock, f);
    if (!(pdpt_e & PTE_P))
        return;
    pte_t *pdpt = phys_to_virt(pdpt_e & PTE_ADDR);
    if (pdpt[0] & PTE_P)
        pmm_free(pdpt[0] & PTE_ADDR, 0);
    pmm_free(pdpt_e & PTE_ADDR, 0);
}

/* PAT memory types: 6 WB, 1 WC, 7 UC-, 0 UC.  The power-on value has WT
 * in entry 1, which the kernel never uses; nothing is mapped WC before
 * this runs on every CPU. */
#define PAT_VALUE 0x0007010600070106ull

void paging_pat_init_cpu(void)
{
    wrmsr(MSR_PAT, PAT_VALUE);
}
