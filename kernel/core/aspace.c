/*
 * aspace.c - user address spaces: mappings, faults, copy-on-write.
 *
 * Mappings are a sorted list (few per process; a tree can replace it
 * when numbers grow).  Page tables are filled lazily by aspace_fault.
 *
 * The address-space lock is a plain spinlock taken with interrupts
 * enabled (never from interrupt handlers), so TLB shootdowns, which wait
 * for other CPUs to answer an IPI, can run while it is held: a CPU
 * spinning on the lock still takes the IPI.  vmo locks nest inside it.
 *
 * A write fault on a copy-on-write page gives the vmo a private copy;
 * other mappings of the same vmo then still point at the old page, so
 * the page is unmapped from them (they fault the new one in).  Their
 * address spaces are locked with trylock (the lock order is address
 * space, then vmo); when one is busy the fault is simply retried.
 */
#include "arch.h"
#include "lib.h"
#include "mica/errors.h"
#include "panic.h"
#include "physmem.h"
#include "pmm.h"
#include "slab.h"
#include "uaccess.h"
#include "vm.h"

int aspace_create(struct kmem_account *acct, struct aspace **out)
{
    struct aspace *as = kobj_alloc(acct, sizeof(*as));
    if (!as)
        return ERR_NO_MEMORY;
    as->acct = acct;
    as->refs = 1;
    as->lock = (spinlock_t)SPINLOCK_INIT;
    int err = arch_aspace_init(as);
    if (err) {
        kobj_free(acct, as, sizeof(*as));
        return err;
    }
    *out = as;
    return 0;
}

static void vmo_unlink(struct vm_mapping *m)
{
    struct vmo *v = m->vmo;
    irqflags_t f = spin_lock_irqsave(&v->obj.lock);
    struct vm_mapping **pp = &v->maps;
    while (*pp && *pp != m)
        pp = &(*pp)->vnext;
    if (*pp)
        *pp = m->vnext;
    spin_unlock_irqrestore(&v->obj.lock, f);
}

static void mapping_free(struct aspace *as, struct vm_mapping *m)
{
    vmo_unlink(m);
    object_unref(&m->vmo->obj);
    kobj_free(as->acct, m, sizeof(*m));
}

void aspace_put(struct aspace *as)
{
    if (__atomic_sub_fetch(&as->refs, 1, __ATOMIC_ACQ_REL))
        return;
    struct vm_mapping *m = as->maps;
    arch_unmap_range(as, USER_BASE, USER_TOP);
    arch_tlb_shootdown(as, USER_BASE, USER_TOP);
    while (m) {
        struct vm_mapping *next = m->next;
        mapping_free(as, m);
        m = next;
    }
    arch_aspace_destroy(as);
    kobj_free(as->acct, as, sizeof(*as));
}

/* First gap of `len` bytes at or above `from`; 0 if none. */
static vaddr_t find_gap(struct aspace *as, vaddr_t from, uint64_t len)
{
    vaddr_t a = MAX(from, USER_BASE);
    for (struct vm_mapping *m = as->maps; m; m = m->next) {
        if (m->end <= a)
            continue;
        if (m->start >= a + len)
            break;
        a = m->end;
    }
    return a + len <= USER_TOP && a + len > a ? a : 0;
}

static bool range_free(struct aspace *as, vaddr_t a, uint64_t len)
{
    for (struct vm_mapping *m = as->maps; m; m = m->next)
        if (m->start < a + len && a < m->end)
            return false;
    return true;
}

static void insert_mapping(struct aspace *as, struct vm_mapping *m)
{
    struct vm_mapping **pp = &as->maps;
    while (*pp && (*pp)->start < m->start)
        pp = &(*pp)->next;
    m->next = *pp;
    *pp = m;
    struct vmo *v = m->vmo;
    irqflags_t f = spin_lock_irqsave(&v->obj.lock);
    m->vnext = v->maps;
    v->maps = m;
    spin_unlock_irqrestore(&v->obj.lock, f);
}

