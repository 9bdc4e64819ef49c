/*
 * mmu.c - page tables of user address spaces, and TLB shootdown.
 *
 * Each address space has its own PML4 whose upper half copies the kernel's
 * (those slots never change after boot, see paging.c), and whose lower
 * half holds the user mappings.  Ranges are walked table by table, so
 * clearing all of user space costs the tables that exist, not 2^35 pages.
 *
 * Shootdown: a CPU marks itself in `active_cpus` before loading an address
 * space's CR3 and clears its bit when it loads another; after changing
 * entries, the changer flushes locally and sends an IPI to every other CPU
 * whose bit is set, waiting for all of them (interrupts enabled).
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pagetable.h"
#include "arch/x86_64/paging.h"
#include "lib.h"
#include "mica/errors.h"
#include "percpu.h"
#include "physmem.h"
#include "pmm.h"
#include "smp.h"
#include "vm.h"

static paddr_t table_alloc(void *ctx)
{
    struct aspace *as = ctx;
    if (kmem_charge(as->acct, PAGE_SIZE))
        return 0;
    paddr_t p = kmem_should_fail() ? 0 : pmm_alloc(0);
    if (!p) {
        kmem_uncharge(as->acct, PAGE_SIZE);
        return 0;
    }
    memset(phys_to_virt(p), 0, PAGE_SIZE);
    return p;
}

int arch_aspace_init(struct aspace *as)
{
    paddr_t root = table_alloc(as);
    if (!root)
        return ERR_NO_MEMORY;
    pte_t *k = phys_to_virt(kernel_root), *u = phys_to_virt(root);
    memcpy(&u[256], &k[256], 256 * sizeof(pte_t));
    as->root = root;
    return 0;
}

/* Free the tables below `t` at `level` (3 = PML4: lower half only). */
static void free_tables(struct aspace *as, paddr_t t, int level)
{
    pte_t *e = phys_to_virt(t);
    unsigned n = level == 3 ? 256 : 512;
    for (unsigned i = 0; level > 0 && i < n; i++)
        if ((e[i] & PTE_P) && !(e[i] & PTE_PS))
            free_tables(as, e[i] & PTE_ADDR, level - 1);
    pmm_free(t, 0);
    kmem_uncharge(as->acct, PAGE_SIZE);
}

void arch_aspace_destroy(struct aspace *as)
{
    free_tables(as, as->root, 3);
}

static uint64_t pte_flags(uint32_t prot, uint32_t cache)
{
    uint64_t f = PTE_U;
    if (prot & VM_WRITE)
        f |= PTE_W;
    if (!(prot & VM_EXEC))
        f |= pte_nx;
    if (cache == VMO_CACHE_UC)
        f |= PTE_PCD | PTE_PWT;
    else if (cache == VMO_CACHE_WC)
        f |= PTE_PWT;           /* PAT entry 1 is WC (paging_pat_init_cpu) */
    return f;
}

int arch_map_page(struct aspace *as, vaddr_t va, paddr_t pa, uint32_t prot,
                  uint32_t cache)
{
    return pt_map(as->root, va, pa, pte_flags(prot, cache), PT_SIZE_4K,
                  table_alloc, as);
}

/* Apply fn to every present leaf in [s, e) below table t at `level`. */
static void walk_range(paddr_t t, int level, vaddr_t base, vaddr_t s,
                       vaddr_t e, void (*fn)(pte_t *, void *), void *ctx)
{
    pte_t *tab = phys_to_virt(t);
    uint64_t span = PAGE_SIZE << (9 * level);
    if (e <= s)
        return;
    unsigned first = s > base ? (unsigned)((s - base) / span) : 0;
    uint64_t last = (e - 1 - base) / span;      /* only the entries in range */
    for (unsigned i = first; i <= last && i < 512; i++) {
        vaddr_t lo = base + i * span;
        if (!(tab[i] & PTE_P))
            continue;
        if (level == 0)
            fn(&tab[i], ctx);
        else if (!(tab[i] & PTE_PS))
            walk_range(tab[i] & PTE_ADDR, level - 1, lo, s, e, fn, ctx);
    }
}

static void clear_pte(pte_t *p, void *ctx)
{
    (void)ctx;
    *p = 0;
}

static void protect_pte(pte_t *p, void *ctx)
{
    uint64_t f = *(uint64_t *)ctx;
    *p = (*p & PTE_ADDR) | f | PTE_P | (*p & (PTE_PCD | PTE_PWT));
}

void arch_unmap_range(struct aspace *as, vaddr_t start, vaddr_t end)
{
    walk_range(as->root, 3, 0, start, MIN(end, USER_TOP), clear_pte, NULL);
}

void arch_protect_range(struct aspace *as, vaddr_t start, vaddr_t end,
                        uint32_t prot)
{
    uint64_t f = pte_flags(prot, VMO_CACHE_WB);
    walk_range(as->root, 3, 0, start, MIN(end, USER_TOP), protect_pte, &f);
}

bool arch_lookup(struct aspace *as, vaddr_t va, paddr_t *pa, uint32_t *prot)
{
    uint64_t f;
    if (!pt_lookup(as->root, va, pa, &f))
        return false;
    if (prot)
        *prot = VM_READ | ((f & PTE_W) ? VM_WRITE : 0) |
                ((f & PTE_NX) ? 0 : VM_EXEC);
    return true;
}

struct flush_req {
    paddr_t root;
    vaddr_t start, end;
};

static void flush_local(const struct flush_req *r)
{
    if ((read_cr3() & PTE_ADDR) != r->root)
        return;
    if (r->end - r->start > 32 * PAGE_SIZE) {
        write_cr3(read_cr3());
        return;
    }
    for (vaddr_t va = r->start; va < r->end; va += PAGE_SIZE)
        invlpg(va);
}

static void flush_ipi(void *arg)
{
    flush_local(arg);
}

void arch_tlb_shootdown(struct aspace *as, vaddr_t start, vaddr_t end)
{
    struct flush_req r = { as->root, start, end };
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    flush_local(&r);
    uint64_t others = __atomic_load_n(&as->active_cpus, __ATOMIC_ACQUIRE) &
                      ~(1ull << this_cpu()->id);
    if (others)
        smp_call_mask(others, flush_ipi, &r);
}

/* Load `as` (NULL: the kernel's own tables) on this CPU.  Kernel threads
 * run on the kernel's tables, so an address space is loaded only where
 * one of its threads runs and can be torn down without any IPI once its
 * threads are gone. */
void aspace_activate(struct aspace *as)
{
    struct percpu *c = this_cpu();
    struct aspace *prev = c->aspace;
    if (prev == as)
        return;
    if (as)
        __atomic_or_fetch(&as->active_cpus, 1ull << c->id, __ATOMIC_SEQ_CST);
    write_cr3(as ? as->root : kernel_root);
    if (prev)
        __atomic_and_fetch(&prev->active_cpus, ~(1ull << c->id),
                           __ATOMIC_RELEASE);
    c->aspace = as;
}
