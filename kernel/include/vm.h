/*
 * vm.h - memory objects (vmos) and address spaces.
 *
 * A vmo is a kernel object holding pages: anonymous (demand-zero, pages
 * allocated on first touch), physical (a fixed range, for MMIO) or
 * contiguous (for DMA).  An address space maps ranges of vmos with
 * rights; the kernel owns every page table, and page faults resolve
 * through the mappings.
 *
 * Copy-on-write: a clone shares its parent's pages, each counted in its
 * struct page; both sides lose write access to shared pages, and the
 * first write to a page whose count is above one copies it.  Cloning a
 * whole address space clones every vmo it maps (fork).
 *
 * Locking: an address space's lock, then a vmo's (obj.lock), then the
 * page allocator's.  TLB shootdowns happen after the address space lock
 * is dropped, before any page is freed.
 */
#ifndef MICA_VM_H
#define MICA_VM_H

#include "kmem.h"
#include "object.h"
#include "types.h"

#define USER_BASE   0x10000ull              /* nothing below 64 KiB */
#define USER_TOP    0x00007FFFFFFFF000ull   /* end of user space */

#define VM_READ     (1u << 0)
#define VM_WRITE    (1u << 1)
#define VM_EXEC     (1u << 2)
#define VM_FIXED    (1u << 8)   /* map exactly at the hint */
#define VM_MAX_RWX  (1u << 9)   /* vm_protect may later allow anything */
#define VM_REPLACE  (1u << 10)  /* with VM_FIXED: replace what is there */

enum vmo_kind { VMO_ANON, VMO_PHYS, VMO_CONTIG };

struct vm_mapping;

struct vmo {
    struct object obj;
    enum vmo_kind kind;
    uint64_t size;              /* bytes, whole pages */
    uint64_t npages;
    paddr_t *pages;             /* anon: 0 = not yet touched */
    paddr_t phys;               /* phys/contig: base address */
    uint32_t cache;             /* phys: VMO_CACHE_* */
    uint32_t order;             /* contig: the block is 2^order pages */
    bool no_clone;              /* a kernel page (critical.c): process_clone
                                   leaves its mappings out */
    struct vm_mapping *maps;    /* every mapping of this vmo */
    struct kmem_account *acct;  /* charged for pages and the array */
};

#define VMO_CACHE_WB 0
#define VMO_CACHE_UC 1
#define VMO_CACHE_WC 2

struct vm_mapping {
    struct aspace *as;
    vaddr_t start, end;
    struct vmo *vmo;            /* holds a reference */
    uint64_t offset;            /* of `start` in the vmo */
    uint32_t prot;
    uint32_t max_prot;          /* what the vmo handle allowed at map time */
    struct vm_mapping *next;    /* in the address space, by address */
    struct vm_mapping *vnext;   /* in the vmo */
};

struct aspace {
    paddr_t root;               /* top-level page table */
    spinlock_t lock;
    struct vm_mapping *maps;
    uint64_t active_cpus;       /* CPUs that may cache its translations */
    struct kmem_account *acct;
    uint32_t refs;
};

/* vmos */
int vmo_create(uint64_t size, struct kmem_account *acct, struct vmo **out);
/* Physical memory [base, base + size) (page-aligned), mapped with
 * `cache` (VMO_CACHE_*); the object is charged to acct: 0,
 * ERR_INVALID_ARGS or ERR_NO_MEMORY.  The caller checks it is not RAM. */
int vmo_create_physical(paddr_t base, uint64_t size, uint32_t cache,
                        struct kmem_account *acct, struct vmo **out);
/* Zeroed, physically contiguous, aligned to its size rounded up to a
 * power of two (at most 4 MiB), charged to acct: 0, ERR_OUT_OF_RANGE or
 * ERR_NO_MEMORY. */
int vmo_create_contiguous(uint64_t size, struct kmem_account *acct,
                          struct vmo **out);
int vmo_read(struct vmo *v, uint64_t off, void *buf, uint64_t len);
int vmo_write(struct vmo *v, uint64_t off, const void *buf, uint64_t len);
int vmo_clone(struct vmo *v, uint64_t off, uint64_t size,
              struct kmem_account *acct, bool cow_mapped, struct vmo **out);
/* The physical page at page index `pg`, allocated (and, for `write`,
 * made private) as needed.  vmo lock held. */
int vmo_page_locked(struct vmo *v, uint64_t pg, bool write, paddr_t *out);

/* address spaces */
int aspace_create(struct kmem_account *acct, struct aspace **out);
void aspace_put(struct aspace *as);     /* drop a reference; last frees */
int aspace_map(struct aspace *as, struct vmo *v, uint64_t off, uint64_t len,
               vaddr_t hint, uint32_t flags, vaddr_t *out);
int aspace_unmap(struct aspace *as, vaddr_t addr, uint64_t len);
/* Take every mapping of v out of as, wherever it is. */
void aspace_unmap_vmo(struct aspace *as, struct vmo *v);
int aspace_protect(struct aspace *as, vaddr_t addr, uint64_t len,
                   uint32_t prot);
int aspace_clone(struct aspace *as, struct kmem_account *acct,
                 struct aspace **out);
/* Resolve a fault at va; 0 when the access may be retried. */
int aspace_fault(struct aspace *as, vaddr_t va, bool write, bool exec);
void aspace_activate(struct aspace *as);
/* The vmo (referenced) and offset mapped at va, or ERR_FAULT. */
int aspace_vmo_at(struct aspace *as, vaddr_t va, struct vmo **v,
                  uint64_t *off);
/* Copy to/from another address space (through its mappings). */
int aspace_rw(struct aspace *as, vaddr_t va, void *buf, uint64_t len,
              bool write);

/* Pin the page behind user address va of `as` (faulted in; for `write`
 * made private and writable), honouring the mapping's current rights:
 * its struct page gains a reference, so an unmap on another CPU cannot
 * free it under the caller.  ERR_FAULT when va may not be accessed so. */
int aspace_pin(struct aspace *as, vaddr_t va, bool write, paddr_t *pa);
void page_unpin(paddr_t pa);
/* Copy len bytes from the current address space's user memory at src
 * into `as` at dst, through pinned pages.  ERR_FAULT, with *dst_bad
 * telling whose memory was at fault. */
int aspace_copy_from_current(struct aspace *as, vaddr_t dst, uint64_t src,
                             uint64_t len, bool *dst_bad);
/* The other way: from `as` at src to the current user memory at dst;
 * *src_bad tells whose memory was at fault. */
int aspace_copy_to_current(struct aspace *as, vaddr_t src, uint64_t dst,
                           uint64_t len, bool *src_bad);
/* arch: page tables of user address spaces */
int arch_aspace_init(struct aspace *as);
void arch_aspace_destroy(struct aspace *as);
int arch_map_page(struct aspace *as, vaddr_t va, paddr_t pa, uint32_t prot,
                  uint32_t cache);
void arch_unmap_range(struct aspace *as, vaddr_t start, vaddr_t end);
void arch_protect_range(struct aspace *as, vaddr_t start, vaddr_t end,
                        uint32_t prot);
void arch_tlb_shootdown(struct aspace *as, vaddr_t start, vaddr_t end);
bool arch_lookup(struct aspace *as, vaddr_t va, paddr_t *pa, uint32_t *prot);

#endif
