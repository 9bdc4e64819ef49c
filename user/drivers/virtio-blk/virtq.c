/*
 * virtq.c - a split virtqueue, the driver's side (virtq.h).
 *
 * Ordering: the device may read the rings at any moment, so a chain's
 * descriptors and its ring entry are written before the available index
 * that publishes them (a release fence), and the used index is read
 * before the entries it covers (an acquire fence).  Whether to notify is
 * read after the index is published (a full fence), so the device
 * either sees the new index or has not yet asked to be spared.  On
 * x86_64 the first two are compiler barriers and the third an mfence.
 */
#include <string.h>

#include "virtq.h"

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

int virtq_layout(uint16_t size, struct virtq_layout *l)
{
    if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
        return -1;
    l->desc = 0;
    l->avail = sizeof(struct virtq_desc) * size;
    size_t avail_end = l->avail + 4 + 2u * size + 2;
    l->used = align_up(avail_end, 4096);
    l->total = l->used + align_up(4 + 8u * size + 2, 4096);
    return 0;
}

void virtq_init(struct virtq *q, uint16_t size, void *mem, uint64_t pa)
{
    struct virtq_layout l = { 0 };
    virtq_layout(size, &l);
    memset(q, 0, sizeof(*q));
    q->size = size;
    q->desc = (volatile struct virtq_desc *)mem;
    q->avail = (volatile struct virtq_avail *)((char *)mem + l.avail);
    q->used = (volatile struct virtq_used *)((char *)mem + l.used);
    q->desc_pa = pa + l.desc;
    q->avail_pa = pa + l.avail;
    q->used_pa = pa + l.used;
    for (uint16_t i = 0; i < size; i++)
        q->desc[i].next = (uint16_t)(i + 1);
    q->free_head = 0;
    q->nfree = size;
}

int virtq_add(struct virtq *q, const struct virtq_buf *b, unsigned n,
              uint16_t *head)
{
    if (n == 0 || n > q->nfree)
        return -1;
    uint16_t h = q->free_head, d = h;
    for (unsigned i = 0; i < n; i++) {
        volatile struct virtq_desc *e = &q->desc[d];
        e->addr = b[i].addr;
        e->len = b[i].len;
        e->flags = (uint16_t)((b[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
                              (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        if (i + 1 < n)
            d = e->next;                /* the free list's order */
    }
    q->free_head = q->desc[d].next;
    q->nfree = (uint16_t)(q->nfree - n);
    q->chain_len[h] = (uint16_t)n;
    q->avail->ring[q->avail_idx & (q->size - 1)] = h;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    q->avail->idx = ++q->avail_idx;
    *head = h;
    return 0;
}

bool virtq_should_notify(const struct virtq *q)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return !(q->used->flags & VIRTQ_USED_F_NO_NOTIFY);
}

/* Give the chain at head back to the free list. */
static void free_chain(struct virtq *q, uint16_t head)
{
    uint16_t d = head;
    for (unsigned i = 1; i < q->chain_len[head]; i++)
        d = q->desc[d].next;
    q->desc[d].next = q->free_head;
    q->free_head = head;
    q->nfree = (uint16_t)(q->nfree + q->chain_len[head]);
    q->chain_len[head] = 0;
}

int virtq_get_used(struct virtq *q, uint16_t *head, uint32_t *len)
{
    if (q->last_used == q->used->idx)
        return 0;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    volatile struct virtq_used_elem *e =
        &q->used->ring[q->last_used & (q->size - 1)];
    uint32_t id = e->id;
    if (id >= q->size || q->chain_len[id] == 0)
        return -1;
    *head = (uint16_t)id;
    *len = e->len;
    q->last_used++;
    free_chain(q, (uint16_t)id);
    return 1;
}