/* Split m at `at` (inside it); the upper part is a new mapping. */
static int split(struct aspace *as, struct vm_mapping *m, vaddr_t at)
{
    struct vm_mapping *hi = kobj_alloc(as->acct, sizeof(*hi));
    if (!hi)
        return ERR_NO_MEMORY;
    object_ref(&m->vmo->obj);
    *hi = (struct vm_mapping){ .as = as, .start = at, .end = m->end,
                               .vmo = m->vmo,
                               .offset = m->offset + (at - m->start),
                               .prot = m->prot, .max_prot = m->max_prot };
    m->end = at;
    insert_mapping(as, hi);
    return 0;
}

/* Make [a, a + len) start and end on mapping boundaries. */
static int carve(struct aspace *as, vaddr_t a, uint64_t len)
{
    for (struct vm_mapping *m = as->maps; m; m = m->next) {
        int err = 0;
        if (m->start < a && a < m->end)
            err = split(as, m, a);
        else if (m->start < a + len && a + len < m->end)
            err = split(as, m, a + len);
        if (err)
            return err;
    }
    return 0;
}

static int check_range(vaddr_t addr, uint64_t len)
{
    if (len == 0 || (addr | len) & PAGE_MASK)
        return ERR_INVALID_ARGS;
    if (addr < USER_BASE || addr > USER_TOP || len > USER_TOP - addr)
        return ERR_OUT_OF_RANGE;
    return 0;
}

/* Take every mapping inside [addr, addr + len) out of the address space
 * (the range is already carved): page-table entries cleared and flushed
 * everywhere; the mappings are returned for mapping_free after unlock. */
static struct vm_mapping *remove_range_locked(struct aspace *as, vaddr_t addr,
                                              uint64_t len)
{
    arch_unmap_range(as, addr, addr + len);
    arch_tlb_shootdown(as, addr, addr + len);
    struct vm_mapping **pp = &as->maps, *dead = NULL;
    while (*pp) {
        struct vm_mapping *m = *pp;
        if (m->start >= addr && m->end <= addr + len) {
            *pp = m->next;
            m->next = dead;
            dead = m;
        } else {
            pp = &m->next;
        }
    }
    return dead;
}

static void free_list(struct aspace *as, struct vm_mapping *dead)
{
    while (dead) {
        struct vm_mapping *next = dead->next;
        mapping_free(as, dead);
        dead = next;
    }
}

int aspace_unmap(struct aspace *as, vaddr_t addr, uint64_t len)
{
    int err = check_range(addr, len);
    if (err)
        return err;
    spin_lock(&as->lock);
    if ((err = carve(as, addr, len))) {
        spin_unlock(&as->lock);
        return err;
    }
    struct vm_mapping *dead = remove_range_locked(as, addr, len);
    spin_unlock(&as->lock);
    free_list(as, dead);
    return 0;
}

void aspace_unmap_vmo(struct aspace *as, struct vmo *v)
{
    struct vm_mapping *dead = NULL;
    spin_lock(&as->lock);
    for (struct vm_mapping *m = as->maps; m;) {
        if (m->vmo != v) {
            m = m->next;
            continue;
        }
        struct vm_mapping *d = remove_range_locked(as, m->start,
                                                   m->end - m->start);
        while (d) {
            struct vm_mapping *next = d->next;
            d->next = dead;
            dead = d;
            d = next;
        }
        m = as->maps;                   /* the list changed */
    }
    spin_unlock(&as->lock);
    free_list(as, dead);
}

