/*
 * test_pci.c - host tests of the pci server's portable parts
 * (user/servers/pci: enum.c, msi.c, policy.c, list.c) against a fake
 * configuration space.
 *
 * The fake holds a few functions, each 256 bytes of registers, and
 * behaves as hardware does where it matters: absent functions read all
 * ones, a BAR keeps only the address bits its size allows and its type
 * bits are read-only, an I/O BAR may decode only 16 bits.  It checks
 * that nobody writes all ones to a BAR while the function decodes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <mica/errors.h>

#include "ecam.h"
#include "enum.h"
#include "list.h"
#include "msi.h"
#include "policy.h"

struct fake_fn {
    struct pci_addr a;
    uint8_t r[256];
    uint64_t bar_size[6];       /* 0: the device has no such BAR */
    bool io16;                  /* I/O BARs decode 16 bits */
};

static struct fake_fn fns[16];
static unsigned nfns;
static unsigned probes_while_decoding, reads;

static struct fake_fn *find(struct pci_addr a)
{
    for (unsigned i = 0; i < nfns; i++)
        if (fns[i].a.bus == a.bus && fns[i].a.dev == a.dev &&
            fns[i].a.fn == a.fn)
            return &fns[i];
    return NULL;
}

static uint32_t get(const uint8_t *r, unsigned off, unsigned w)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < w; i++)
        v |= (uint32_t)r[off + i] << (8 * i);
    return v;
}

