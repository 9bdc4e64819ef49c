/*
 * test_handle.c - host tests of objects, kernel memory accounts and
 * handle tables: encoding and generations, rights, limits, injected
 * allocation failures, close_all, callbacks, two-phase transfer, and a
 * pthreads stress test on one table.
 *
 * kmalloc/kzalloc/kfree are played by the host allocator, counting the
 * blocks outstanding so every test can prove it leaked nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mica/errors.h>

#include "handle.h"
#include "host_support.h"
#include "kmem.h"
#include "object.h"
#include "slab.h"

/* --- host stand-ins for the kernel allocator -------------------------- */

static long blocks_out;
static bool kzalloc_fail;               /* the allocator itself is out */

void *kmalloc(size_t size)
{
    void *p = malloc(size);
    if (p)
        __atomic_fetch_add(&blocks_out, 1, __ATOMIC_RELAXED);
    return p;
}

void *kzalloc(size_t size)
{
    if (kzalloc_fail)
        return NULL;
    void *p = calloc(1, size);
    if (p)
        __atomic_fetch_add(&blocks_out, 1, __ATOMIC_RELAXED);
    return p;
}

void kfree(void *p)
{
    if (p)
        __atomic_fetch_sub(&blocks_out, 1, __ATOMIC_RELAXED);
    free(p);
}

/* object.c lets a dying object's signal observers go (observer.c in the
 * kernel); these tests arm none, so there is never anything to do. */
void observers_object_gone(struct object *o)
{
    (void)o;
}

/* --- a test object type ----------------------------------------------- */

#define TOBJ_MAGIC 0x70b1ec75u

struct tobj {
    struct object obj;
    uint32_t magic;
    struct handle_table *table; /* if set, callbacks check its lock is free */
    int *destroyed;             /* incremented by destroy */
    int *last_handles;          /* incremented by last_handle */
    int handles_at_last;        /* obj.handles seen by last_handle */
    int refs_at_last;
};

static int lock_was_held;       /* a callback found the table lock taken */

static void check_table_unlocked(struct tobj *t)
{
    if (!t->table)
        return;
    if (!spin_trylock(&t->table->lock))
        __atomic_fetch_add(&lock_was_held, 1, __ATOMIC_RELAXED);
    else
        spin_unlock(&t->table->lock);
}

static void tobj_destroy(struct object *o)
{
    struct tobj *t = container_of(o, struct tobj, obj);
    check_table_unlocked(t);
    if (t->destroyed)
        __atomic_fetch_add(t->destroyed, 1, __ATOMIC_RELAXED);
    t->magic = 0;
    free(t);
}

static void tobj_last_handle(struct object *o)
{
    struct tobj *t = container_of(o, struct tobj, obj);
    check_table_unlocked(t);
    t->handles_at_last = (int)__atomic_load_n(&o->handles, __ATOMIC_RELAXED);
    t->refs_at_last = (int)__atomic_load_n(&o->refs, __ATOMIC_RELAXED);
    if (t->last_handles)
        __atomic_fetch_add(t->last_handles, 1, __ATOMIC_RELAXED);
}

static const struct object_ops tobj_ops = {
    .name = "tobj",
    .destroy = tobj_destroy,
    .last_handle = tobj_last_handle,
};

static struct tobj *tobj_new(uint32_t type)
{
    struct tobj *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    object_init(&t->obj, type, &tobj_ops);
    t->magic = TOBJ_MAGIC;
    return t;
}

static struct handle_table *table_new(struct kmem_account *a, uint32_t max)
{
    struct handle_table *t = NULL;
    assert_int_equal(handle_table_create(a, max, &t), 0);
    assert_non_null(t);
    return t;
}

/* Add a fresh object of `type` with `rights`; returns the handle. */
static mica_handle_t add_new(struct handle_table *t, uint32_t type,
                             mica_rights_t rights, struct tobj **out)
{
    struct tobj *o = tobj_new(type);
    o->table = t;
    mica_handle_t h = HANDLE_INVALID;
    assert_int_equal(handle_add(t, &o->obj, rights, &h), 0);
    assert_int_not_equal(h, HANDLE_INVALID);
    if (out)
        *out = o;
    return h;
}

/* What was outstanding when the test began: a failed test may leave
 * things behind, which must not fail the tests after it. */
static long base_blocks;
static uint64_t base_live[OBJ_TYPE_COUNT];

static void assert_no_leaks(void)
{
    for (uint32_t type = 1; type < OBJ_TYPE_COUNT; type++)
        assert_int_equal(object_live_count(type), base_live[type]);
    assert_int_equal(blocks_out, base_blocks);
    assert_int_equal(lock_was_held, 0);
}

static int setup(void **state)
{
    (void)state;
    kmem_fail_set(0, 0);
    kzalloc_fail = false;
    lock_was_held = 0;
    base_blocks = blocks_out;
    for (uint32_t type = 1; type < OBJ_TYPE_COUNT; type++)
        base_live[type] = object_live_count(type);
    return 0;
}

/* --- objects ------------------------------------------------------------ */

static void test_object_refs_and_live_count(void **state)
{
    (void)state;
    int destroyed = 0;
    struct tobj *o = tobj_new(OBJ_EVENT);
    o->destroyed = &destroyed;
    assert_int_equal(o->obj.refs, 1);
    assert_int_equal(object_live_count(OBJ_EVENT), 1);
    object_ref(&o->obj);
    object_unref(&o->obj);
    assert_int_equal(destroyed, 0);
    assert_int_equal(object_live_count(OBJ_EVENT), 1);
    object_unref(&o->obj);
    assert_int_equal(destroyed, 1);
    assert_no_leaks();
}

/* --- kmem accounts and failure injection ------------------------------ */

static int released;

static void count_release(struct kmem_account *a)
{
    (void)a;
    released++;
}

