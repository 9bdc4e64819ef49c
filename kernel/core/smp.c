/*
 * smp.c - cross-CPU function calls.
 *
 * One call is in flight at a time: the caller publishes fn/arg, counts
 * the CPUs that must answer, sends the IPI and spins until the count
 * drops to zero.  Each CPU's handler runs the function and decrements.
 */
#include "smp.h"
#include "arch.h"
#include "panic.h"
#include "percpu.h"
#include "spinlock.h"

static spinlock_t call_lock = SPINLOCK_INIT;
static void (*call_fn)(void *);
static void *call_arg;
static volatile unsigned call_pending;

struct percpu *cpus[MAX_CPUS];
unsigned ncpus;

static unsigned online_count;

void cpu_set_online(struct percpu *c)
{
    __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
    __atomic_add_fetch(&online_count, 1, __ATOMIC_ACQ_REL);
}

unsigned cpus_online(void)
{
    return __atomic_load_n(&online_count, __ATOMIC_ACQUIRE);
}

void smp_call_mask(uint64_t mask, void (*fn)(void *), void *arg)
{
    struct percpu *me = this_cpu();
    mask &= ~(1ull << me->id);
    unsigned n = 0;
    for (unsigned i = 0; i < ncpus; i++)
        if (!(mask & (1ull << i)) || !cpus[i]->online)
            mask &= ~(1ull << i);
        else
            n++;
    if (n == 0)
        return;
    KASSERT(arch_irq_enabled());
    spin_lock(&call_lock);
    call_fn = fn;
    call_arg = arg;
    __atomic_store_n(&call_pending, n, __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < ncpus; i++)
        if (mask & (1ull << i))
            arch_send_call_ipi(i);
    while (__atomic_load_n(&call_pending, __ATOMIC_ACQUIRE))
        arch_cpu_relax();
    spin_unlock(&call_lock);
}

void smp_call_all(void (*fn)(void *), void *arg)
{
    smp_call_mask(~0ull, fn, arg);
}

void smp_call_handle(void)
{
    call_fn(call_arg);
    __atomic_sub_fetch(&call_pending, 1, __ATOMIC_RELEASE);
}
