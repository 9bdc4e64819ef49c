/*
 * slab.c - the slab allocator and kmalloc.
 *
 * Each cache has its own lock; the page source has its own.  A slab's
 * header records its cache, so slab_free can check that the object really
 * belongs to the cache it is returned to, sits on an object boundary, and
 * is not already free.  The last check walks the slab's free list, which
 * is bounded by the objects in one page; cheap enough to always run.
 */
#include "slab.h"
#include "lib.h"
#include "panic.h"

#define SLAB_MAGIC 0x51ab51ab51ab51abull

struct slab {
    uint64_t magic;
    struct slab_cache *cache;
    struct slab *next, *prev;
    void *free;                 /* first free object */
    unsigned inuse;
    unsigned pad;
};

#define SLAB_HDR ALIGN_UP(sizeof(struct slab), 16)

static uintptr_t first_obj(const struct slab_cache *c, const struct slab *s)
{
    return ALIGN_UP((uintptr_t)s + SLAB_HDR, c->align);
}

void slab_cache_init(struct slab_cache *c, const char *name, size_t size,
                     size_t align)
{
    KASSERT(align >= 8 && (align & (align - 1)) == 0);
    memset(c, 0, sizeof(*c));
    c->name = name;
    c->align = align;
    c->size = ALIGN_UP(MAX(size, (size_t)8), align);
    c->per_slab = (unsigned)((PAGE_SIZE - ALIGN_UP(SLAB_HDR, align)) / c->size);
    c->lock = (spinlock_t)SPINLOCK_INIT;
    KASSERT(c->per_slab >= 1);
}

static void list_add(struct slab **head, struct slab *s)
{
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
}

static void list_del(struct slab **head, struct slab *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static struct slab *slab_new(struct slab_cache *c)
{
    struct slab *s = slab_page_alloc();
    if (!s)
        return NULL;
    *s = (struct slab){ .magic = SLAB_MAGIC, .cache = c };
    uintptr_t o = first_obj(c, s);
    void **link = &s->free;
    for (unsigned i = 0; i < c->per_slab; i++, o += c->size) {
        *link = (void *)o;
        link = (void **)o;
    }
    *link = NULL;
    c->slabs++;
    return s;
}

/* A slab with a free object, or NULL.  Called with the cache locked; may
 * drop and retake the lock to get a page. */
static struct slab *slab_with_room(struct slab_cache *c, irqflags_t *f)
{
    if (c->partial)
        return c->partial;
    struct slab *s = c->spare;
    if (s) {
        c->spare = NULL;
    } else {
        spin_unlock_irqrestore(&c->lock, *f);
        s = slab_new(c);
        *f = spin_lock_irqsave(&c->lock);
        if (!s)
            return c->partial;          /* someone else may have freed */
    }
    list_add(&c->partial, s);
    return s;
}

void *slab_alloc(struct slab_cache *c)
{
    irqflags_t f = spin_lock_irqsave(&c->lock);
    struct slab *s = slab_with_room(c, &f);
    if (!s) {
        spin_unlock_irqrestore(&c->lock, f);
        return NULL;
    }
    void *obj = s->free;
    s->free = *(void **)obj;
    s->inuse++;
    c->allocated++;
    if (!s->free) {
        list_del(&c->partial, s);
        list_add(&c->full, s);
    }
    spin_unlock_irqrestore(&c->lock, f);
    return obj;
}

static bool obj_is_free(const struct slab *s, const void *obj)
{
    for (void *p = s->free; p; p = *(void **)p)
        if (p == obj)
            return true;
    return false;
}

static struct slab *slab_of(struct slab_cache *c, void *obj)
{
    struct slab *s = (struct slab *)ALIGN_DOWN((uintptr_t)obj, PAGE_SIZE);
    uintptr_t off = (uintptr_t)obj - first_obj(c, s);
    if (s->magic != SLAB_MAGIC || s->cache != c ||
        (uintptr_t)obj < first_obj(c, s) || off % c->size != 0 ||
        off / c->size >= c->per_slab)
        return NULL;
    return s;
}

static void release_empty(struct slab_cache *c, struct slab *s)
{
    list_del(&c->partial, s);
    if (!c->spare) {
        c->spare = s;
        return;
    }
    s->magic = 0;
    c->slabs--;
    slab_page_free(s);
}

void slab_free(struct slab_cache *c, void *obj)
{
    irqflags_t f = spin_lock_irqsave(&c->lock);
    struct slab *s = slab_of(c, obj);
    if (!s || obj_is_free(s, obj)) {
        spin_unlock_irqrestore(&c->lock, f);
        KASSERT(!"slab_free: object not from this cache, or already free");
        return;
    }
    if (!s->free) {
        list_del(&c->full, s);
        list_add(&c->partial, s);
    }
    *(void **)obj = s->free;
    s->free = obj;
    s->inuse--;
    c->allocated--;
    if (s->inuse == 0)
        release_empty(c, s);
    spin_unlock_irqrestore(&c->lock, f);
}

void slab_cache_shrink(struct slab_cache *c)
{
    irqflags_t f = spin_lock_irqsave(&c->lock);
    struct slab *s = c->spare;
    c->spare = NULL;
    if (s) {
        s->magic = 0;
        c->slabs--;
    }
    spin_unlock_irqrestore(&c->lock, f);
    if (s)
        slab_page_free(s);
}

/* kmalloc: power-of-two caches from 16 bytes to SLAB_MAX_OBJ. */
#define KM_MIN_SHIFT 4
#define KM_CACHES    8          /* 16 .. 2048 */

static struct slab_cache km_cache[KM_CACHES];
static const char *const km_names[KM_CACHES] = {
    "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-128",
    "kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048",
};

void kmalloc_init(void)
{
    for (unsigned i = 0; i < KM_CACHES; i++) {
        size_t sz = (size_t)1 << (i + KM_MIN_SHIFT);
        slab_cache_init(&km_cache[i], km_names[i], sz, MIN(sz, (size_t)64));
    }
}

static unsigned km_index(size_t size)
{
    unsigned i = 0;
    while (((size_t)1 << (i + KM_MIN_SHIFT)) < size)
        i++;
    return i;
}

void *kmalloc(size_t size)
{
    if (size == 0)
        size = 1;
    if (size > SLAB_MAX_OBJ)
        return slab_large_alloc(size);
    return slab_alloc(&km_cache[km_index(size)]);
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void kfree(void *p)
{
    if (!p)
        return;
    if (((uintptr_t)p & PAGE_MASK) == 0) {
        slab_large_free(p);
        return;
    }
    struct slab *s = (struct slab *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);
    if (s->magic != SLAB_MAGIC || s->cache < km_cache ||
        s->cache >= km_cache + KM_CACHES) {
        KASSERT(!"kfree: pointer not from kmalloc");
        return;
    }
    slab_free(s->cache, p);
}

void kmalloc_shrink(void)
{
    for (unsigned i = 0; i < KM_CACHES; i++)
        slab_cache_shrink(&km_cache[i]);
}
