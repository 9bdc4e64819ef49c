/*
 * syscall_device.c - the system calls of resources and interrupts.
 *
 * Rights: carving a resource and making a device object from one need
 * RIGHT_MANAGE on it.  On an interrupt, waiting needs RIGHT_WAIT,
 * answering and binding to a port RIGHT_WRITE (and RIGHT_WRITE on the
 * port), reading the counters RIGHT_READ.  Enabling an ioport for the
 * calling process needs RIGHT_WRITE on it.  Device memory (physical and
 * contiguous vmos) is never RAM handed out by address: a physical vmo
 * must not overlap RAM, and a contiguous one is fresh zeroed RAM.  Objects made here are
 * charged to the calling process's kernel memory account.
 */
#include "interrupt.h"
#include "ioport.h"
#include "lib.h"
#include "mica/device.h"
#include "mica/errors.h"
#include "process.h"
#include "resource.h"
#include "syscall_impl.h"
#include "uaccess.h"
#include "vm.h"
#include "bootinfo.h"

#define RESOURCE_RIGHTS  (RIGHTS_BASIC | RIGHT_MANAGE)
#define INTERRUPT_RIGHTS (RIGHTS_BASIC | RIGHTS_IO)
#define IOPORT_RIGHTS    (RIGHTS_BASIC | RIGHTS_IO)
#define DEVMEM_RIGHTS    (RIGHTS_BASIC | RIGHTS_IO | RIGHT_MAP)

#define IRQ_MODE_BITS (MICA_IRQ_EDGE | MICA_IRQ_LEVEL | MICA_IRQ_HIGH | \
                       MICA_IRQ_LOW)

static int get_resource(uint64_t h, struct resource **r)
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_RESOURCE, RIGHT_MANAGE, &o);
    *r = err ? NULL : container_of(o, struct resource, obj);
    return err;
}

static int get_interrupt(uint64_t h, mica_rights_t need,
                         struct interrupt **in)
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_INTERRUPT, need, &o);
    *in = err ? NULL : container_of(o, struct interrupt, obj);
    return err;
}

int64_t sys_resource_create(uint64_t ph, uint64_t kind, uint64_t base,
                            uint64_t size, uint64_t uout, uint64_t a5)
{
    UNUSED_ARGS(a5);
    if (!user_range_ok(uout, sizeof(mica_handle_t)))
        return ERR_FAULT;
    struct resource *parent, *r;
    int err = get_resource(ph, &parent);
    if (err)
        return err;
    err = resource_create(parent, (uint32_t)kind, base, size,
                          &process_current()->acct, &r);
    object_unref(&parent->obj);
    return err ? err : give(&r->obj, RESOURCE_RIGHTS, uout);
}

/* The GSI and mode `number` and `options` name. */
static int irq_target(uint64_t number, uint64_t options, uint32_t *gsi,
                      bool *level, bool *low)
{
    if (options & ~(uint64_t)(MICA_IRQ_ISA | MICA_IRQ_MSI | IRQ_MODE_BITS))
        return ERR_INVALID_ARGS;
    if (options & MICA_IRQ_MSI) {
        if (options != MICA_IRQ_MSI)
            return ERR_INVALID_ARGS;
        if (number != MICA_IRQ_MSI_NUMBER)
            return ERR_OUT_OF_RANGE;
        *gsi = MICA_IRQ_MSI_NUMBER;
        *level = *low = false;
        return 0;
    }
    if (options & MICA_IRQ_ISA) {
        if (options & IRQ_MODE_BITS)
            return ERR_INVALID_ARGS;
        return arch_irq_isa(number < 16 ? (unsigned)number : 16, gsi, level,
                            low);
    }
    bool edge = options & MICA_IRQ_EDGE, high = options & MICA_IRQ_HIGH;
    *level = options & MICA_IRQ_LEVEL;
    *low = options & MICA_IRQ_LOW;
    if (edge == *level || high == *low)
        return ERR_INVALID_ARGS;
    if (number >= IRQ_MAX_GSI)
        return ERR_OUT_OF_RANGE;
    *gsi = (uint32_t)number;
    return 0;
}