/* The owner closes its account; release comes when nothing is charged. */
static void test_kmem_close_waits_for_charges(void **state)
{
    (void)state;
    struct kmem_account a;
    kmem_account_init(&a, 1000);
    released = 0;
    kmem_account_close(&a, count_release);
    assert_int_equal(released, 1);                  /* nothing charged */
    kmem_account_init(&a, 1000);
    released = 0;
    assert_int_equal(kmem_charge(&a, 100), 0);
    assert_int_equal(kmem_charge(&a, 50), 0);
    kmem_account_close(&a, count_release);
    assert_int_equal(released, 0);                  /* 150 still out */
    assert_int_equal(kmem_used(&a), 150);
    assert_int_equal(kmem_charge(&a, 1), ERR_NO_MEMORY);    /* closed */
    kmem_uncharge(&a, 100);
    assert_int_equal(released, 0);
    kmem_uncharge(&a, 50);
    assert_int_equal(released, 1);                  /* the last one */
}

static void test_kmem_charge_limit_peak(void **state)
{
    (void)state;
    struct kmem_account a;
    kmem_account_init(&a, 100);
    assert_int_equal(kmem_charge(&a, 60), 0);
    assert_int_equal(kmem_charge(&a, 41), ERR_NO_MEMORY);
    assert_int_equal(a.used, 60);
    assert_int_equal(kmem_charge(&a, 40), 0);
    assert_int_equal(kmem_charge(&a, 1), ERR_NO_MEMORY);
    assert_int_equal(kmem_charge(&a, UINT64_MAX), ERR_NO_MEMORY);
    kmem_uncharge(&a, 70);
    assert_int_equal(a.used, 30);
    assert_int_equal(a.peak, 100);
    kmem_uncharge(&a, 30);
    assert_int_equal(a.used, 0);
    assert_int_equal(kmem_charge(NULL, UINT64_MAX), 0);
    kmem_uncharge(NULL, UINT64_MAX);
}

static void test_kmem_injection_deterministic(void **state)
{
    (void)state;
    enum { N = 4000 };
    static bool first[N];
    int fails = 0;
    kmem_fail_set(4, 1234);
    for (int i = 0; i < N; i++)
        fails += first[i] = kmem_should_fail();
    assert_int_equal(kmem_failures_injected(), (uint64_t)fails);
    assert_in_range(fails, N / 4 - N / 20, N / 4 + N / 20);
    kmem_fail_set(4, 1234);
    for (int i = 0; i < N; i++)
        assert_int_equal(kmem_should_fail(), first[i]);
    kmem_fail_set(0, 1234);
    for (int i = 0; i < N; i++)
        assert_false(kmem_should_fail());
}

static void test_kobj_alloc_failures_leak_nothing(void **state)
{
    (void)state;
    struct kmem_account a;
    kmem_account_init(&a, 1000);
    void *p = kobj_alloc(&a, 600);
    assert_non_null(p);
    assert_int_equal(((char *)p)[599], 0);
    assert_null(kobj_alloc(&a, 600));          /* over the limit */
    assert_int_equal(a.used, 600);
    kmem_fail_set(1, 7);                       /* every allocation */
    assert_null(kobj_alloc(&a, 8));
    assert_int_equal(a.used, 600);
    kmem_fail_set(0, 0);
    kzalloc_fail = true;                       /* the allocator itself */
    assert_null(kobj_alloc(&a, 8));
    assert_int_equal(a.used, 600);
    kzalloc_fail = false;
    kobj_free(&a, p, 600);
    kobj_free(&a, NULL, 0);
    assert_int_equal(a.used, 0);
    assert_no_leaks();
}

/* --- creation, encoding, basic lookups -------------------------------- */

static void test_create_bad_args_and_free(void **state)
{
    (void)state;
    struct kmem_account a;
    struct handle_table *t;
    kmem_account_init(&a, KMEM_UNLIMITED);
    assert_int_equal(handle_table_create(&a, 0, &t), ERR_INVALID_ARGS);
    assert_int_equal(handle_table_create(&a, HANDLE_MAX_LIMIT + 1, &t),
                     ERR_INVALID_ARGS);
    t = table_new(&a, HANDLE_MAX_LIMIT);
    assert_int_equal(t->obj.type, OBJ_HANDLE_TABLE);
    assert_int_equal(t->index_bits, 20);
    assert_int_equal(object_live_count(OBJ_HANDLE_TABLE), 1);
    assert_true(a.used > 0);
    object_unref(&t->obj);
    assert_int_equal(a.used, 0);
    kmem_account_init(&a, sizeof(struct handle_table) - 1);
    assert_int_equal(handle_table_create(&a, 8, &t), ERR_NO_MEMORY);
    assert_no_leaks();
}

static void test_add_get_close(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 1024);
    int destroyed = 0, last = 0;
    struct tobj *o;
    mica_handle_t h = add_new(t, OBJ_EVENT, RIGHTS_ALL, &o);
    o->destroyed = &destroyed;
    o->last_handles = &last;
    assert_int_equal(h & 1023, 0);             /* slot 0, generation 1 */
    assert_int_equal(h >> 10, 1);
    assert_int_equal(o->obj.handles, 1);
    assert_int_equal(o->obj.refs, 1);          /* the caller's moved in */

    struct object *got = NULL;
    mica_rights_t r = 0;
    assert_int_equal(handle_get_rights(t, h, OBJ_EVENT, RIGHT_READ, &got, &r), 0);
    assert_ptr_equal(got, &o->obj);
    assert_int_equal(r, RIGHTS_ALL);
    assert_int_equal(o->obj.refs, 2);
    object_unref(got);
    assert_int_equal(handle_get(t, h, OBJ_NONE, 0, &got), 0);
    object_unref(got);

    assert_int_equal(handle_table_count(t), 1);
    assert_int_equal(handle_close(t, h), 0);
    assert_int_equal(last, 1);
    assert_int_equal(destroyed, 1);
    assert_int_equal(handle_table_count(t), 0);
    assert_int_equal(handle_get(t, h, OBJ_NONE, 0, &got), ERR_BAD_HANDLE);
    assert_int_equal(handle_close(t, h), ERR_BAD_HANDLE);
    object_unref(&t->obj);
    assert_no_leaks();
}

