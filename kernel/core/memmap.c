/*
 * memmap.c - a sorted array of free physical ranges.
 *
 * Boot needs few ranges (a dozen from the firmware, a few holes punched
 * by reservations), so a sorted array with insertion and splitting is the
 * simplest structure that works.  Running out of slots drops the smallest
 * range and sets `overflow`, which boot reports: losing a little memory
 * is better than failing to boot.
 */
#include "memmap.h"
#include "lib.h"

static void remove_at(struct memmap *m, unsigned i)
{
    memmove(&m->r[i], &m->r[i + 1], (m->n - i - 1) * sizeof(m->r[0]));
    m->n--;
}

static unsigned smallest(const struct memmap *m)
{
    unsigned small = 0;
    for (unsigned i = 1; i < m->n; i++)
        if (m->r[i].end - m->r[i].start < m->r[small].end - m->r[small].start)
            small = i;
    return small;
}

/* Insert [s, e) at index i; when full, the smallest range (possibly the
 * new one) is dropped instead. */
static void insert_at(struct memmap *m, unsigned i, paddr_t s, paddr_t e)
{
    if (m->n == MEMMAP_MAX) {
        unsigned small = smallest(m);
        m->overflow = true;
        if (e - s <= m->r[small].end - m->r[small].start)
            return;
        remove_at(m, small);
        if (small < i)
            i--;
    }
    memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(m->r[0]));
    m->r[i] = (struct memrange){ s, e };
    m->n++;
}

static void merge_neighbours(struct memmap *m)
{
    for (unsigned i = 0; i + 1 < m->n;) {
        if (m->r[i].end >= m->r[i + 1].start) {
            m->r[i].end = MAX(m->r[i].end, m->r[i + 1].end);
            remove_at(m, i + 1);
        } else {
            i++;
        }
    }
}

void memmap_add(struct memmap *m, paddr_t start, paddr_t end)
{
    start = ALIGN_UP(start, PAGE_SIZE);
    end = ALIGN_DOWN(end, PAGE_SIZE);
    if (start >= end)
        return;
    if (end > m->ram_end)
        m->ram_end = end;
    unsigned i = 0;
    while (i < m->n && m->r[i].start < start)
        i++;
    insert_at(m, i, start, end);
    merge_neighbours(m);
}

void memmap_reserve(struct memmap *m, paddr_t start, paddr_t end)
{
    start = ALIGN_DOWN(start, PAGE_SIZE);
    end = ALIGN_UP(end, PAGE_SIZE);
    for (unsigned i = 0; i < m->n;) {
        struct memrange *r = &m->r[i];
        if (r->end <= start || r->start >= end) {
            i++;
        } else if (r->start >= start && r->end <= end) {
            remove_at(m, i);
        } else if (r->start < start && r->end > end) {
            paddr_t tail_end = r->end;
            r->end = start;
            insert_at(m, i + 1, end, tail_end);
            return;
        } else if (r->start < start) {
            r->end = start;
            i++;
        } else {
            r->start = end;
            i++;
        }
    }
}

paddr_t memmap_alloc(struct memmap *m, uint64_t size, paddr_t limit)
{
    size = ALIGN_UP(size, PAGE_SIZE);
    for (unsigned i = m->n; i-- > 0;) {
        paddr_t top = MIN(m->r[i].end, ALIGN_DOWN(limit, PAGE_SIZE));
        if (top <= m->r[i].start || top - m->r[i].start < size)
            continue;
        paddr_t p = top - size;
        memmap_reserve(m, p, top);
        return p;
    }
    return 0;
}

uint64_t memmap_free_bytes(const struct memmap *m)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < m->n; i++)
        sum += m->r[i].end - m->r[i].start;
    return sum;
}

bool memmap_overlaps(const struct memmap *m, paddr_t start, paddr_t end)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->r[i].start < end && start < m->r[i].end)
            return true;
    return false;
}