int aspace_map(struct aspace *as, struct vmo *v, uint64_t off, uint64_t len,
               vaddr_t hint, uint32_t flags, vaddr_t *out)
{
    if (len == 0 || (off | len | hint) & PAGE_MASK)
        return ERR_INVALID_ARGS;
    if (off > v->size || len > v->size - off)
        return ERR_OUT_OF_RANGE;
    if ((flags & VM_REPLACE) && !(flags & VM_FIXED))
        return ERR_INVALID_ARGS;
    struct vm_mapping *m = kobj_alloc(as->acct, sizeof(*m));
    if (!m)
        return ERR_NO_MEMORY;
    spin_lock(&as->lock);
    vaddr_t a = hint;
    struct vm_mapping *dead = NULL;
    if (flags & VM_FIXED) {
        if (hint < USER_BASE || hint > USER_TOP || len > USER_TOP - hint)
            a = 0;
        else if ((flags & VM_REPLACE) && carve(as, hint, len) == 0)
            dead = remove_range_locked(as, hint, len);  /* atomically */
        if (a && !range_free(as, hint, len))
            a = 0;
    } else if (!hint || !range_free(as, hint, len) || hint < USER_BASE ||
               len > USER_TOP - hint) {
        a = find_gap(as, hint ? hint : 0x100000000ull, len);
        if (!a)
            a = find_gap(as, USER_BASE, len);
    }
    if (!a) {
        spin_unlock(&as->lock);
        free_list(as, dead);
        kobj_free(as->acct, m, sizeof(*m));
        return (flags & VM_FIXED) ? ERR_ALREADY_EXISTS : ERR_NO_RESOURCES;
    }
    object_ref(&v->obj);
    *m = (struct vm_mapping){ .as = as, .start = a, .end = a + len,
                              .vmo = v, .offset = off,
                              .prot = flags & (VM_READ | VM_WRITE | VM_EXEC),
                              .max_prot = (flags & VM_MAX_RWX) ?
                                  VM_READ | VM_WRITE | VM_EXEC :
                                  flags & (VM_READ | VM_WRITE | VM_EXEC) };
    insert_mapping(as, m);
    spin_unlock(&as->lock);
    free_list(as, dead);
    *out = a;
    return 0;
}

int aspace_protect(struct aspace *as, vaddr_t addr, uint64_t len,
                   uint32_t prot)
{
    int err = check_range(addr, len);
    if (err)
        return err;
    spin_lock(&as->lock);
    if (!(err = carve(as, addr, len))) {
        vaddr_t covered = addr;
        for (struct vm_mapping *m = as->maps; m; m = m->next) {
            if (m->start == covered && m->end <= addr + len)
                covered = m->end;
            if (m->start >= addr && m->end <= addr + len &&
                (prot & ~m->max_prot & (VM_READ | VM_WRITE | VM_EXEC)))
                err = ERR_ACCESS_DENIED;
        }
        if (!err && covered != addr + len)
            err = ERR_NOT_FOUND;        /* a hole: change nothing */
    }
    if (!err) {
        for (struct vm_mapping *m = as->maps; m; m = m->next)
            if (m->start >= addr && m->end <= addr + len)
                m->prot = prot & (VM_READ | VM_WRITE | VM_EXEC);
        arch_protect_range(as, addr, addr + len, prot);
        arch_tlb_shootdown(as, addr, addr + len);
    }
    spin_unlock(&as->lock);
    return err;
}

static struct vm_mapping *find(struct aspace *as, vaddr_t va)
{
    for (struct vm_mapping *m = as->maps; m && m->start <= va; m = m->next)
        if (va < m->end)
            return m;
    return NULL;
}

/* After v's page `pg` changed, drop it from v's other mappings. */
static bool unmap_elsewhere(struct vmo *v, uint64_t pg, struct vm_mapping *me)
{
    for (struct vm_mapping *m = v->maps; m; m = m->vnext) {
        uint64_t off = pg << PAGE_SHIFT;
        if (m == me || off < m->offset ||
            off >= m->offset + (m->end - m->start))
            continue;
        vaddr_t va = m->start + (off - m->offset);
        if (m->as != me->as && !spin_trylock(&m->as->lock))
            return false;
        arch_unmap_range(m->as, va, va + PAGE_SIZE);
        arch_tlb_shootdown(m->as, va, va + PAGE_SIZE);
        if (m->as != me->as)
            spin_unlock(&m->as->lock);
    }
    return true;
}