static void test_bad_values(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 1024);
    mica_handle_t h = add_new(t, OBJ_EVENT, RIGHTS_ALL, NULL);
    struct object *got;
    const mica_handle_t bad[] = {
        0, 0xFFFFFFFFu, 1023, 16, (1u << 10) | 16, (1u << 10) | 1023,
        h ^ (1u << 10), h & 1023, h + 1, h | 0x80000000u, 1,
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(handle_get(t, bad[i], OBJ_NONE, 0, &got),
                         ERR_BAD_HANDLE);
        assert_int_equal(handle_close(t, bad[i]), ERR_BAD_HANDLE);
        assert_int_equal(handle_duplicate(t, bad[i], RIGHT_SAME_RIGHTS, &h),
                         ERR_BAD_HANDLE);
        assert_int_equal(handle_replace(t, bad[i], RIGHT_SAME_RIGHTS, &h),
                         ERR_BAD_HANDLE);
    }
    /* Random values resolve only when they equal an open handle. */
    enum { OPEN = 40 };
    mica_handle_t open[OPEN];
    open[0] = h;
    for (int i = 1; i < OPEN; i++)
        open[i] = add_new(t, OBJ_EVENT, RIGHTS_ALL, NULL);
    srandom(42);
    for (int i = 0; i < 200000; i++) {
        mica_handle_t v = (mica_handle_t)random() ^ ((mica_handle_t)random() << 16);
        if (i & 1)
            v = (v & ~1023u) | (v & 63);       /* an index in range */
        bool valid = false;
        for (int j = 0; j < OPEN; j++)
            valid |= v == open[j];
        int err = handle_get(t, v, OBJ_NONE, 0, &got);
        assert_int_equal(err, valid ? 0 : ERR_BAD_HANDLE);
        if (!err)
            object_unref(got);
    }
    object_unref(&t->obj);      /* destroy closes what is left */
    assert_no_leaks();
}

static void test_wrong_type_missing_right_order(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 64);
    mica_handle_t h = add_new(t, OBJ_VMO, RIGHT_READ | RIGHT_MAP, NULL);
    struct object *got;
    assert_int_equal(handle_get(t, h, OBJ_CHANNEL, 0, &got), ERR_WRONG_TYPE);
    assert_int_equal(handle_get(t, h, OBJ_VMO, RIGHT_WRITE, &got),
                     ERR_ACCESS_DENIED);
    assert_int_equal(handle_get(t, h, OBJ_VMO, RIGHT_READ | RIGHT_WRITE, &got),
                     ERR_ACCESS_DENIED);
    /* Type is checked before rights, the handle before both. */
    assert_int_equal(handle_get(t, h, OBJ_CHANNEL, RIGHT_WRITE, &got),
                     ERR_WRONG_TYPE);
    assert_int_equal(handle_get(t, h + 1, OBJ_CHANNEL, RIGHT_WRITE, &got),
                     ERR_BAD_HANDLE);
    assert_int_equal(handle_get(t, h, OBJ_VMO, RIGHT_READ | RIGHT_MAP, &got), 0);
    object_unref(got);
    assert_int_equal(object_live_count(OBJ_VMO), 1);
    object_unref(&t->obj);
    assert_no_leaks();
}

/* --- generations -------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The largest table has 12 generation bits: run every slot of the first
 * array through a full generation cycle.  No value is 0, no value repeats
 * before the cycle ends, and a closed value stays dead all along. */
static void test_generation_reuse_and_wrap(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, HANDLE_MAX_LIMIT);
    const uint32_t cycle = HANDLE_TABLE_MIN * 4095;     /* gen 1..4095 */
    uint32_t *seen = malloc(cycle * sizeof(uint32_t));
    assert_non_null(seen);
    struct object *got;
    mica_handle_t first = 0;
    for (uint32_t i = 0; i < cycle; i++) {
        mica_handle_t h = add_new(t, OBJ_EVENT, RIGHTS_ALL, NULL);
        assert_int_not_equal(h, 0);
        assert_true((h & 0xFFFFF) < HANDLE_TABLE_MIN);  /* never grew */
        seen[i] = h;
        if (i == 0)
            first = h;
        else
            assert_int_equal(handle_get(t, first, OBJ_NONE, 0, &got),
                             ERR_BAD_HANDLE);
        assert_int_equal(handle_close(t, h), 0);
        assert_int_equal(handle_get(t, h, OBJ_NONE, 0, &got), ERR_BAD_HANDLE);
    }
    qsort(seen, cycle, sizeof(uint32_t), cmp_u32);
    for (uint32_t i = 1; i < cycle; i++)
        assert_int_not_equal(seen[i - 1], seen[i]);
    /* Generation 4095 wrapped to 1, skipping 0: the first value is back. */
    mica_handle_t h = add_new(t, OBJ_EVENT, RIGHTS_ALL, NULL);
    assert_int_equal(h, first);
    free(seen);
    object_unref(&t->obj);
    assert_no_leaks();
}