static void put(uint8_t *r, unsigned off, unsigned w, uint32_t v)
{
    for (unsigned i = 0; i < w; i++)
        r[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t f_read(void *ctx, struct pci_addr a, unsigned off,
                       unsigned w)
{
    (void)ctx;
    reads++;
    assert_true(off % w == 0 && off + w <= 256);
    struct fake_fn *f = find(a);
    if (!f)
        return w == 4 ? 0xffffffffu : (1u << (8 * w)) - 1;
    return get(f->r, off, w);
}

/* A BAR register keeps the bits its size allows; type bits stay. */
static uint32_t bar_value(struct fake_fn *f, unsigned i, uint32_t v)
{
    uint32_t cur = get(f->r, PCI_BAR0 + 4 * i, 4);
    if (i > 0 && f->bar_size[i] == 0 && (get(f->r, PCI_BAR0 + 4 * (i - 1), 4)
                                         & 7) == 4) {
        uint64_t mask = ~(f->bar_size[i - 1] - 1);    /* upper half */
        return v & (uint32_t)(mask >> 32);
    }
    if (f->bar_size[i] == 0)
        return 0;
    if (cur & 1) {
        uint32_t m = ~(uint32_t)(f->bar_size[i] - 1) & ~3u;
        if (f->io16)
            m &= 0xffff;
        return (v & m) | 1;
    }
    return (v & ~(uint32_t)(f->bar_size[i] - 1) & ~0xfu) | (cur & 0xf);
}

static void f_write(void *ctx, struct pci_addr a, unsigned off, unsigned w,
                    uint32_t v)
{
    (void)ctx;
    assert_true(off % w == 0 && off + w <= 256);
    struct fake_fn *f = find(a);
    if (!f)
        return;
    if (off >= PCI_BAR0 && off < PCI_BAR0 + 24 && w == 4) {
        unsigned i = (off - PCI_BAR0) / 4;
        if (v == 0xffffffffu && (get(f->r, PCI_COMMAND, 2) & 3))
            probes_while_decoding++;
        v = bar_value(f, i, v);
    }
    put(f->r, off, w, v);
}

static const struct pci_config fake = { f_read, f_write, NULL, 256 };

static struct fake_fn *add(uint8_t bus, uint8_t dev, uint8_t fn,
                           uint16_t vendor, uint16_t device, uint32_t class,
                           uint8_t header)
{
    struct fake_fn *f = &fns[nfns++];
    memset(f, 0, sizeof(*f));
    f->a = (struct pci_addr){ bus, dev, fn };
    put(f->r, PCI_VENDOR, 2, vendor);
    put(f->r, PCI_DEVICE, 2, device);
    put(f->r, PCI_CLASS_REV, 4, class << 16 | 0x02);    /* prog-if 0 */
    put(f->r, PCI_HEADER_TYPE, 1, header);
    put(f->r, PCI_COMMAND, 2, PCI_CMD_IO | PCI_CMD_MEM);
    return f;
}

static void bar(struct fake_fn *f, unsigned i, uint64_t base, uint64_t size,
                uint32_t type)
{
    f->bar_size[i] = size;
    put(f->r, PCI_BAR0 + 4 * i, 4, (uint32_t)base | type);
    if ((type & 7) == 4)
        put(f->r, PCI_BAR0 + 4 * (i + 1), 4, (uint32_t)(base >> 32));
}

static void cap(struct fake_fn *f, unsigned off, uint8_t id, uint8_t next)
{
    put(f->r, PCI_STATUS, 2, get(f->r, PCI_STATUS, 2) | PCI_STATUS_CAPS);
    if (!get(f->r, PCI_CAP_PTR, 1))
        put(f->r, PCI_CAP_PTR, 1, off);
    f->r[off] = id;
    f->r[off + 1] = next;
}

static int setup(void **state)
{
    (void)state;
    nfns = 0;
    probes_while_decoding = 0;
    return 0;
}

/* q35-like: a host bridge, a multi-function device, a bridge to bus 1. */
static void machine(void)
{
    add(0, 0, 0, 0x8086, 0x29c0, 0x0600, 0x00);
    struct fake_fn *sata = add(0, 0x1f, 0, 0x8086, 0x2918, 0x0601, 0x80);
    sata = add(0, 0x1f, 2, 0x8086, 0x2922, 0x0106, 0x00);
    bar(sata, 4, 0xc060, 0x20, 1);
    bar(sata, 5, 0xfebd5000, 0x1000, 0);
    put(sata->r, PCI_IRQ_LINE, 1, 10);
    put(sata->r, PCI_IRQ_PIN, 1, 1);
    add(0, 0x1f, 3, 0x8086, 0x2930, 0x0c05, 0x00);
    struct fake_fn *br = add(0, 3, 0, 0x1b36, 0x0001, 0x0604, 0x01);
    put(br->r, PCI_SECONDARY, 1, 1);
    struct fake_fn *nic = add(1, 0, 0, 0x8086, 0x10d3, 0x0200, 0x00);
    bar(nic, 0, 0x800000000ull, 0x4000, 4 | 8);     /* 64-bit, prefetch */
    bar(nic, 2, 0xc040, 0x20, 1);
    nic->io16 = true;
    /* a bridge the firmware did not number, and one back to bus 0 */
    add(1, 1, 0, 0x1b36, 0x0001, 0x0604, 0x01);
    struct fake_fn *loop = add(1, 2, 0, 0x1b36, 0x0001, 0x0604, 0x01);
    put(loop->r, PCI_SECONDARY, 1, 0);
    put(loop->r, PCI_SECONDARY, 1, 1);                /* itself */
}

static void test_enumerate(void **state)
{
    (void)state;
    machine();
    struct pci_func f[16];
    unsigned missed = 9;
    unsigned n = pci_enumerate(&fake, f, 16, &missed);
    assert_int_equal(n, 8);
    assert_int_equal(missed, 0);
    const char *want[] = { "00:00.0", "00:03.0", "01:00.0", "01:01.0",
                           "01:02.0", "00:1f.0", "00:1f.2", "00:1f.3" };
    for (unsigned i = 0; i < n; i++) {
        char a[16];
        snprintf(a, sizeof(a), "%02x:%02x.%x", f[i].info.bus, f[i].info.dev,
                 f[i].info.fn);
        assert_string_equal(a, want[i]);
        assert_int_equal(f[i].addr.bus, f[i].info.bus);
    }
    assert_int_equal(f[6].info.vendor, 0x8086);
    assert_int_equal(f[6].info.device, 0x2922);
    assert_int_equal(f[6].info.class_code, 0x010600);
    assert_int_equal(f[6].info.revision, 2);
    assert_int_equal(f[6].info.irq_line, 10);
    assert_int_equal(f[6].info.irq_pin, 1);
    /* a short table: what does not fit is counted */
    n = pci_enumerate(&fake, f, 3, &missed);
    assert_int_equal(n, 3);
    assert_int_equal(missed, 5);
    assert_int_equal(probes_while_decoding, 0);
}

/* A device that is not multi-function is read at function 0 only, even
 * if it answers at the others (some do). */
static void test_single_function_aliases(void **state)
{
    (void)state;
    add(0, 0, 0, 0x8086, 0x29c0, 0x0600, 0x00);
    for (uint8_t fn = 0; fn < 8; fn++)
        add(0, 5, fn, 0x1234, 0x1111, 0x0300, 0x00);
    struct pci_func f[16];
    assert_int_equal(pci_enumerate(&fake, f, 16, NULL), 2);
}

/* 00:00.0 multi-function: host bridge N owns bus N. */
static void test_several_host_bridges(void **state)
{
    (void)state;
    add(0, 0, 0, 0x8086, 0x1234, 0x0600, 0x80);
    add(0, 0, 1, 0x8086, 0x1234, 0x0600, 0x80);
    add(1, 4, 0, 0x1af4, 0x1001, 0x0100, 0x00);
    struct pci_func f[16];
    assert_int_equal(pci_enumerate(&fake, f, 16, NULL), 3);
    assert_int_equal(f[2].info.bus, 1);
    assert_int_equal(f[2].info.device, 0x1001);
}

static void test_bar_sizes(void **state)
{
    (void)state;
    machine();
    struct fake_fn *sata = find((struct pci_addr){ 0, 0x1f, 2 });
    struct fake_fn *nic = find((struct pci_addr){ 1, 0, 0 });
    uint8_t before_sata[256], before_nic[256];
    memcpy(before_sata, sata->r, 256);
    memcpy(before_nic, nic->r, 256);
    struct pci_func f;
    pci_read_func(&fake, sata->a, &f);
    assert_int_equal(f.bar[0].kind, PCI_BAR_KIND_NONE);
    assert_int_equal(f.bar[4].kind, PCI_BAR_KIND_IO);
    assert_int_equal(f.bar[4].base, 0xc060);
    assert_int_equal(f.bar[4].size, 0x20);
    assert_int_equal(f.bar[5].kind, PCI_BAR_KIND_MEM32);
    assert_int_equal(f.bar[5].base, 0xfebd5000);
    assert_int_equal(f.bar[5].size, 0x1000);
    assert_int_equal(f.bar[5].flags, 0);
    pci_read_func(&fake, nic->a, &f);
    assert_int_equal(f.bar[0].kind, PCI_BAR_KIND_MEM64);
    assert_int_equal(f.bar[0].base, 0x800000000ull);
    assert_int_equal(f.bar[0].size, 0x4000);
    assert_int_equal(f.bar[0].flags, PCI_BAR_PREFETCH);
    assert_int_equal(f.bar[1].kind, PCI_BAR_KIND_NONE);   /* its upper half */
    assert_int_equal(f.bar[2].kind, PCI_BAR_KIND_IO);     /* 16-bit decoder */
    assert_int_equal(f.bar[2].size, 0x20);
    /* every register as it was, decoding never on while probing */
    assert_memory_equal(sata->r, before_sata, 256);
    assert_memory_equal(nic->r, before_nic, 256);
    assert_int_equal(probes_while_decoding, 0);
}

/* A 64-bit BAR in the last slot has no upper half: not a BAR. */
static void test_bar_64_in_last_slot(void **state)
{
    (void)state;
    struct fake_fn *d = add(0, 2, 0, 0x1234, 0x5678, 0x0200, 0x00);
    put(d->r, PCI_BAR0 + 20, 4, 0xfe000004);
    d->bar_size[5] = 0x1000;
    struct pci_func f;
    pci_read_func(&fake, d->a, &f);
    assert_int_equal(f.bar[5].kind, PCI_BAR_KIND_NONE);
    /* bridges have two BARs; the rest of their header is not BARs */
    struct fake_fn *b = add(0, 3, 0, 0x1b36, 0x0001, 0x0604, 0x01);
    bar(b, 0, 0xfeb00000, 0x1000, 0);
    put(b->r, PCI_BAR0 + 8, 4, 0x00020100);             /* bus numbers */
    pci_read_func(&fake, b->a, &f);
    assert_int_equal(f.bar[0].size, 0x1000);
    assert_int_equal(f.bar[2].kind, PCI_BAR_KIND_NONE);
    assert_int_equal(get(b->r, PCI_BAR0 + 8, 4), 0x00020100);
}

static struct fake_fn *msi_device(bool wide, bool pvm)
{
    struct fake_fn *d = add(0, 4, 0, 0x8086, 0x10d3, 0x0200, 0x00);
    cap(d, 0x40, 0x01, 0x50);                           /* power management */
    cap(d, 0x50, PCI_CAP_MSI, 0x70);
    put(d->r, 0x52, 2, (wide ? 0x80 : 0) | (pvm ? 0x100 : 0) | 0x0a);
    cap(d, 0x70, PCI_CAP_MSIX, 0x00);
    put(d->r, 0x72, 2, 4);                              /* 5 entries */
    put(d->r, 0x74, 4, 0x2000 | 3);                     /* BAR3 + 0x2000 */
    bar(d, 3, 0xfebd0000, 0x4000, 0);
    return d;
}

static void test_capabilities(void **state)
{
    (void)state;
    struct fake_fn *d = msi_device(true, true);
    struct pci_func f;
    pci_read_func(&fake, d->a, &f);
    assert_int_equal(f.info.msi_cap, 0x50);
    assert_int_equal(f.info.msix_cap, 0x70);
    assert_int_equal(f.info.flags, PCI_HAS_MSI | PCI_HAS_MSIX);
    assert_int_equal(f.msi_len, 24);
    assert_int_equal(f.info.msix_entries, 5);
    assert_int_equal(f.msix_bir, 3);
    assert_int_equal(f.msix_table, 0x2000);
    put(d->r, 0x52, 2, 0);
    pci_read_func(&fake, d->a, &f);
    assert_int_equal(f.msi_len, 10);
    /* a list that loops, or points into the header, ends */
    d->r[0x71] = 0x50;
    assert_int_equal(pci_find_cap(&fake, d->a, 0x10), 0);
    d->r[0x51] = 0x10;
    assert_int_equal(pci_find_cap(&fake, d->a, PCI_CAP_MSIX), 0);
    /* no list without the status bit */
    put(d->r, PCI_STATUS, 2, 0);
    assert_int_equal(pci_find_cap(&fake, d->a, PCI_CAP_MSI), 0);
}

static void test_msi_programming(void **state)
{
    (void)state;
    struct fake_fn *d = msi_device(true, true);
    struct pci_func f;
    pci_read_func(&fake, d->a, &f);
    put(d->r, 0x52, 2, get(d->r, 0x52, 2) | 0x30);      /* MME 3 */
    put(d->r, 0x60, 4, 0xffffffff);                     /* all masked */
    put(d->r, 0x72, 2, 0x8004);                         /* MSI-X on */
    pci_msi_enable(&fake, &f, 0x1fee01000ull, 0x4041);
    assert_int_equal(get(d->r, 0x54, 4), 0xfee01000);
    assert_int_equal(get(d->r, 0x58, 4), 1);
    assert_int_equal(get(d->r, 0x5c, 2), 0x4041);
    assert_int_equal(get(d->r, 0x60, 4), 0);            /* unmasked */
    assert_int_equal(get(d->r, 0x52, 2) & 0x71, 1);     /* on, one vector */
    assert_int_equal(get(d->r, 0x72, 2) & 0x8000, 0);   /* MSI-X off */
    assert_true(get(d->r, PCI_COMMAND, 2) & PCI_CMD_INTX_OFF);
    /* a 32-bit MSI puts the data right after the address */
    nfns = 0;
    d = msi_device(false, false);
    pci_read_func(&fake, d->a, &f);
    pci_msi_enable(&fake, &f, 0xfee00000, 0x31);
    assert_int_equal(get(d->r, 0x54, 4), 0xfee00000);
    assert_int_equal(get(d->r, 0x58, 2), 0x31);
    assert_int_equal(get(d->r, 0x5c, 4), 0);
}

static uint32_t table[16];
static unsigned table_writes_unmasked;
static struct fake_fn *table_dev;

static void table_write(void *ctx, uint32_t off, uint32_t v)
{
    (void)ctx;
    table[off / 4] = v;
    /* the function stays masked while the entry is half written */
    if ((get(table_dev->r, 0x72, 2) & 0xc000) != 0xc000)
        table_writes_unmasked++;
}

static void test_msix_programming(void **state)
{
    (void)state;
    struct fake_fn *d = table_dev = msi_device(true, false);
    struct pci_func f;
    pci_read_func(&fake, d->a, &f);
    put(d->r, 0x52, 2, get(d->r, 0x52, 2) | 1);         /* MSI on */
    memset(table, 0xee, sizeof(table));
    struct msix_table t = { table_write, NULL };
    pci_msix_enable(&fake, &f, &t, 0xfee00000, 0x45);
    assert_int_equal(table[0], 0xfee00000);
    assert_int_equal(table[1], 0);
    assert_int_equal(table[2], 0x45);
    assert_int_equal(table[3], 0);
    assert_int_equal(table[4], 0xeeeeeeee);             /* entry 1 untouched */
    assert_int_equal(table_writes_unmasked, 0);
    assert_int_equal(get(d->r, 0x72, 2) & 0xc000, 0x8000);
    assert_int_equal(get(d->r, 0x52, 2) & 1, 0);        /* MSI off */
    /* and back to INTx */
    pci_intx_enable(&fake, &f);
    assert_int_equal(get(d->r, 0x72, 2) & 0x8000, 0);
    assert_int_equal(get(d->r, 0x52, 2) & 1, 0);
    assert_false(get(d->r, PCI_COMMAND, 2) & PCI_CMD_INTX_OFF);
}

static void test_policy(void **state)
{
    (void)state;
    struct pci_func f;
    memset(&f, 0, sizeof(f));
    f.info.msi_cap = 0x50;
    f.msi_len = 14;
    f.info.msix_cap = 0x70;
    assert_int_equal(pci_check_access(0, 4, 256), OK);
    assert_int_equal(pci_check_access(255, 1, 256), OK);
    assert_int_equal(pci_check_access(254, 2, 256), OK);
    assert_int_equal(pci_check_access(0, 3, 256), ERR_INVALID_ARGS);
    assert_int_equal(pci_check_access(0, 8, 256), ERR_INVALID_ARGS);
    assert_int_equal(pci_check_access(2, 4, 256), ERR_INVALID_ARGS);
    assert_int_equal(pci_check_access(1, 2, 256), ERR_INVALID_ARGS);
    assert_int_equal(pci_check_access(256, 1, 256), ERR_OUT_OF_RANGE);
    assert_int_equal(pci_check_access(0xfffffffcu, 4, 256), ERR_OUT_OF_RANGE);
    assert_int_equal(pci_check_write(&f, PCI_COMMAND, 2), OK);
    assert_int_equal(pci_check_write(&f, PCI_COMMAND, 4), ERR_ACCESS_DENIED);
    assert_int_equal(pci_check_write(&f, PCI_COMMAND, 1), ERR_ACCESS_DENIED);
    assert_int_equal(pci_check_write(&f, 0x10, 4), ERR_ACCESS_DENIED);
    /* through ECAM: all 4096 bytes read, the extended ones not written */
    assert_int_equal(pci_check_access(256, 4, 4096), OK);
    assert_int_equal(pci_check_access(4092, 4, 4096), OK);
    assert_int_equal(pci_check_access(4095, 1, 4096), OK);
    assert_int_equal(pci_check_access(4094, 4, 4096), ERR_INVALID_ARGS);
    assert_int_equal(pci_check_access(4096, 1, 4096), ERR_OUT_OF_RANGE);
    assert_int_equal(pci_check_write(&f, 0xfc, 4), OK);
    assert_int_equal(pci_check_write(&f, 0x100, 4), ERR_ACCESS_DENIED);
    assert_int_equal(pci_check_write(&f, 0xffe, 2), ERR_ACCESS_DENIED);
    assert_int_equal(pci_check_write(&f, 0x3c, 1), ERR_ACCESS_DENIED);
    assert_int_equal(pci_check_write(&f, 0x3f, 1), ERR_ACCESS_DENIED);
    assert_int_equal(pci_check_write(&f, 0x40, 4), OK);
    assert_int_equal(pci_check_write(&f, 0x4c, 4), OK);
    assert_int_equal(pci_check_write(&f, 0x50, 1), ERR_ACCESS_DENIED);
    assert_int_equal(pci_check_write(&f, 0x5c, 4), ERR_ACCESS_DENIED);
    assert_int_equal(pci_check_write(&f, 0x5e, 2), OK);  /* past 14 bytes */
    assert_int_equal(pci_check_write(&f, 0x7b, 1), ERR_ACCESS_DENIED);
    assert_int_equal(pci_check_write(&f, 0x7c, 4), OK);
    f.info.msi_cap = f.info.msix_cap = 0;
    assert_int_equal(pci_check_write(&f, 0x50, 4), OK);
    assert_int_equal(pci_command_merge(0x0100, 0xffff), 0x0507);
    assert_int_equal(pci_command_merge(0x0507, 0x0000), 0x0100);
}

/* ECAM over a fake window of buses 1-2 (memory on the host): addresses,
 * widths, buses outside the window or not mapped. */
static uint8_t ecam_mem[2][ECAM_BUS_BYTES];
static unsigned ecam_maps;

static volatile uint8_t *fake_map_bus(struct ecam *e, unsigned bus)
{
    (void)e;
    ecam_maps++;
    return bus == 1 ? ecam_mem[0] : NULL;       /* bus 2 cannot be mapped */
}

static void test_ecam(void **state)
{
    (void)state;
    static struct ecam e;
    struct pci_config c;
    memset(&e, 0, sizeof(e));
    e.bus_start = 1;
    e.bus_end = 2;
    e.map_bus = fake_map_bus;
    ecam_config(&e, &c);
    assert_int_equal(c.size, 4096);
    struct pci_addr a = { 1, 3, 5 };
    uint8_t *f = ecam_mem[0] + (3u << 15 | 5u << 12);
    f[0] = 0x34; f[1] = 0x12; f[2] = 0x78; f[3] = 0x56;
    f[0xffc] = 0xef; f[0xffd] = 0xbe; f[0xffe] = 0xad; f[0xfff] = 0xde;
    assert_int_equal(cfg_read(&c, a, 0, 2), 0x1234);
    assert_int_equal(cfg_read(&c, a, 2, 2), 0x5678);
    assert_int_equal(cfg_read(&c, a, 1, 1), 0x12);
    assert_int_equal(cfg_read(&c, a, 0, 4), 0x56781234);
    assert_int_equal(cfg_read(&c, a, 0xffc, 4), 0xdeadbeef);
    cfg_write(&c, a, 0x104, 4, 0xcafef00d);
    assert_int_equal(f[0x104], 0x0d);
    assert_int_equal(f[0x107], 0xca);
    cfg_write(&c, a, 0x40, 1, 0x99);
    assert_int_equal(f[0x40], 0x99);
    assert_int_equal(f[0x41], 0);
    assert_int_equal(ecam_maps, 1);             /* mapped once */
    /* outside the window, or not mapped: absent */
    struct pci_addr b0 = { 0, 3, 5 }, b2 = { 2, 0, 0 }, b3 = { 3, 0, 0 };
    assert_int_equal(cfg_read(&c, b0, 0, 4), 0xffffffffu);
    assert_int_equal(cfg_read(&c, b3, 0, 2), 0xffff);
    assert_int_equal(cfg_read(&c, b2, 0, 1), 0xff);
    cfg_write(&c, b2, 0x40, 4, 0);
    assert_int_equal(cfg_read(&c, a, 4096, 4), 0xffffffffu);
}

static void test_listing(void **state)
{
    (void)state;
    machine();
    struct pci_func f;
    char line[160];
    pci_read_func(&fake, (struct pci_addr){ 0, 0x1f, 2 }, &f);
    pci_describe(&f.info, line, sizeof(line));
    assert_string_equal(line, "00:1f.2 8086:2922 [0106] SATA controller, "
                              "rev 02, pin A line 10");
    assert_int_equal(pci_describe_bar(f.bar, 0, line, sizeof(line)), 0);
    assert_string_equal(line, "");
    pci_describe_bar(f.bar, 4, line, sizeof(line));
    assert_string_equal(line, "  BAR4 I/O 0xc060+0x20");
    pci_describe_bar(f.bar, 5, line, sizeof(line));
    assert_string_equal(line, "  BAR5 mem32 0xfebd5000+0x1000");
    assert_int_equal(pci_describe_bar(f.bar, 6, line, sizeof(line)), 0);
    pci_read_func(&fake, (struct pci_addr){ 1, 0, 0 }, &f);
    pci_describe_bar(f.bar, 0, line, sizeof(line));
    assert_string_equal(line, "  BAR0 mem64 0x800000000+0x4000 prefetchable");
    nfns = 0;
    struct fake_fn *d = msi_device(true, false);
    put(d->r, PCI_CLASS_REV, 4, 0x12345601);
    pci_read_func(&fake, d->a, &f);
    pci_describe(&f.info, line, sizeof(line));
    assert_string_equal(line, "00:04.0 8086:10d3 [1234] rev 01, MSI, MSI-X");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_enumerate, setup),
        cmocka_unit_test_setup(test_single_function_aliases, setup),
        cmocka_unit_test_setup(test_several_host_bridges, setup),
        cmocka_unit_test_setup(test_bar_sizes, setup),
        cmocka_unit_test_setup(test_bar_64_in_last_slot, setup),
        cmocka_unit_test_setup(test_capabilities, setup),
        cmocka_unit_test_setup(test_msi_programming, setup),
        cmocka_unit_test_setup(test_msix_programming, setup),
        cmocka_unit_test_setup(test_policy, setup),
        cmocka_unit_test(test_ecam),
        cmocka_unit_test_setup(test_listing, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