static int fault_locked(struct aspace *as, vaddr_t va, bool write, bool exec)
{
    struct vm_mapping *m = find(as, va);
    if (!m)
        return ERR_FAULT;
    if ((write && !(m->prot & VM_WRITE)) || (exec && !(m->prot & VM_EXEC)) ||
        !(m->prot & (VM_READ | VM_WRITE | VM_EXEC)))
        return ERR_ACCESS_DENIED;
    struct vmo *v = m->vmo;
    uint64_t pg = (m->offset + (ALIGN_DOWN(va, PAGE_SIZE) - m->start)) >>
                  PAGE_SHIFT;
    irqflags_t f = spin_lock_irqsave(&v->obj.lock);
    paddr_t before = v->pages && pg < v->npages ? v->pages[pg] : 0, p;
    int err = vmo_page_locked(v, pg, write, &p);
    if (!err && before && before != p && !unmap_elsewhere(v, pg, m))
        err = ERR_SHOULD_WAIT;
    bool shared = !err && v->kind == VMO_ANON &&
                  __atomic_load_n(&pmm_page(p)->refs, __ATOMIC_ACQUIRE) > 1;
    spin_unlock_irqrestore(&v->obj.lock, f);
    if (err)
        return err;
    uint32_t prot = m->prot;
    if (shared)
        prot &= ~VM_WRITE;              /* copy on the first write */
    vaddr_t page = ALIGN_DOWN(va, PAGE_SIZE);
    arch_unmap_range(as, page, page + PAGE_SIZE);
    err = arch_map_page(as, page, p, prot, v->kind == VMO_PHYS ? v->cache
                                                               : VMO_CACHE_WB);
    if (!err && before && before != p)
        arch_tlb_shootdown(as, page, page + PAGE_SIZE);
    return err;
}

int aspace_fault(struct aspace *as, vaddr_t va, bool write, bool exec)
{
    for (;;) {
        spin_lock(&as->lock);
        int err = fault_locked(as, va, write, exec);
        spin_unlock(&as->lock);
        if (err != ERR_SHOULD_WAIT)
            return err;
        arch_cpu_relax();
    }
}

/* True when every mapping of v is in `as` (whose lock the caller holds). */
static bool only_here(struct vmo *v, struct aspace *as)
{
    irqflags_t f = spin_lock_irqsave(&v->obj.lock);
    bool only = true;
    for (struct vm_mapping *m = v->maps; m; m = m->vnext)
        only &= m->as == as;
    spin_unlock_irqrestore(&v->obj.lock, f);
    return only;
}

/* Set the protection of the single mapping starting at addr (new space,
 * nothing mapped in its tables yet). */
static void aspace_protect_one(struct aspace *as, vaddr_t addr, uint32_t prot)
{
    spin_lock(&as->lock);
    struct vm_mapping *m = find(as, addr);
    if (m)
        m->prot = prot;
    spin_unlock(&as->lock);
}

/* fork: private memory is cloned copy-on-write, shared memory (a vmo also
 * mapped by another address space) stays shared, and a thread's critical
 * page (no_clone) is left out: it is its thread's alone. */
int aspace_clone(struct aspace *as, struct kmem_account *acct,
                 struct aspace **out)
{
    struct aspace *n;
    int err = aspace_create(acct, &n);
    if (err)
        return err;
    spin_lock(&as->lock);
    for (struct vm_mapping *m = as->maps; m && !err; m = m->next) {
        struct vmo *c = NULL;
        vaddr_t got;
        if (m->vmo->no_clone)
            continue;
        bool cow = m->vmo->kind == VMO_ANON && only_here(m->vmo, as);
        if (cow)
            err = vmo_clone(m->vmo, 0, m->vmo->size, acct, true, &c);
        else
            object_ref(&(c = m->vmo)->obj);     /* shared memory stays shared */
        if (err)
            break;
        err = aspace_map(n, c, m->offset, m->end - m->start, m->start,
                         m->max_prot | VM_FIXED |
                         (m->max_prot == (VM_READ | VM_WRITE | VM_EXEC) ?
                          VM_MAX_RWX : 0), &got);
        if (!err)
            aspace_protect_one(n, got, m->prot);
        object_unref(&c->obj);
        if (!err && cow && (m->prot & VM_WRITE))
            arch_protect_range(as, m->start, m->end, m->prot & ~VM_WRITE);
    }
    arch_tlb_shootdown(as, USER_BASE, USER_TOP);
    spin_unlock(&as->lock);
    if (err) {
        aspace_put(n);
        return err;
    }
    *out = n;
    return 0;
}