/* A one-handle table uses all 32 bits for the generation. */
static void test_one_slot_table(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 1);
    assert_int_equal(t->index_bits, 0);
    struct object *got;
    mica_handle_t h = add_new(t, OBJ_EVENT, RIGHTS_ALL, NULL);
    assert_int_equal(h, 1);
    assert_int_equal(handle_close(t, h), 0);
    h = add_new(t, OBJ_EVENT, RIGHTS_ALL, NULL);
    assert_int_equal(h, 2);
    assert_int_equal(handle_get(t, 1, OBJ_NONE, 0, &got), ERR_BAD_HANDLE);
    t->entries[0].gen = UINT32_MAX;             /* force the wrap */
    assert_int_equal(handle_close(t, UINT32_MAX), 0);
    h = add_new(t, OBJ_EVENT, RIGHTS_ALL, NULL);
    assert_int_equal(h, 1);                     /* 0 skipped */
    object_unref(&t->obj);
    assert_no_leaks();
}

/* --- rights: duplicate and replace -------------------------------------- */

static void test_duplicate_fewer_rights(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 64);
    struct tobj *o;
    const mica_rights_t all = RIGHTS_IO | RIGHT_DUPLICATE | RIGHT_TRANSFER;
    mica_handle_t h = add_new(t, OBJ_EVENT, all, &o), d, d2;
    struct object *got;
    mica_rights_t r;

    assert_int_equal(handle_duplicate(t, h, RIGHT_READ | RIGHT_DUPLICATE, &d), 0);
    assert_int_not_equal(d, h);
    assert_int_equal(o->obj.handles, 2);
    assert_int_equal(o->obj.refs, 2);
    assert_int_equal(handle_get_rights(t, d, OBJ_EVENT, RIGHT_READ, &got, &r), 0);
    assert_int_equal(r, RIGHT_READ | RIGHT_DUPLICATE);
    object_unref(got);
    assert_int_equal(handle_get(t, d, OBJ_EVENT, RIGHT_WRITE, &got),
                     ERR_ACCESS_DENIED);

    /* Rights never grow, by duplicate of a duplicate or otherwise. */
    assert_int_equal(handle_duplicate(t, d, RIGHT_READ | RIGHT_WRITE, &d2),
                     ERR_INVALID_ARGS);
    assert_int_equal(handle_duplicate(t, h, all | RIGHT_MANAGE, &d2),
                     ERR_INVALID_ARGS);
    assert_int_equal(handle_duplicate(t, h, RIGHT_SAME_RIGHTS | RIGHT_READ, &d2),
                     ERR_INVALID_ARGS);
    assert_int_equal(handle_duplicate(t, d, RIGHT_SAME_RIGHTS, &d2), 0);
    assert_int_equal(handle_get_rights(t, d2, OBJ_NONE, 0, &got, &r), 0);
    assert_int_equal(r, RIGHT_READ | RIGHT_DUPLICATE);
    object_unref(got);

    /* No RIGHT_DUPLICATE, no duplicate; a bad handle is reported first. */
    assert_int_equal(handle_duplicate(t, d2, 0, &d), 0);
    assert_int_equal(handle_duplicate(t, d, 0, &d2), ERR_ACCESS_DENIED);
    assert_int_equal(handle_duplicate(t, d + 1, 0, &d2), ERR_BAD_HANDLE);
    assert_int_equal(handle_table_count(t), 4);
    assert_int_equal(o->obj.handles, 4);
    object_unref(&t->obj);
    assert_no_leaks();
}

static void test_duplicate_errors_on_full_table(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 2);
    mica_handle_t h = add_new(t, OBJ_EVENT, RIGHT_DUPLICATE, NULL), d;
    assert_int_equal(handle_duplicate(t, h, RIGHT_SAME_RIGHTS, &d), 0);
    assert_int_equal(handle_duplicate(t, h, RIGHT_SAME_RIGHTS, &d),
                     ERR_NO_RESOURCES);
    assert_int_equal(handle_duplicate(t, h ^ 0x100, RIGHT_SAME_RIGHTS, &d),
                     ERR_BAD_HANDLE);
    assert_int_equal(handle_duplicate(t, h, RIGHT_READ, &d), ERR_INVALID_ARGS);
    object_unref(&t->obj);
    assert_no_leaks();
}

static void test_replace(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 2);
    int last = 0;
    struct tobj *o;
    mica_handle_t h = add_new(t, OBJ_EVENT, RIGHTS_IO | RIGHT_WAIT, &o), n, n2;
    o->last_handles = &last;
    struct object *got;
    mica_rights_t r;

    /* Extra rights: fails and h is untouched. */
    assert_int_equal(handle_replace(t, h, RIGHTS_IO | RIGHT_MAP, &n),
                     ERR_INVALID_ARGS);
    assert_int_equal(handle_get_rights(t, h, OBJ_NONE, 0, &got, &r), 0);
    assert_int_equal(r, RIGHTS_IO | RIGHT_WAIT);
    object_unref(got);

    assert_int_equal(handle_replace(t, h, RIGHT_READ, &n), 0);
    assert_int_not_equal(n, h);
    assert_int_equal(handle_get(t, h, OBJ_NONE, 0, &got), ERR_BAD_HANDLE);
    assert_int_equal(handle_get_rights(t, n, OBJ_NONE, 0, &got, &r), 0);
    assert_int_equal(r, RIGHT_READ);
    object_unref(got);
    assert_int_equal(last, 0);
    assert_int_equal(o->obj.handles, 1);
    assert_int_equal(handle_table_count(t), 1);

    /* With the table full it reissues the slot in place: still works. */
    add_new(t, OBJ_EVENT, 0, NULL);
    assert_int_equal(handle_replace(t, n, RIGHT_SAME_RIGHTS, &n2), 0);
    assert_int_not_equal(n2, n);
    assert_int_equal(handle_get(t, n, OBJ_NONE, 0, &got), ERR_BAD_HANDLE);
    assert_int_equal(handle_get(t, n2, OBJ_NONE, RIGHT_READ, &got), 0);
    object_unref(got);
    assert_int_equal(handle_replace(t, n2, RIGHT_WRITE, &n), ERR_INVALID_ARGS);
    assert_int_equal(handle_replace(t, n2, 0, &n), 0);
    assert_int_equal(handle_get(t, n, OBJ_NONE, RIGHT_READ, &got),
                     ERR_ACCESS_DENIED);
    assert_int_equal(last, 0);
    assert_int_equal(handle_close(t, n), 0);
    assert_int_equal(last, 1);
    object_unref(&t->obj);
    assert_no_leaks();
}

