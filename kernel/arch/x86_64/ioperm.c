/*
 * ioperm.c - I/O port permissions: each process's bitmap, loaded lazily
 * into the CPU's TSS.
 *
 * A process that was allowed ports has an 8 KiB bitmap (bit set: port
 * denied) and a generation, a number taken from one global counter each
 * time the bitmap changes, so no two bitmaps ever share one.  Each CPU
 * remembers the generation its TSS copy holds.  Switching to a thread
 * whose process has a bitmap copies it only if the CPU holds another
 * generation, and points the TSS at it; switching to any other thread
 * points the TSS past its limit, which denies every port without
 * touching the copy (so going back and forth between a driver and its
 * clients costs one store each way).
 *
 * Bits only ever go from denied to allowed.  The writer clears them,
 * then publishes the new generation; a reader copying at the same time
 * may miss bits cleared after it read the generation, and then records
 * the older generation.  A thread that runs into a port its process now
 * may use takes a #GP; trap.c asks io_refresh, which sees the
 * generations differ, copies again and retries the instruction.  So
 * another CPU's threads of the process gain a new permission lazily,
 * without an IPI, and no lock is taken in the switch.
 */
#include "arch.h"
#include "arch/x86_64/console.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/ioperm.h"
#include "kmem.h"
#include "lib.h"
#include "mica/errors.h"
#include "percpu.h"
#include "process.h"
#include "spinlock.h"

static uint64_t next_gen = 1;

static void load(struct arch_cpu *ac, const struct process *p)
{
    uint64_t gen = __atomic_load_n(&p->io_gen, __ATOMIC_ACQUIRE);
    memcpy(ac->io_bitmap, p->io_bitmap, IO_BITMAP_BYTES);
    ac->io_gen = gen;
}

void io_switch(struct arch_cpu *ac, const struct process *next)
{
    if (next && next->io_bitmap) {
        if (ac->io_gen != __atomic_load_n(&next->io_gen, __ATOMIC_ACQUIRE))
            load(ac, next);
        ac->tss.iomap_base = IOMAP_ON;
    } else if (ac->tss.iomap_base != IOMAP_OFF) {
        ac->tss.iomap_base = IOMAP_OFF;
    }
}

bool io_refresh(const struct process *p)
{
    struct arch_cpu *ac = this_cpu()->arch;
    if (!p || !p->io_bitmap ||
        ac->io_gen == __atomic_load_n(&p->io_gen, __ATOMIC_ACQUIRE))
        return false;
    load(ac, p);
    ac->tss.iomap_base = IOMAP_ON;
    return true;
}

int arch_io_allow(struct process *p, uint32_t base, uint32_t count)
{
    uint8_t *fresh = NULL;
    if (!__atomic_load_n(&p->io_bitmap, __ATOMIC_ACQUIRE)) {
        fresh = kobj_alloc(&p->acct, IO_BITMAP_BYTES);
        if (!fresh)
            return ERR_NO_MEMORY;
        memset(fresh, 0xFF, IO_BITMAP_BYTES);
    }
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    if (!p->io_bitmap) {
        __atomic_store_n(&p->io_bitmap, fresh, __ATOMIC_RELEASE);
        fresh = NULL;
    }
    uint8_t *map = p->io_bitmap;
    bool console_before = console_ports_in(map);
    for (uint32_t port = base; port < base + count; port++)
        __atomic_and_fetch(&map[port / 8], (uint8_t)~(1u << (port % 8)),
                           __ATOMIC_RELAXED);
    __atomic_store_n(&p->io_gen,
                     __atomic_fetch_add(&next_gen, 1, __ATOMIC_RELAXED),
                     __ATOMIC_RELEASE);
    bool claim = !console_before && console_ports_in(map);
    spin_unlock_irqrestore(&p->obj.lock, f);
    if (fresh)
        kobj_free(&p->acct, fresh, IO_BITMAP_BYTES);
    if (claim)
        console_claim(p);               /* the log leaves COM1 */
    /* the caller's own CPU sees it at once */
    irqflags_t g = arch_irq_save();
    struct thread *me = this_cpu()->current;
    if (me && me->proc == p)
        io_refresh(p);
    arch_irq_restore(g);
    return 0;
}

void arch_io_release(struct process *p)
{
    uint8_t *map = p->io_bitmap;
    if (!map)
        return;
    p->io_bitmap = NULL;
    if (console_ports_in(map))
        console_unclaim(p);             /* COM1 may come back to the log */
    kobj_free(&p->acct, map, IO_BITMAP_BYTES);
}