int aspace_rw(struct aspace *as, vaddr_t va, void *buf, uint64_t len,
              bool write)
{
    if (va < USER_BASE || va > USER_TOP || len > USER_TOP - va)
        return ERR_FAULT;                   /* never mapped */
    while (len > 0) {
        uint64_t n = MIN(len, PAGE_SIZE - (va & PAGE_MASK));
        int err = aspace_fault(as, va, write, false);
        if (err)
            return err;
        paddr_t pa;
        spin_lock(&as->lock);
        bool ok = arch_lookup(as, va, &pa, NULL);
        if (ok) {
            char *k = phys_to_virt(pa);
            if (write)
                memcpy(k, buf, n);
            else
                memcpy(buf, k, n);
        }
        spin_unlock(&as->lock);
        if (!ok)
            continue;                   /* unmapped meanwhile: fault again */
        va += n;
        buf = (char *)buf + n;
        len -= n;
    }
    return 0;
}

/* Only anonymous memory is pinned: its pages are counted in struct page.
 * The pin is one more count, as a copy-on-write sharer would hold, so the
 * page outlives the mapping even if it is unmapped or replaced now. */
int aspace_pin(struct aspace *as, vaddr_t va, bool write, paddr_t *pa)
{
    if (va < USER_BASE || va >= USER_TOP)
        return ERR_FAULT;
    for (;;) {
        spin_lock(&as->lock);
        struct vm_mapping *m = find(as, va);
        paddr_t p = 0;
        uint32_t prot = 0;
        bool ok = m && m->vmo->kind == VMO_ANON &&
                  (m->prot & (write ? VM_WRITE : VM_READ)) &&
                  arch_lookup(as, va, &p, &prot) &&
                  (!write || (prot & VM_WRITE));
        if (ok)
            __atomic_add_fetch(&pmm_page(p)->refs, 1, __ATOMIC_ACQ_REL);
        spin_unlock(&as->lock);
        /* the page, without va's offset in it */
        if (ok) {
            *pa = p & ~(paddr_t)PAGE_MASK;
            return 0;
        }
        if (!m || aspace_fault(as, va, write, false))
            return ERR_FAULT;
    }
}

void page_unpin(paddr_t pa)
{
    if (__atomic_sub_fetch(&pmm_page(pa)->refs, 1, __ATOMIC_ACQ_REL) == 0)
        pmm_free(pa, 0);
}

int aspace_copy_from_current(struct aspace *as, vaddr_t dst, uint64_t src,
                             uint64_t len, bool *dst_bad)
{
    *dst_bad = false;
    if (len == 0)
        return 0;
    if (!user_range_ok(src, len))
        return ERR_FAULT;
    while (len > 0) {
        uint64_t n = MIN(len, PAGE_SIZE - (dst & PAGE_MASK));
        paddr_t pa;
        if (aspace_pin(as, dst, true, &pa)) {
            *dst_bad = true;
            return ERR_FAULT;
        }
        char *k = (char *)phys_to_virt(pa) + (dst & PAGE_MASK);
        size_t left = arch_copy_user(k, (const void *)src, n);
        page_unpin(pa);
        if (left)
            return ERR_FAULT;
        dst += n;
        src += n;
        len -= n;
    }
    return 0;
}

int aspace_copy_to_current(struct aspace *as, vaddr_t src, uint64_t dst,
                           uint64_t len, bool *src_bad)
{
    *src_bad = false;
    if (len == 0)
        return 0;
    if (!user_range_ok(dst, len))
        return ERR_FAULT;
    while (len > 0) {
        uint64_t n = MIN(len, PAGE_SIZE - (src & PAGE_MASK));
        paddr_t pa;
        if (aspace_pin(as, src, false, &pa)) {
            *src_bad = true;
            return ERR_FAULT;
        }
        char *k = (char *)phys_to_virt(pa) + (src & PAGE_MASK);
        size_t left = arch_copy_user((void *)dst, k, n);
        page_unpin(pa);
        if (left)
            return ERR_FAULT;
        dst += n;
        src += n;
        len -= n;
    }
    return 0;
}

/* The vmo and offset behind user address va, with a reference on the
 * vmo (the key of a shared futex).  ERR_FAULT when nothing is mapped. */
int aspace_vmo_at(struct aspace *as, vaddr_t va, struct vmo **v,
                  uint64_t *off)
{
    spin_lock(&as->lock);
    struct vm_mapping *m = find(as, va);
    if (m) {
        *v = m->vmo;
        *off = m->offset + (va - m->start);
        object_ref(&m->vmo->obj);
    }
    spin_unlock(&as->lock);
    return m ? 0 : ERR_FAULT;
}