/* --- limits and allocation failures ------------------------------------- */

static void test_limit_no_resources(void **state)
{
    (void)state;
    struct kmem_account a;
    kmem_account_init(&a, KMEM_UNLIMITED);
    struct handle_table *t = table_new(&a, 37);
    mica_handle_t h;
    for (int i = 0; i < 37; i++)
        add_new(t, OBJ_EVENT, 0, NULL);
    assert_int_equal(t->cap, 37);
    struct tobj *o = tobj_new(OBJ_EVENT);
    assert_int_equal(handle_add(t, &o->obj, 0, &h), ERR_NO_RESOURCES);
    assert_int_equal(o->obj.handles, 0);
    object_unref(&o->obj);                      /* still the caller's */
    assert_int_equal(handle_reserve(t, 1, &h), ERR_NO_RESOURCES);
    assert_int_equal(handle_table_count(t), 37);
    object_unref(&t->obj);
    assert_int_equal(a.used, 0);
    assert_no_leaks();
}

static void test_growth_failure_no_memory(void **state)
{
    (void)state;
    struct kmem_account a;
    kmem_account_init(&a, KMEM_UNLIMITED);
    struct handle_table *t = table_new(&a, 1000);
    mica_handle_t h[HANDLE_TABLE_MIN], x;
    for (unsigned i = 0; i < HANDLE_TABLE_MIN; i++)
        h[i] = add_new(t, OBJ_EVENT, RIGHT_DUPLICATE, NULL);
    uint64_t used = a.used;

    kmem_fail_set(1, 99);                       /* every allocation fails */
    struct tobj *o = tobj_new(OBJ_EVENT);
    assert_int_equal(handle_add(t, &o->obj, 0, &x), ERR_NO_MEMORY);
    assert_int_equal(handle_duplicate(t, h[0], 0, &x), ERR_NO_MEMORY);
    assert_int_equal(handle_reserve(t, 1, &x), ERR_NO_MEMORY);
    kmem_fail_set(0, 0);
    assert_int_equal(a.used, used);

    /* The account's limit: room for the table's array only as it is. */
    a.limit = a.used;
    assert_int_equal(handle_add(t, &o->obj, 0, &x), ERR_NO_MEMORY);
    assert_int_equal(a.used, used);
    a.limit = KMEM_UNLIMITED;
    assert_int_equal(handle_add(t, &o->obj, 0, &x), 0);
    for (unsigned i = 0; i < HANDLE_TABLE_MIN; i++) {  /* all still good */
        struct object *got;
        assert_int_equal(handle_get(t, h[i], OBJ_EVENT, 0, &got), 0);
        object_unref(got);
    }
    object_unref(&t->obj);
    assert_int_equal(a.used, 0);
    assert_no_leaks();
}

/* Random injected failures while filling, duplicating and transferring:
 * every failure is ERR_NO_MEMORY, and at the end nothing is left. */
static void test_random_failures_leak_nothing(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct kmem_account a;
        kmem_account_init(&a, KMEM_UNLIMITED);
        struct handle_table *t = table_new(&a, 4096);
        mica_handle_t last = HANDLE_INVALID, x[3];
        int ok = 0;
        kmem_fail_set(3, seed);
        for (int i = 0; i < 600; i++) {
            struct tobj *o = tobj_new(OBJ_EVENT);
            int err = handle_add(t, &o->obj, RIGHT_DUPLICATE, &x[0]);
            if (err) {
                assert_int_equal(err, ERR_NO_MEMORY);
                object_unref(&o->obj);
            } else {
                ok++;
                last = x[0];
            }
            err = last ? handle_duplicate(t, last, RIGHT_SAME_RIGHTS, &x[0]) : 0;
            assert_true(err == 0 || err == ERR_NO_MEMORY);
            err = handle_reserve(t, 3, x);
            assert_true(err == 0 || err == ERR_NO_MEMORY);
            if (!err)
                handle_unreserve(t, x, 3);
        }
        assert_true(kmem_failures_injected() > 0);
        assert_true(ok > 0);
        kmem_fail_set(0, 0);
        handle_table_close_all(t);
        assert_int_equal(handle_table_count(t), 0);
        object_unref(&t->obj);
        assert_int_equal(a.used, 0);
        assert_no_leaks();
    }
}

/* --- close_all, callbacks, reference counts ----------------------------- */

static void test_close_all(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 256);
    int destroyed = 0, last = 0;
    mica_handle_t hs[100], x;
    for (int i = 0; i < 100; i++) {
        struct tobj *o;
        hs[i] = add_new(t, i & 1 ? OBJ_EVENT : OBJ_PORT, RIGHT_DUPLICATE, &o);
        o->destroyed = &destroyed;
        o->last_handles = &last;
        if (i % 10 == 0)
            assert_int_equal(handle_duplicate(t, hs[i], 0, &x), 0);
    }
    /* A handle to the table itself: close_all breaks the cycle. */
    object_ref(&t->obj);
    assert_int_equal(handle_add(t, &t->obj, 0, &x), 0);
    handle_table_close_all(t);
    assert_int_equal(destroyed, 100);
    assert_int_equal(last, 100);
    assert_int_equal(handle_table_count(t), 0);
    struct object *got;
    assert_int_equal(handle_get(t, hs[3], OBJ_NONE, 0, &got), ERR_BAD_HANDLE);
    struct tobj *o = tobj_new(OBJ_EVENT);
    assert_int_equal(handle_add(t, &o->obj, 0, &x), ERR_BAD_STATE);
    assert_int_equal(handle_reserve(t, 1, &x), ERR_BAD_STATE);
    object_unref(&o->obj);
    handle_table_close_all(t);                  /* idempotent */
    object_unref(&t->obj);
    assert_no_leaks();
}

