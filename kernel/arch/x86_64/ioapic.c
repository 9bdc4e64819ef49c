/*
 * ioapic.c - the I/O APICs: routing global system interrupts (GSIs).
 *
 * Each IOAPIC covers the GSIs from its base for as many lines as its
 * version register says.  At boot every line is masked; drivers' lines
 * are routed later (user-space interrupt objects build on ioapic_route).
 * The indirect register window (select, then data) is shared by all
 * CPUs, so one lock covers every IOAPIC.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/paging.h"
#include "log.h"
#include "mica/errors.h"
#include "spinlock.h"

struct ioapic {
    volatile uint32_t *regs;
    uint32_t gsi_base;
    unsigned lines;
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static unsigned nioapic;
static spinlock_t ioapic_lock = SPINLOCK_INIT;

static uint32_t io_rd(struct ioapic *io, uint32_t reg)
{
    io->regs[0] = reg;
    return io->regs[4];
}

static void io_wr(struct ioapic *io, uint32_t reg, uint32_t v)
{
    io->regs[0] = reg;
    io->regs[4] = v;
}

void ioapic_init(const struct acpi_info *ai)
{
    for (unsigned i = 0; i < ai->nioapics; i++) {
        struct ioapic *io = &ioapics[nioapic];
        io->regs = mmio_map(ai->ioapics[i].addr, 0x20);
        if (!io->regs) {
            kprintf("ioapic: cannot map %#lx\n", ai->ioapics[i].addr);
            continue;
        }
        io->gsi_base = ai->ioapics[i].gsi_base;
        io->lines = ((io_rd(io, 1) >> 16) & 0xFF) + 1;
        for (unsigned l = 0; l < io->lines; l++) {
            io_wr(io, 0x10 + 2 * l, 1u << 16);  /* masked */
            io_wr(io, 0x11 + 2 * l, 0);
        }
        kprintf("ioapic: id %u at %#lx, GSIs %u-%u\n", ai->ioapics[i].id,
                ai->ioapics[i].addr, io->gsi_base, io->gsi_base + io->lines - 1);
        nioapic++;
    }
}

static struct ioapic *find(uint32_t gsi)
{
    for (unsigned i = 0; i < nioapic; i++)
        if (gsi >= ioapics[i].gsi_base &&
            gsi < ioapics[i].gsi_base + ioapics[i].lines)
            return &ioapics[i];
    return NULL;
}

static int route(uint32_t gsi, uint8_t vector, uint32_t apic_id,
                 uint16_t flags, bool masked)
{
    struct ioapic *io = find(gsi);
    if (!io)
        return ERR_NOT_FOUND;
    uint32_t lo = vector;
    if ((flags & 3) == 3)
        lo |= 1u << 13;                 /* active low */
    if (((flags >> 2) & 3) == 3)
        lo |= 1u << 15;                 /* level triggered */
    if (masked)
        lo |= 1u << 16;
    unsigned l = gsi - io->gsi_base;
    irqflags_t f = spin_lock_irqsave(&ioapic_lock);
    io_wr(io, 0x11 + 2 * l, apic_id << 24);
    io_wr(io, 0x10 + 2 * l, lo);
    spin_unlock_irqrestore(&ioapic_lock, f);
    return 0;
}

int ioapic_route(uint32_t gsi, uint8_t vector, uint32_t apic_id,
                 uint16_t flags)
{
    return route(gsi, vector, apic_id, flags, false);
}

int ioapic_route_masked(uint32_t gsi, uint8_t vector, uint32_t apic_id,
                        uint16_t flags)
{
    return route(gsi, vector, apic_id, flags, true);
}

int ioapic_mask(uint32_t gsi, bool masked)
{
    struct ioapic *io = find(gsi);
    if (!io)
        return ERR_NOT_FOUND;
    unsigned l = gsi - io->gsi_base;
    irqflags_t f = spin_lock_irqsave(&ioapic_lock);
    uint32_t lo = io_rd(io, 0x10 + 2 * l);
    io_wr(io, 0x10 + 2 * l, masked ? lo | (1u << 16) : lo & ~(1u << 16));
    spin_unlock_irqrestore(&ioapic_lock, f);
    return 0;
}

unsigned ioapic_lines(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < nioapic; i++)
        n += ioapics[i].lines;
    return n;
}
