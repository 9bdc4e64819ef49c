/*
 * vmo.c - memory objects.
 *
 * An anonymous vmo keeps an array with one physical address per page, 0
 * for pages never touched (they read as zero and are allocated on first
 * access).  Pages are counted (struct page.refs) because copy-on-write
 * clones share them; a page is freed when its last vmo lets go.  Kernel
 * memory for the array and the pages is charged to the creator's
 * account, so a process cannot exhaust the machine.
 *
 * A physical vmo names a fixed range that is not RAM (device registers),
 * mapped uncached or write-combining; a contiguous one owns one buddy
 * block of RAM, zeroed, for DMA.  Neither has counted pages: they are
 * never copied on write (a fork shares them), never pinned for IPC
 * copies, and vmo_read/vmo_write refuse them.
 */
#include "lib.h"
#include "mica/errors.h"
#include "panic.h"
#include "physmem.h"
#include "pmm.h"
#include "slab.h"
#include "vm.h"

/* The page array is one kmalloc block of at most 4 MiB: 2 GiB of pages.
 * (A two-level array can lift this when something needs more.) */
#define VMO_MAX_SIZE (2ull << 30)

static void vmo_destroy(struct object *o)
{
    struct vmo *v = container_of(o, struct vmo, obj);
    KASSERT(!v->maps);
    for (uint64_t i = 0; v->pages && i < v->npages; i++) {
        if (!v->pages[i])
            continue;
        struct page *pg = pmm_page(v->pages[i]);
        if (__atomic_sub_fetch(&pg->refs, 1, __ATOMIC_ACQ_REL) == 0)
            pmm_free(v->pages[i], 0);
        kmem_uncharge(v->acct, PAGE_SIZE);
    }
    if (v->pages)
        kobj_free(v->acct, v->pages, v->npages * sizeof(paddr_t));
    if (v->kind == VMO_CONTIG) {
        pmm_free(v->phys, v->order);
        kmem_uncharge(v->acct, PAGE_SIZE << v->order);
    }
    kobj_free(v->acct, v, sizeof(*v));
}

static const struct object_ops vmo_ops = {
    .name = "vmo",
    .destroy = vmo_destroy,
};

static struct vmo *vmo_new(uint64_t size, enum vmo_kind kind,
                           struct kmem_account *acct)
{
    struct vmo *v = kobj_alloc(acct, sizeof(*v));
    if (!v)
        return NULL;
    object_init(&v->obj, OBJ_VMO, &vmo_ops);
    v->kind = kind;
    v->size = size;
    v->npages = size >> PAGE_SHIFT;
    v->acct = acct;
    return v;
}

int vmo_create(uint64_t size, struct kmem_account *acct, struct vmo **out)
{
    if (size == 0 || size > VMO_MAX_SIZE)
        return ERR_OUT_OF_RANGE;
    size = ALIGN_UP(size, PAGE_SIZE);
    struct vmo *v = vmo_new(size, VMO_ANON, acct);
    if (!v)
        return ERR_NO_MEMORY;
    v->pages = kobj_alloc(acct, v->npages * sizeof(paddr_t));
    if (!v->pages) {
        object_unref(&v->obj);
        return ERR_NO_MEMORY;
    }
    *out = v;
    return 0;
}

int vmo_create_physical(paddr_t base, uint64_t size, uint32_t cache,
                        struct kmem_account *acct, struct vmo **out)
{
    if (size == 0 || (base | size) & PAGE_MASK || base + size < base)
        return ERR_INVALID_ARGS;
    struct vmo *v = vmo_new(size, VMO_PHYS, acct);
    if (!v)
        return ERR_NO_MEMORY;
    v->phys = base;
    v->cache = cache;
    *out = v;
    return 0;
}

int vmo_create_contiguous(uint64_t size, struct kmem_account *acct,
                          struct vmo **out)
{
    if (size == 0 || size > (PAGE_SIZE << (PMM_ORDERS - 1)))
        return ERR_OUT_OF_RANGE;
    size = ALIGN_UP(size, PAGE_SIZE);
    unsigned order = 0;
    while ((PAGE_SIZE << order) < size)
        order++;
    if (kmem_charge(acct, PAGE_SIZE << order))
        return ERR_NO_MEMORY;
    paddr_t p = kmem_should_fail() ? 0 : pmm_alloc(order);
    struct vmo *v = p ? vmo_new(size, VMO_CONTIG, acct) : NULL;
    if (!v) {
        if (p)
            pmm_free(p, order);
        kmem_uncharge(acct, PAGE_SIZE << order);
        return ERR_NO_MEMORY;
    }
    memset(phys_to_virt(p), 0, PAGE_SIZE << order);
    v->phys = p;
    v->order = order;
    *out = v;
    return 0;
}

static int new_zero_page(struct vmo *v, paddr_t *out)
{
    if (kmem_charge(v->acct, PAGE_SIZE))
        return ERR_NO_MEMORY;
    paddr_t p = kmem_should_fail() ? 0 : pmm_alloc(0);
    if (!p) {
        kmem_uncharge(v->acct, PAGE_SIZE);
        return ERR_NO_MEMORY;
    }
    memset(phys_to_virt(p), 0, PAGE_SIZE);
    pmm_page(p)->refs = 1;
    *out = p;
    return 0;
}