static void test_last_handle_timing(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 64);
    struct handle_table *t2 = table_new(NULL, 64);
    int destroyed = 0, last = 0;
    struct tobj *o;
    mica_handle_t h = add_new(t, OBJ_EVENT, RIGHTS_ALL, &o), d, d2;
    o->destroyed = &destroyed;
    o->last_handles = &last;
    assert_int_equal(handle_duplicate(t, h, RIGHT_SAME_RIGHTS, &d), 0);
    object_ref(&o->obj);
    assert_int_equal(handle_add(t2, &o->obj, RIGHTS_ALL, &d2), 0);
    assert_int_equal(o->obj.handles, 3);
    assert_int_equal(handle_close(t, h), 0);
    assert_int_equal(handle_close(t2, d2), 0);
    assert_int_equal(last, 0);                  /* one handle still open */
    assert_int_equal(handle_close(t, d), 0);
    assert_int_equal(last, 1);
    assert_int_equal(destroyed, 1);
    object_unref(&t->obj);
    object_unref(&t2->obj);
    assert_no_leaks();
}

static void test_last_handle_sees_live_object(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 64);
    int destroyed = 0, last = 0;
    struct tobj *o;
    mica_handle_t h = add_new(t, OBJ_EVENT, RIGHTS_ALL, &o);
    o->destroyed = &destroyed;
    o->last_handles = &last;
    struct object *got;
    assert_int_equal(handle_get(t, h, OBJ_EVENT, 0, &got), 0);
    assert_int_equal(handle_close(t, h), 0);
    assert_int_equal(last, 1);
    assert_int_equal(o->handles_at_last, 0);
    assert_int_equal(o->refs_at_last, 2);       /* table's + ours */
    /* Closed, but our reference keeps it alive until we drop it. */
    assert_int_equal(destroyed, 0);
    assert_int_equal(o->magic, TOBJ_MAGIC);
    assert_int_equal(got->refs, 1);
    object_unref(got);
    assert_int_equal(destroyed, 1);
    object_unref(&t->obj);
    assert_no_leaks();
}

/* --- transfer ----------------------------------------------------------- */

static void test_take_begin_all_or_nothing(void **state)
{
    (void)state;
    struct handle_table *t = table_new(NULL, 64);
    const mica_rights_t tr = RIGHT_TRANSFER | RIGHT_READ;
    mica_handle_t hs[4];
    for (int i = 0; i < 3; i++)
        hs[i] = add_new(t, OBJ_EVENT, tr, NULL);
    hs[3] = add_new(t, OBJ_EVENT, RIGHT_READ, NULL);      /* no TRANSFER */
    struct object *objs[4], *got;
    mica_rights_t rights[4];

    assert_int_equal(handle_take_begin(t, hs, 4, RIGHT_TRANSFER, objs, rights),
                     ERR_ACCESS_DENIED);
    mica_handle_t bad[3] = { hs[0], hs[1], hs[1] + (1u << 6) };  /* stale */
    assert_int_equal(handle_take_begin(t, bad, 3, RIGHT_TRANSFER, objs, rights),
                     ERR_BAD_HANDLE);
    mica_handle_t twice[3] = { hs[0], hs[1], hs[0] };
    assert_int_equal(handle_take_begin(t, twice, 3, RIGHT_TRANSFER, objs, rights),
                     ERR_BAD_HANDLE);
    for (int i = 0; i < 4; i++) {               /* nothing moved */
        assert_int_equal(handle_get(t, hs[i], OBJ_EVENT, RIGHT_READ, &got), 0);
        object_unref(got);
    }

    /* Begun: the handles look closed; abort puts them back unchanged. */
    assert_int_equal(handle_take_begin(t, hs, 3, RIGHT_TRANSFER, objs, rights), 0);
    assert_int_equal(rights[1], tr);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(handle_get(t, hs[i], OBJ_NONE, 0, &got), ERR_BAD_HANDLE);
        assert_int_equal(handle_close(t, hs[i]), ERR_BAD_HANDLE);
    }
    assert_int_equal(handle_take_begin(t, hs, 1, 0, objs, rights), ERR_BAD_HANDLE);
    handle_take_abort(t, hs, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(handle_get(t, hs[i], OBJ_EVENT, tr, &got), 0);
        assert_ptr_equal(got, objs[i]);
        object_unref(got);
    }
    object_unref(&t->obj);
    assert_no_leaks();
}