int64_t sys_interrupt_create(uint64_t rh, uint64_t number, uint64_t options,
                             uint64_t uout, uint64_t upending, uint64_t a5)
{
    UNUSED_ARGS(a5);
    uint32_t gsi;
    bool level, low, pending;
    int err = irq_target(number, options, &gsi, &level, &low);
    if (err)
        return err;
    if (!user_range_ok(uout, sizeof(mica_handle_t)) ||
        (upending && !user_range_ok(upending, sizeof(uint32_t))))
        return ERR_FAULT;
    struct resource *r;
    if ((err = get_resource(rh, &r)))
        return err;
    bool ok = resource_covers(r, MICA_RESOURCE_IRQ, gsi, 1);
    object_unref(&r->obj);
    if (!ok)
        return ERR_ACCESS_DENIED;
    struct irq_hw *hw;
    err = gsi == MICA_IRQ_MSI_NUMBER ? irq_msi_alloc(&hw)
                                     : irq_hw_get(gsi, level, low, &hw);
    if (err)
        return err;
    struct process *me = process_current();
    struct interrupt *in;
    if ((err = interrupt_create(hw, me->name, &me->acct, &in, &pending))) {
        if (hw->msi)
            irq_msi_free(hw);
        return err;
    }
    uint32_t p = pending;
    if (upending && copy_to_user(upending, &p, sizeof(p))) {
        object_unref(&in->obj);
        return ERR_FAULT;
    }
    return give(&in->obj, INTERRUPT_RIGHTS, uout);
}

int64_t sys_interrupt_wait(uint64_t h, uint64_t last_seq, uint64_t deadline,
                           uint64_t useq, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    if (!user_range_ok(useq, sizeof(uint64_t)))
        return ERR_FAULT;
    struct interrupt *in;
    int err = get_interrupt(h, RIGHT_WAIT, &in);
    if (err)
        return err;
    uint64_t seq;
    err = interrupt_wait(in, last_seq, deadline, process_current()->name,
                         &seq);
    object_unref(&in->obj);
    if (!err && copy_to_user(useq, &seq, sizeof(seq)))
        err = ERR_FAULT;
    return err;
}

static int64_t answer(uint64_t h, uint64_t seq, bool ack)
{
    struct interrupt *in;
    int err = get_interrupt(h, RIGHT_WRITE, &in);
    if (err)
        return err;
    const char *who = process_current()->name;
    err = ack ? interrupt_ack(in, seq, who) : interrupt_nak(in, seq, who);
    object_unref(&in->obj);
    return err;
}

int64_t sys_interrupt_ack(uint64_t h, uint64_t seq, uint64_t a2, uint64_t a3,
                          uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    return answer(h, seq, true);
}

int64_t sys_interrupt_nak(uint64_t h, uint64_t seq, uint64_t a2, uint64_t a3,
                          uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    return answer(h, seq, false);
}

int64_t sys_interrupt_set_port(uint64_t h, uint64_t ph, uint64_t key,
                               uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    struct interrupt *in;
    struct object *po = NULL;
    int err = get_interrupt(h, RIGHT_WRITE, &in);
    if (err)
        return err;
    if ((mica_handle_t)ph != HANDLE_INVALID)
        err = get((mica_handle_t)ph, OBJ_PORT, RIGHT_WRITE, &po);
    if (!err)
        err = interrupt_set_port(in, po ? container_of(po, struct port, obj)
                                        : NULL, key);
    if (po)
        object_unref(po);
    object_unref(&in->obj);
    return err;
}

int64_t sys_interrupt_info(uint64_t h, uint64_t uinfo, uint64_t a2,
                           uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct interrupt *in;
    int err = get_interrupt(h, RIGHT_READ, &in);
    if (err)
        return err;
    struct mica_irq_info info;
    interrupt_info(in, &info);
    object_unref(&in->obj);
    return copy_to_user(uinfo, &info, sizeof(info)) ? ERR_FAULT : 0;
}