/* Replace a shared page by a private copy. */
static int unshare(struct vmo *v, uint64_t pg)
{
    paddr_t old = v->pages[pg], copy;
    int err = new_zero_page(v, &copy);
    if (err)
        return err;
    memcpy(phys_to_virt(copy), phys_to_virt(old), PAGE_SIZE);
    v->pages[pg] = copy;
    kmem_uncharge(v->acct, PAGE_SIZE);      /* the old one is no longer ours */
    if (__atomic_sub_fetch(&pmm_page(old)->refs, 1, __ATOMIC_ACQ_REL) == 0)
        pmm_free(old, 0);
    return 0;
}

int vmo_page_locked(struct vmo *v, uint64_t pg, bool write, paddr_t *out)
{
    if (pg >= v->npages)
        return ERR_OUT_OF_RANGE;
    if (v->kind != VMO_ANON) {
        *out = v->phys + (pg << PAGE_SHIFT);
        return 0;
    }
    if (!v->pages[pg]) {
        int err = new_zero_page(v, &v->pages[pg]);
        if (err)
            return err;
    } else if (write && __atomic_load_n(&pmm_page(v->pages[pg])->refs,
                                        __ATOMIC_ACQUIRE) > 1) {
        int err = unshare(v, pg);
        if (err)
            return err;
    }
    *out = v->pages[pg];
    return 0;
}

static int vmo_copy(struct vmo *v, uint64_t off, void *buf, uint64_t len,
                    bool write)
{
    if (off > v->size || len > v->size - off)
        return ERR_OUT_OF_RANGE;
    if (v->kind != VMO_ANON)
        return ERR_NOT_SUPPORTED;
    irqflags_t f = spin_lock_irqsave(&v->obj.lock);
    int err = 0;
    while (len > 0 && !err) {
        uint64_t pg = off >> PAGE_SHIFT, in = off & PAGE_MASK;
        uint64_t n = MIN(len, PAGE_SIZE - in);
        paddr_t p;
        if (!write && !v->pages[pg]) {
            memset(buf, 0, n);          /* untouched: reads as zero */
        } else if (!(err = vmo_page_locked(v, pg, write, &p))) {
            char *k = (char *)phys_to_virt(p) + in;
            if (write)
                memcpy(k, buf, n);
            else
                memcpy(buf, k, n);
        }
        buf = (char *)buf + n;
        off += n;
        len -= n;
    }
    spin_unlock_irqrestore(&v->obj.lock, f);
    return err;
}

int vmo_read(struct vmo *v, uint64_t off, void *buf, uint64_t len)
{
    return vmo_copy(v, off, buf, len, false);
}

int vmo_write(struct vmo *v, uint64_t off, const void *buf, uint64_t len)
{
    return vmo_copy(v, off, (void *)buf, len, true);
}

static bool mapped_writable(const struct vmo *v)
{
    for (const struct vm_mapping *m = v->maps; m; m = m->vnext)
        if (m->prot & VM_WRITE)
            return true;
    return false;
}

/* Give page p of the clone: shared (copy-on-write) or, when `copy`, a
 * private copy made now. */
static int clone_page(struct vmo *c, uint64_t i, paddr_t p, bool copy,
                      struct kmem_account *acct)
{
    if (copy) {
        int err = new_zero_page(c, &c->pages[i]);
        if (!err)
            memcpy(phys_to_virt(c->pages[i]), phys_to_virt(p), PAGE_SIZE);
        return err;
    }
    if (kmem_charge(acct, PAGE_SIZE))
        return ERR_NO_MEMORY;
    __atomic_add_fetch(&pmm_page(p)->refs, 1, __ATOMIC_ACQ_REL);
    c->pages[i] = p;
    return 0;
}

/* A new vmo with the contents of [off, off + size) of v.  Pages are
 * shared copy-on-write when nothing maps v writable (or `cow_mapped`: the
 * caller write-protects v's mappings itself, as fork does); otherwise
 * they are copied at once, since a writable mapping could change a
 * shared page under the clone. */
int vmo_clone(struct vmo *v, uint64_t off, uint64_t size,
              struct kmem_account *acct, bool cow_mapped, struct vmo **out)
{
    if (v->kind != VMO_ANON)
        return ERR_NOT_SUPPORTED;
    if ((off | size) & PAGE_MASK)
        return ERR_INVALID_ARGS;
    if (off > v->size || size > v->size - off)
        return ERR_OUT_OF_RANGE;
    struct vmo *c;
    int err = vmo_create(size, acct, &c);
    if (err)
        return err;
    irqflags_t f = spin_lock_irqsave(&v->obj.lock);
    bool copy = !cow_mapped && mapped_writable(v);
    for (uint64_t i = 0; i < c->npages && !err; i++) {
        paddr_t p = v->pages[(off >> PAGE_SHIFT) + i];
        if (p)
            err = clone_page(c, i, p, copy, acct);
    }
    spin_unlock_irqrestore(&v->obj.lock, f);
    if (err) {
        object_unref(&c->obj);
        return err;
    }
    *out = c;
    return 0;
}
