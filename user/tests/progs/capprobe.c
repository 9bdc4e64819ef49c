/*
 * capprobe.c - a program that reports what capabilities it was started
 * with, for user/tests/test_services.c (not a suite of its own: it goes
 * into the bootfs as bin/capprobe).
 *
 * It is started like any program of the manifest, from a line the test
 * writes.  It receives its capabilities (caps.h), checks each handle is
 * of the kind its token says and works as the token says (ports it can
 * enable and use, the interrupt of a loopback UART on those ports, a
 * device memory page it can read, a resource it can make objects from,
 * but not beyond its range), checks it holds no resource and cannot
 * make a device object without one, and sends all that as one struct
 * probe_report on its startup channel.  Then it waits for a command:
 * exit, or touch a port or memory it was not given (which must kill
 * it, and only it).
 */
#include <string.h>

#include "capprobe.h"
#include "caps.h"
#include "pci.h"
#include "svc_client.h"

#define SEC 1000000000ull
#define HPET_BASE 0xfed00000ull     /* some device page, for the checks */

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static uint64_t now_ns(void)
{
    uint64_t t;
    mica_clock_get(&t);
    return t;
}

/* The UART's scratch register keeps what is written to it. */
static int use_ports(const struct manifest_cap *c)
{
    uint16_t scratch = (uint16_t)(c->base + 7);
    if (c->size < 8)
        return OK;
    outb(scratch, 0x5a);
    if (inb(scratch) != 0x5a)
        return ERR_BAD_STATE;
    outb(scratch, 0xa5);
    return inb(scratch) == 0xa5 ? OK : ERR_BAD_STATE;
}

/* A byte through the UART at `port` in loopback raises the interrupt:
 * wait, check the device, clear it, ACK. */
static int use_irq(mica_handle_t irq, uint16_t port)
{
    struct mica_irq_info info;
    int err = mica_interrupt_info(irq, &info);
    if (err)
        return err;
    outb(port + 1, 0);                  /* no interrupts while set up */
    outb(port + 3, 0x80);
    outb(port + 0, 1);                  /* divisor 1 */
    outb(port + 1, 0);
    outb(port + 3, 0x03);               /* 8N1 */
    outb(port + 2, 0);                  /* no FIFOs */
    outb(port + 4, 0x18);               /* loopback, OUT2 */
    while (inb(port + 5) & 1)
        inb(port);
    outb(port + 1, 0x01);               /* receive interrupts */
    outb(port, 0x77);
    uint64_t seq = 0;
    err = mica_interrupt_wait(irq, info.seq, now_ns() + 30 * SEC, &seq);
    if (!err) {
        bool mine = inb(port + 5) & 1;  /* data ready: our interrupt */
        uint8_t b = mine ? inb(port) : 0;
        err = mine ? mica_interrupt_ack(irq, seq)
                   : mica_interrupt_nak(irq, seq);
        if (!err && b != 0x77)
            err = ERR_BAD_STATE;
    }
    outb(port + 1, 0);
    outb(port + 4, 0);
    return err;
}

static void check_mmio(mica_handle_t h, const struct manifest_cap *c,
                       struct probe_cap *r)
{
    uint64_t size = 0, addr = 0, far = 0;
    r->kind_ok = mica_vmo_get_size(h, &size);
    if (!r->kind_ok && size != c->size)
        r->kind_ok = ERR_BAD_STATE;
    r->use = mica_vm_map(mica_process_self(), h, 0, 4096, MICA_VM_READ,
                         &addr);
    if (!r->use) {
        r->value = *(volatile uint64_t *)addr;
        mica_vm_unmap(mica_process_self(), addr, 4096);
    }
    r->outside = mica_vm_map(mica_process_self(), h, c->size, 4096,
                             MICA_VM_READ, &far);
}

/* Make one object of the resource's kind at `base` (closed again). */
static int use_resource(mica_handle_t h, uint32_t kind, uint64_t base,
                        uint64_t size)
{
    mica_handle_t o;
    uint64_t pa;
    int err;
    switch (kind) {
    case MICA_RESOURCE_IRQ:
        err = mica_interrupt_create(h, (uint32_t)base,
                                    MICA_IRQ_LEVEL | MICA_IRQ_LOW, &o, NULL);
        break;
    case MICA_RESOURCE_IOPORT:
        err = mica_ioport_create(h, (uint32_t)base, (uint32_t)size, &o);
        break;
    case MICA_RESOURCE_MMIO:
        err = mica_vmo_create_physical(h, base, 4096, MICA_CACHE_UNCACHED, &o);
        break;
    case MICA_RESOURCE_CRITICAL:        /* a budget: give it to a thread */
        err = mica_thread_create(mica_process_self(), "budget", 6, &o);
        if (!err) {
            err = mica_thread_set_critical_budget(o, h);
            mica_handle_close(o);
        }
        return err;
    default:
        err = mica_vmo_create_contiguous(h, 4096, &o, &pa);
    }
    if (!err)
        mica_handle_close(o);
    return err;
}