int64_t sys_ioport_create(uint64_t rh, uint64_t base, uint64_t count,
                          uint64_t uout, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    if (!user_range_ok(uout, sizeof(mica_handle_t)))
        return ERR_FAULT;
    struct resource *r;
    int err = get_resource(rh, &r);
    if (err)
        return err;
    bool ok = count == 0 || base + count < base ||
              resource_covers(r, MICA_RESOURCE_IOPORT, base, count);
    object_unref(&r->obj);
    if (!ok)
        return ERR_ACCESS_DENIED;
    struct ioport *io;
    if ((err = ioport_create(base, count, &process_current()->acct, &io)))
        return err;
    return give(&io->obj, IOPORT_RIGHTS, uout);
}

int64_t sys_ioport_enable(uint64_t h, uint64_t a1, uint64_t a2, uint64_t a3,
                          uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_IOPORT, RIGHT_WRITE, &o);
    if (err)
        return err;
    struct ioport *io = container_of(o, struct ioport, obj);
    err = arch_io_allow(process_current(), io->base, io->count);
    object_unref(o);
    return err;
}

int64_t sys_vmo_create_physical(uint64_t rh, uint64_t base, uint64_t size,
                                uint64_t cache, uint64_t uout, uint64_t a5)
{
    UNUSED_ARGS(a5);
    if (size == 0 || (base | size) & PAGE_MASK || base + size < base ||
        (cache != MICA_CACHE_UNCACHED && cache != MICA_CACHE_WRITE_COMBINING))
        return ERR_INVALID_ARGS;
    if (!user_range_ok(uout, sizeof(mica_handle_t)))
        return ERR_FAULT;
    struct resource *r;
    int err = get_resource(rh, &r);
    if (err)
        return err;
    bool ok = resource_covers(r, MICA_RESOURCE_MMIO, base, size);
    object_unref(&r->obj);
    if (!ok || memmap_overlaps(&bootinfo.ram, base, base + size))
        return ERR_ACCESS_DENIED;
    struct vmo *v;
    err = vmo_create_physical(base, size, cache == MICA_CACHE_UNCACHED ?
                              VMO_CACHE_UC : VMO_CACHE_WC,
                              &process_current()->acct, &v);
    return err ? err : give(&v->obj, DEVMEM_RIGHTS, uout);
}

int64_t sys_vmo_create_contiguous(uint64_t rh, uint64_t size, uint64_t uout,
                                  uint64_t upaddr, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    if (!user_range_ok(uout, sizeof(mica_handle_t)) ||
        !user_range_ok(upaddr, sizeof(uint64_t)))
        return ERR_FAULT;
    struct resource *r;
    int err = get_resource(rh, &r);
    if (err)
        return err;
    struct vmo *v = NULL;
    if (r->kind != MICA_RESOURCE_ROOT && r->kind != MICA_RESOURCE_DMA)
        err = ERR_ACCESS_DENIED;
    else
        err = vmo_create_contiguous(size, &process_current()->acct, &v);
    if (!err && !resource_covers(r, MICA_RESOURCE_DMA, v->phys, v->size))
        err = ERR_NO_MEMORY;            /* not where the device can reach */
    object_unref(&r->obj);
    if (!err && copy_to_user(upaddr, &v->phys, sizeof(v->phys)))
        err = ERR_FAULT;
    if (err) {
        if (v)
            object_unref(&v->obj);
        return err;
    }
    return give(&v->obj, DEVMEM_RIGHTS, uout);
}

/* What the firmware says that drivers need: the PCI Express
 * configuration windows.  Needs no handle: it grants nothing (mapping a
 * window still takes an mmio resource). */
int64_t sys_platform_info(uint64_t uout, uint64_t a1, uint64_t a2,
                          uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    struct mica_platform_info info;
    memset(&info, 0, sizeof(info));
    info.necam = arch_pci_ecam(info.ecam, MICA_PLATFORM_MAX_ECAM);
    return copy_to_user(uout, &info, sizeof(info));
}