static void test_transfer_between_tables(void **state)
{
    (void)state;
    struct handle_table *a = table_new(NULL, 64), *b = table_new(NULL, 2);
    int last = 0;
    const mica_rights_t tr = RIGHT_TRANSFER | RIGHT_WRITE;
    mica_handle_t hs[3], in[3];
    struct tobj *o[3];
    for (int i = 0; i < 3; i++) {
        hs[i] = add_new(a, OBJ_CHANNEL, tr, &o[i]);
        o[i]->table = NULL;                     /* outlives table a */
        o[i]->last_handles = &last;
    }
    struct object *objs[3], *got;
    mica_rights_t rights[3];
    assert_int_equal(handle_take_begin(a, hs, 3, RIGHT_TRANSFER, objs, rights), 0);

    /* The receiver has room for two: nothing reserved, sender aborts. */
    assert_int_equal(handle_reserve(b, 3, in), ERR_NO_RESOURCES);
    assert_int_equal(handle_table_count(b), 0);
    handle_take_abort(a, hs, 3);
    assert_int_equal(handle_table_count(a), 3);

    /* Two go through: in flight they keep their handle counts. */
    assert_int_equal(handle_take_begin(a, hs, 2, RIGHT_TRANSFER, objs, rights), 0);
    assert_int_equal(handle_reserve(b, 2, in), 0);
    assert_int_equal(handle_table_count(b), 2);
    assert_int_equal(handle_get(b, in[0], OBJ_NONE, 0, &got), ERR_BAD_HANDLE);
    handle_take_commit(a, hs, 2);
    assert_int_equal(handle_get(a, hs[0], OBJ_NONE, 0, &got), ERR_BAD_HANDLE);
    assert_int_equal(o[0]->obj.handles, 1);
    assert_int_equal(o[0]->obj.refs, 1);
    handle_commit(b, in, objs, rights, 2);
    assert_int_equal(last, 0);
    for (int i = 0; i < 2; i++) {
        mica_rights_t r;
        assert_int_equal(handle_get_rights(b, in[i], OBJ_CHANNEL, 0, &got, &r), 0);
        assert_ptr_equal(got, &o[i]->obj);
        assert_int_equal(r, tr);
        object_unref(got);
        assert_int_equal(o[i]->obj.handles, 1);
    }
    assert_int_equal(handle_table_count(a), 1);

    /* Reserved and given back: the value never becomes valid. */
    assert_int_equal(handle_close(b, in[1]), 0);
    assert_int_equal(last, 1);
    assert_int_equal(handle_reserve(b, 1, in), 0);
    handle_unreserve(b, in, 1);
    assert_int_equal(handle_get(b, in[0], OBJ_NONE, 0, &got), ERR_BAD_HANDLE);
    assert_int_equal(handle_table_count(b), 1);

    /* One-handle forms, and a message dropped unread. */
    struct object *one;
    mica_rights_t r1;
    assert_int_equal(handle_take(a, hs[2], RIGHT_TRANSFER, &one, &r1), 0);
    assert_int_equal(handle_put(b, one, r1, &in[0]), 0);
    assert_int_equal(handle_take(b, in[0], RIGHT_TRANSFER, &one, &r1), 0);
    assert_int_equal(last, 1);
    handle_discard(one);
    assert_int_equal(last, 2);
    assert_int_equal(handle_take(b, in[0], 0, &one, &r1), ERR_BAD_HANDLE);

    /* A full table refuses an arriving handle; it stays in flight. */
    struct tobj *full, *extra = tobj_new(OBJ_EVENT);
    add_new(b, OBJ_EVENT, 0, &full);
    full->table = NULL;
    object_handle_opened(&extra->obj);          /* as if in a message */
    assert_int_equal(handle_put(b, &extra->obj, 0, &in[0]), ERR_NO_RESOURCES);
    assert_int_equal(extra->obj.handles, 1);
    assert_int_equal(extra->obj.refs, 1);
    handle_discard(&extra->obj);
    object_unref(&a->obj);
    object_unref(&b->obj);
    assert_no_leaks();
}

/* A process dies while its handles are mid-transfer either way. */
static void test_transfer_races_close_all(void **state)
{
    (void)state;
    struct handle_table *a = table_new(NULL, 8), *b = table_new(NULL, 8);
    int last = 0, destroyed = 0;
    struct tobj *o;
    mica_handle_t h = add_new(a, OBJ_EVENT, RIGHT_TRANSFER, &o), in;
    o->last_handles = &last;
    o->destroyed = &destroyed;
    struct object *obj;
    mica_rights_t r;
    assert_int_equal(handle_take_begin(a, &h, 1, RIGHT_TRANSFER, &obj, &r), 0);
    handle_table_close_all(a);
    assert_int_equal(last, 0);                  /* left to the transfer */
    assert_int_equal(handle_table_count(a), 1);
    handle_take_abort(a, &h, 1);
    assert_int_equal(last, 1);
    assert_int_equal(destroyed, 1);
    assert_int_equal(handle_table_count(a), 0);

    h = add_new(b, OBJ_EVENT, RIGHT_TRANSFER, &o);
    o->last_handles = &last;
    assert_int_equal(handle_take(b, h, RIGHT_TRANSFER, &obj, &r), 0);
    struct handle_table *c = table_new(NULL, 8);
    assert_int_equal(handle_reserve(c, 1, &in), 0);
    handle_table_close_all(c);
    handle_commit(c, &in, &obj, &r, 1);         /* closed on arrival */
    assert_int_equal(last, 2);
    assert_int_equal(handle_table_count(c), 0);
    object_unref(&a->obj);
    object_unref(&b->obj);
    object_unref(&c->obj);
    assert_no_leaks();
}

/* --- concurrency -------------------------------------------------------- */

/*
 * Several threads share one table.  Each owns a few "home" slots in
 * `shared` that it keeps refilling with new objects and closing, and
 * meanwhile picks any slot's current value at random and gets it (then
 * reads the object, which must still be alive), duplicates and closes
 * the duplicate, replaces it, or closes it out from under its owner.
 * Errors are expected (the value may be stale); crashes, use after free
 * (ASan), data races (TSan build), double destroys and leaks are not.
 *
 * The host's ticket locks spin without yielding, so with more threads
 * than free CPUs a lock hand-off can wait for a whole time slice: the
 * threads stop at a deadline as well as after STRESS_ITERS rounds.
 */
enum { STRESS_THREADS = 4, STRESS_HOME = 8, STRESS_ITERS = 40000 };
#define STRESS_NS 1000000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t stress_deadline;

static mica_handle_t shared[STRESS_THREADS * STRESS_HOME];
static struct handle_table *stress_table;
static int stress_destroyed, stress_created, stress_errors;

static void stress_check(bool ok)
{
    if (!ok)
        __atomic_fetch_add(&stress_errors, 1, __ATOMIC_RELAXED);
}

