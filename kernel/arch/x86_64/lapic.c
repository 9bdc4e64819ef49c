/*
 * lapic.c - the local APIC of each CPU: EOI, IPIs, the timer.
 *
 * Registers are reached through an uncached mapping made once; every CPU
 * sees its own APIC at the same address.  The timer is one-shot: the
 * scheduler arms it for its next event only (no periodic tick), in
 * TSC-deadline mode when the CPU has it and by LAPIC count otherwise (QEMU
 * TCG has no TSC-deadline).  Both frequencies are measured against the
 * PIT once, on the boot CPU.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"
#include "clock.h"
#include "log.h"
#include "panic.h"
#include "percpu.h"
#include "sched.h"

#define LAPIC_ID        0x020
#define LAPIC_EOI       0x0B0
#define LAPIC_SVR       0x0F0
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0

#define LVT_MASKED      (1u << 16)
#define LVT_PERIODIC    (1u << 17)
#define LVT_TSC_DEADLINE (2u << 17)

static volatile uint32_t *lapic;
static uint64_t tsc_hz, lapic_hz;
static bool tsc_deadline;
static struct clock_scale ns_to_lapic;   /* ns -> LAPIC timer counts */

static inline uint32_t rd(unsigned reg) { return lapic[reg / 4]; }
static inline void wr(unsigned reg, uint32_t v) { lapic[reg / 4] = v; }

void lapic_init(paddr_t base)
{
    lapic = mmio_map(base, PAGE_SIZE);
    if (!lapic)
        panic("lapic: cannot map %#lx", base);
    uint32_t r[4];
    cpuid(1, 0, r);
    tsc_deadline = r[2] & (1u << 24);
}

void lapic_init_cpu(void)
{
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 11));
    wr(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
    wr(LAPIC_LVT_LINT0, LVT_MASKED);
    wr(LAPIC_LVT_LINT1, LVT_MASKED);
    wr(LAPIC_LVT_ERROR, VEC_APIC_ERROR);
    wr(LAPIC_ESR, 0);
    wr(LAPIC_ESR, 0);
    wr(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
    return rd(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
    wr(LAPIC_EOI, 0);
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    irqflags_t f = arch_irq_save();
    wr(LAPIC_ICR_HI, apic_id << 24);
    wr(LAPIC_ICR_LO, icr_low);
    while (rd(LAPIC_ICR_LO) & (1u << 12))       /* delivery pending */
        arch_cpu_relax();
    arch_irq_restore(f);
}

uint64_t arch_timestamp_hz(void)
{
    return tsc_hz;
}

uint64_t lapic_timer_hz(void)
{
    return lapic_hz;
}

bool timer_uses_tsc_deadline(void)
{
    return tsc_deadline;
}

/* PIT channel 2, gated through port 0x61, counts down `ticks` of
 * 1.193182 MHz; returns when its output goes high. */
static void pit_wait_ticks(uint16_t ticks)
{
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);     /* gate on, speaker off */
    outb(0x43, 0xB0);                           /* ch2, lo/hi, mode 0 */
    outb(0x42, ticks & 0xFF);
    outb(0x42, ticks >> 8);
    while (!(inb(0x61) & 0x20))
        arch_cpu_relax();
}

void timer_calibrate(void)
{
    const uint16_t ticks = 11932;               /* 10 ms */
    wr(LAPIC_TIMER_DIV, 0x3);                   /* divide by 16 */
    wr(LAPIC_LVT_TIMER, LVT_MASKED);
    wr(LAPIC_TIMER_INIT, 0xFFFFFFFF);
    uint64_t t0 = rdtsc();
    pit_wait_ticks(ticks);
    uint64_t t1 = rdtsc();
    uint32_t left = rd(LAPIC_TIMER_CUR);
    wr(LAPIC_TIMER_INIT, 0);
    tsc_hz = (t1 - t0) * 1193182 / ticks;
    lapic_hz = (uint64_t)(0xFFFFFFFFu - left) * 1193182 / ticks;
    clock_init(tsc_hz);
    clock_scale_init(&ns_to_lapic, 1000000000, lapic_hz);
    kprintf("timer: TSC %lu.%03lu MHz, LAPIC timer %lu kHz%s\n",
            tsc_hz / 1000000, tsc_hz / 1000 % 1000, lapic_hz / 1000,
            tsc_deadline ? ", TSC-deadline mode" : "");
}

static void tick(struct trap_frame *tf)
{
    (void)tf;
    this_cpu()->ticks++;
    lapic_eoi();
    sched_timer_event();
}

static void resched(struct trap_frame *tf)
{
    (void)tf;
    struct percpu *c = this_cpu();
    if (c->sched)
        c->sched->need_resched = true;
    lapic_eoi();
}

/* The timer interrupts once, at deadline_ns (clock_ns); 0 stops it. */
void lapic_timer_oneshot(uint64_t deadline_ns, uint64_t now_ns)
{
    if (tsc_deadline) {
        wrmsr(MSR_TSC_DEADLINE, deadline_ns ? clock_ns_to_ticks(deadline_ns) : 0);
        return;
    }
    if (!deadline_ns) {
        wr(LAPIC_TIMER_INIT, 0);
        return;
    }
    uint64_t delta = deadline_ns > now_ns ? deadline_ns - now_ns : 1000;
    uint64_t count = clock_scale_apply(&ns_to_lapic, delta);
    if (count == 0)
        count = 1;
    if (count > 0xFFFFFFFFu)
        count = 0xFFFFFFFFu;            /* re-armed when it fires early */
    wr(LAPIC_TIMER_INIT, (uint32_t)count);
}

void timer_start_cpu(void)
{
    trap_set_handler(VEC_TIMER, tick);
    trap_set_handler(VEC_RESCHED, resched);
    if (tsc_deadline) {
        wr(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | VEC_TIMER);
        return;
    }
    wr(LAPIC_TIMER_DIV, 0x3);
    wr(LAPIC_LVT_TIMER, VEC_TIMER);             /* one-shot */
    wr(LAPIC_TIMER_INIT, 0);
}

void udelay(uint64_t us)
{
    if (!tsc_hz) {
        while (us > 0) {
            uint64_t chunk = MIN(us, (uint64_t)50000);
            pit_wait_ticks((uint16_t)(chunk * 1193182 / 1000000 + 1));
            us -= chunk;
        }
        return;
    }
    uint64_t end = rdtsc() + us * tsc_hz / 1000000;
    while (rdtsc() < end)
        arch_cpu_relax();
}

void pit_oneshot(uint32_t us)
{
    uint32_t t = (uint32_t)((uint64_t)us * 1193182 / 1000000);
    if (t > 0xFFFF)
        t = 0xFFFF;
    outb(0x43, 0x30);                           /* ch0, lo/hi, mode 0 */
    outb(0x40, t & 0xFF);
    outb(0x40, (t >> 8) & 0xFF);
}