static void check_resource(mica_handle_t h, const struct manifest_cap *c,
                           struct probe_cap *r)
{
    mica_handle_t sub;
    r->kind_ok = mica_resource_create(h, c->res_kind, c->base, 1, &sub);
    if (!r->kind_ok)
        mica_handle_close(sub);
    r->use = use_resource(h, c->res_kind, c->base, c->size);
    if (c->res_kind == MICA_RESOURCE_CRITICAL)  /* [0, ns): a longer one */
        r->outside = mica_resource_create(h, c->res_kind, 0, c->size + 1,
                                          &sub);
    else
        r->outside = mica_resource_create(h, c->res_kind, c->base + c->size,
                                          1, &sub);
    if (!r->outside)
        mica_handle_close(sub);
}

static void check_cap(unsigned i, struct probe_report *rep)
{
    struct manifest_cap c, io;
    struct probe_cap *r = &rep->cap[i];
    mica_handle_t h = mica_caps_handle(i);
    struct pci_info pi;
    struct mica_irq_info ii;
    char err[8];
    if (manifest_cap_parse(mica_caps_token(i), &c, err, sizeof(err))) {
        r->kind_ok = ERR_INVALID_ARGS;
        return;
    }
    switch (c.kind) {
    case CAP_IOPORT:
        if ((r->kind_ok = mica_ioport_enable(h)) == OK)
            r->use = use_ports(&c);
        break;
    case CAP_IRQ:
        if ((r->kind_ok = mica_interrupt_info(h, &ii)) == OK)
            r->value = ii.number;
        if (mica_cap_decode("ioport", 0, &io) == 0 &&
            mica_ioport_enable(mica_cap("ioport", 0)) == OK)
            r->use = use_irq(h, (uint16_t)io.base);
        break;
    case CAP_MMIO:
        check_mmio(h, &c, r);
        break;
    case CAP_RESOURCE:
        check_resource(h, &c, r);
        break;
    case CAP_PCI:
        if ((r->kind_ok = pci_info(h, 0, &pi, NULL, 0, NULL)) == OK)
            r->value = (uint64_t)pi.vendor << 16 | pi.device;
        break;
    case CAP_SVC:       /* the name service answers: no such name */
        r->kind_ok = svc_connect(h, "capprobe-none", NULL, 0, &h, NULL, 0) ==
                             ERR_NOT_FOUND
                         ? OK
                         : ERR_BAD_STATE;
        break;
    case CAP_SERVE:     /* a channel whose other end lives */
        r->kind_ok = mica_object_wait_one(h, SIGNAL_PEER_CLOSED, 1, NULL) ==
                             ERR_TIMED_OUT
                         ? OK
                         : ERR_BAD_STATE;
        break;
    }
}

/* Every way to make a device object, with the resource handle h. */
static void make_objects(mica_handle_t h, int32_t out[5])
{
    mica_handle_t o;
    uint64_t pa;
    out[0] = mica_resource_create(h, MICA_RESOURCE_IOPORT, 0x2f8, 8, &o);
    out[1] = mica_ioport_create(h, 0x2f8, 8, &o);
    out[2] = mica_interrupt_create(h, 3, MICA_IRQ_ISA, &o, NULL);
    out[3] = mica_vmo_create_physical(h, HPET_BASE, 4096,
                                      MICA_CACHE_UNCACHED, &o);
    out[4] = mica_vmo_create_contiguous(h, 4096, &o, &pa);
}

static void report(struct probe_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    rep->caps = mica_caps_init();
    rep->ncaps = mica_caps_count();
    size_t len = 0;
    for (unsigned i = 0; i < rep->ncaps && i < PROBE_MAX_CAPS; i++) {
        size_t tl = strlen(mica_caps_token(i)) + 1;
        if (len + tl <= sizeof(rep->tokens))
            memcpy(rep->tokens + len, mica_caps_token(i), tl);
        len += tl;
        check_cap(i, rep);
    }
    rep->resource = mica_resource_handle();
    rep->log = mica_debug_write("", 0);
    make_objects(0, rep->no_resource);
    make_objects(mica_process_self(), rep->not_resource);
}

int main(void)
{
    static struct probe_report rep;
    mica_handle_t ch = mica_startup_handle();
    char cmd[16] = "";
    report(&rep);
    if (mica_channel_write(ch, &rep, sizeof(rep), NULL, 0))
        return 2;
    struct mica_msg_buf in = { .bytes = cmd, .bytes_cap = sizeof(cmd) - 1 };
    if (mica_object_wait_one(ch, SIGNAL_READABLE | SIGNAL_PEER_CLOSED, 0,
                             NULL) ||
        mica_channel_read(ch, &in))
        return 3;
    cmd[in.actual_bytes] = 0;
    if (strcmp(cmd, PROBE_STRAY_PORT) == 0)
        inb(0x2f0);                     /* not ours: #GP kills us */
    if (strcmp(cmd, PROBE_STRAY_MEM) == 0)
        (void)*(volatile uint64_t *)0x7000deadb000ull;  /* nothing there */
    return strcmp(cmd, PROBE_EXIT) == 0 ? 0 : 4;
}