static void stress_refill(uint32_t slot)
{
    struct tobj *o = tobj_new(OBJ_EVENT);
    o->destroyed = &stress_destroyed;
    mica_handle_t h;
    __atomic_fetch_add(&stress_created, 1, __ATOMIC_RELAXED);
    if (handle_add(stress_table, &o->obj, RIGHTS_ALL, &h) != 0) {
        object_unref(&o->obj);
        return;
    }
    h = __atomic_exchange_n(&shared[slot], h, __ATOMIC_ACQ_REL);
    if (h)
        handle_close(stress_table, h);          /* may already be gone */
}

static void stress_use(mica_handle_t h, unsigned op)
{
    struct handle_table *t = stress_table;
    struct object *got;
    mica_handle_t d;
    int err;
    switch (op) {
    case 0: case 1: case 2:
        err = handle_get(t, h, OBJ_EVENT, RIGHT_READ, &got);
        stress_check(err == 0 || err == ERR_BAD_HANDLE);
        if (!err) {
            stress_check(container_of(got, struct tobj, obj)->magic == TOBJ_MAGIC);
            object_unref(got);
        }
        break;
    case 3:
        err = handle_duplicate(t, h, RIGHT_READ, &d);
        stress_check(err == 0 || err == ERR_BAD_HANDLE);
        if (!err)
            stress_check(handle_close(t, d) == 0);
        break;
    case 4:
        err = handle_replace(t, h, RIGHT_SAME_RIGHTS, &d);
        stress_check(err == 0 || err == ERR_BAD_HANDLE);
        if (!err)
            handle_close(t, d);                 /* its value is ours */
        break;
    default:
        err = handle_close(t, h);
        stress_check(err == 0 || err == ERR_BAD_HANDLE);
        break;
    }
}

static void *stress_thread(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    uint64_t x = 0x9e3779b97f4a7c15ull * (id + 1);
    for (int i = 0; i < STRESS_ITERS; i++) {
        if ((i & 63) == 0 && now_ns() > stress_deadline)
            break;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if ((x & 7) == 0) {
            stress_refill(id * STRESS_HOME + (uint32_t)(x >> 8) % STRESS_HOME);
            continue;
        }
        uint32_t slot = (uint32_t)(x >> 16) % ARRAY_SIZE(shared);
        mica_handle_t h = __atomic_load_n(&shared[slot], __ATOMIC_ACQUIRE);
        stress_use(h, (unsigned)(x >> 40) % 7);
    }
    return NULL;
}

static void test_stress_threads(void **state)
{
    (void)state;
    struct kmem_account a;
    kmem_account_init(&a, KMEM_UNLIMITED);
    stress_table = table_new(&a, 256);
    memset(shared, 0, sizeof(shared));
    stress_destroyed = stress_created = stress_errors = 0;
    stress_deadline = now_ns() + STRESS_NS;
    pthread_t th[STRESS_THREADS];
    for (uintptr_t i = 0; i < STRESS_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, stress_thread, (void *)i), 0);
    for (int i = 0; i < STRESS_THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(stress_errors, 0);
    assert_true(stress_created > 0);
    print_message("stress: %d objects created\n", stress_created);
    object_unref(&stress_table->obj);
    assert_int_equal(stress_destroyed, stress_created);
    assert_int_equal(a.used, 0);
    assert_no_leaks();
}

/* Concurrent growth: many threads add at once from an empty table. */
static void *grow_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 500 && now_ns() < stress_deadline; i++) {
        struct tobj *o = tobj_new(OBJ_EVENT);
        o->destroyed = &stress_destroyed;
        mica_handle_t h;
        __atomic_fetch_add(&stress_created, 1, __ATOMIC_RELAXED);
        int err = handle_add(stress_table, &o->obj, RIGHT_READ, &h);
        stress_check(err == 0 || err == ERR_NO_MEMORY);
        if (err)
            object_unref(&o->obj);
    }
    return NULL;
}

static void test_stress_growth(void **state)
{
    (void)state;
    struct kmem_account a;
    kmem_account_init(&a, KMEM_UNLIMITED);
    stress_table = table_new(&a, 1u << 14);
    stress_destroyed = stress_created = stress_errors = 0;
    stress_deadline = now_ns() + STRESS_NS;
    kmem_fail_set(5, 3);
    pthread_t th[STRESS_THREADS];
    for (uintptr_t i = 0; i < STRESS_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, grow_thread, (void *)i), 0);
    for (int i = 0; i < STRESS_THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    kmem_fail_set(0, 0);
    assert_int_equal(stress_errors, 0);
    uint32_t n = handle_table_count(stress_table);
    assert_true(n > 0 && n <= STRESS_THREADS * 500);
    assert_int_equal(object_live_count(OBJ_EVENT), base_live[OBJ_EVENT] + n);
    object_unref(&stress_table->obj);
    assert_int_equal(stress_destroyed, stress_created);
    assert_int_equal(a.used, 0);
    assert_no_leaks();
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_object_refs_and_live_count),
        T(test_kmem_charge_limit_peak),
        T(test_kmem_close_waits_for_charges),
        T(test_kmem_injection_deterministic),
        T(test_kobj_alloc_failures_leak_nothing),
        T(test_create_bad_args_and_free),
        T(test_add_get_close),
        T(test_bad_values),
        T(test_wrong_type_missing_right_order),
        T(test_generation_reuse_and_wrap),
        T(test_one_slot_table),
        T(test_duplicate_fewer_rights),
        T(test_duplicate_errors_on_full_table),
        T(test_replace),
        T(test_limit_no_resources),
        T(test_growth_failure_no_memory),
        T(test_random_failures_leak_nothing),
        T(test_close_all),
        T(test_last_handle_timing),
        T(test_last_handle_sees_live_object),
        T(test_take_begin_all_or_nothing),
        T(test_transfer_between_tables),
        T(test_transfer_races_close_all),
        T(test_stress_threads),
        T(test_stress_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
