/*
 * test_acpi.c - host tests of the ACPI table parser.
 *
 * Firmware memory is a byte array indexed by physical address (the first
 * MiB plus a little).  The map callback bounds-checks each request, fails
 * inside an optional "hole", and hands back a fresh heap copy of exactly
 * the bytes asked for, so AddressSanitizer traps any read past what the
 * parser mapped.  The tables are built the way QEMU's firmware lays them
 * out: an RSDP in the EBDA or the F segment, RSDT/XSDT, a MADT with four
 * processors (one disabled), one IOAPIC and QEMU's interrupt overrides,
 * and a q35-style MCFG.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"

#define MEM_SIZE   0x230000u        /* 1 MiB, then room for a 1 MiB table */

#define EBDA_SEG   0x9FC0u
#define EBDA       ((paddr_t)EBDA_SEG << 4)
#define BIOS_RSDP  0xF5A90u
#define RSDT_AT    0x80000u
#define XSDT_AT    0x80100u
#define MADT_AT    0x80200u
#define MCFG_AT    0x80400u
#define FACP_AT    0x80500u
#define MADT2_AT   0x80700u
#define SPARE_AT   0x80900u
#define BIG_AT     0x81000u         /* room for ~60 KiB below the EBDA */
#define HUGE_AT    0x110000u        /* above 1 MiB: the table-size limit */
#define TABLE_MAX  0x100000u

#define LAPIC_BASE  0xFEE00000u
#define IOAPIC_BASE 0xFEC00000u
#define ECAM_BASE   0xB0000000u
#define ISO_LEVEL_HIGH 0x000Du      /* trigger level (3 << 2), active high (1) */

static uint8_t *mem;
static paddr_t hole_start, hole_end;    /* [start, end) unreadable */
static void **maps;
static size_t nmaps, maps_cap;
static size_t map_calls;

/* ---- fake physical memory ---------------------------------------------- */

static void remember(void *p)
{
    if (nmaps == maps_cap) {
        size_t cap = maps_cap ? maps_cap * 2 : 256;
        void **grown = realloc(maps, cap * sizeof *maps);

        assert_non_null(grown);
        maps = grown;
        maps_cap = cap;
    }
    maps[nmaps++] = p;
}

static void release_maps(void)
{
    for (size_t i = 0; i < nmaps; i++)
        free(maps[i]);
    nmaps = 0;
}

static const void *fake_map(void *ctx, paddr_t phys, size_t len)
{
    void *copy;

    assert_ptr_equal(ctx, &mem);
    assert_true(phys + len >= phys);    /* the parser never asks to wrap */
    map_calls++;
    if (len == 0 || phys >= MEM_SIZE || len > MEM_SIZE - phys)
        return NULL;
    if (phys < hole_end && phys + len > hole_start)
        return NULL;
    copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, mem + phys, len);
    remember(copy);
    return copy;
}

static const struct acpi_ops ops = { .map = fake_map, .ctx = &mem };

static int setup(void **state)
{
    (void)state;
    mem = calloc(1, MEM_SIZE);
    hole_start = hole_end = 0;
    map_calls = 0;
    return mem ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    release_maps();
    free(maps);
    maps = NULL;
    maps_cap = 0;
    free(mem);
    mem = NULL;
    return 0;
}

/* ---- table builders ----------------------------------------------------- */

static void put16(paddr_t a, uint16_t v) { memcpy(mem + a, &v, sizeof v); }
static void put32(paddr_t a, uint32_t v) { memcpy(mem + a, &v, sizeof v); }
static void put64(paddr_t a, uint64_t v) { memcpy(mem + a, &v, sizeof v); }

static uint32_t get32(paddr_t a)
{
    uint32_t v;
    memcpy(&v, mem + a, sizeof v);
    return v;
}

static uint8_t sum_bytes(paddr_t a, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += mem[a + i];
    return s;
}

/* Set the byte at `at` so that [a, a+n) sums to zero. */
static void fix_sum(paddr_t a, size_t n, paddr_t at)
{
    mem[at] = 0;
    mem[at] = (uint8_t)-sum_bytes(a, n);
}

/* Recompute a table's checksum over its declared length, if that fits. */
static void sdt_finish(paddr_t a)
{
    uint32_t len = get32(a + 4);

    if (len >= 10 && len <= MEM_SIZE - a)
        fix_sum(a, len, a + 9);
}

static void sdt_header(paddr_t a, const char *sig, uint32_t len)
{
    memset(mem + a, 0, 36);
    memcpy(mem + a, sig, 4);
    put32(a + 4, len);
    mem[a + 8] = 1;
    memcpy(mem + a + 10, "BOCHS ", 6);
    memcpy(mem + a + 16, "BXPC    ", 8);
    put32(a + 24, 1);
    memcpy(mem + a + 28, "BXPC", 4);
    put32(a + 32, 1);
}

static void make_rsdp(paddr_t a, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    memset(mem + a, 0, 36);
    memcpy(mem + a, "RSD PTR ", 8);
    memcpy(mem + a + 9, "BOCHS ", 6);
    mem[a + 15] = rev;
    put32(a + 16, rsdt);
    fix_sum(a, 20, a + 8);
    if (rev >= 2) {
        put32(a + 20, 36);
        put64(a + 24, xsdt);
        fix_sum(a, 36, a + 32);
    }
}

static void make_root(paddr_t a, const char *sig, size_t esz,
                      const uint64_t *tables, size_t n)
{
    sdt_header(a, sig, (uint32_t)(36 + n * esz));
    for (size_t i = 0; i < n; i++) {
        if (esz == 8)
            put64(a + 36 + i * 8, tables[i]);
        else
            put32(a + 36 + i * 4, (uint32_t)tables[i]);
    }
    sdt_finish(a);
}

struct madt {
    paddr_t at;
    uint32_t len;
};

static struct madt madt_begin(paddr_t at, uint32_t lapic, uint32_t flags)
{
    struct madt m = { at, 44 };

    sdt_header(at, "APIC", 44);
    mem[at + 8] = 3;
    put32(at + 36, lapic);
    put32(at + 40, flags);
    return m;
}

static paddr_t madt_add(struct madt *m, uint8_t type, uint8_t len)
{
    paddr_t e = m->at + m->len;

    memset(mem + e, 0, len);
    mem[e] = type;
    mem[e + 1] = len;
    m->len += len;
    return e;
}

static void madt_lapic(struct madt *m, uint8_t uid, uint8_t id, uint32_t flags)
{
    paddr_t e = madt_add(m, 0, 8);
    mem[e + 2] = uid;
    mem[e + 3] = id;
    put32(e + 4, flags);
}

static void madt_x2apic(struct madt *m, uint32_t id, uint32_t uid,
                        uint32_t flags)
{
    paddr_t e = madt_add(m, 9, 16);
    put32(e + 4, id);
    put32(e + 8, flags);
    put32(e + 12, uid);
}

static void madt_ioapic(struct madt *m, uint8_t id, uint32_t addr, uint32_t gsi)
{
    paddr_t e = madt_add(m, 1, 12);
    mem[e + 2] = id;
    put32(e + 4, addr);
    put32(e + 8, gsi);
}

static void madt_iso(struct madt *m, uint8_t bus, uint8_t src, uint32_t gsi,
                     uint16_t flags)
{
    paddr_t e = madt_add(m, 2, 10);
    mem[e + 2] = bus;
    mem[e + 3] = src;
    put32(e + 4, gsi);
    put16(e + 8, flags);
}

static void madt_lapic_nmi(struct madt *m, uint8_t uid, uint8_t lint)
{
    paddr_t e = madt_add(m, 4, 6);
    mem[e + 2] = uid;
    mem[e + 5] = lint;
}

static void madt_lapic_override(struct madt *m, uint64_t addr)
{
    paddr_t e = madt_add(m, 5, 12);
    put64(e + 4, addr);
}

static void madt_end(struct madt *m)
{
    put32(m->at + 4, m->len);
    sdt_finish(m->at);
}

/* QEMU's MADT: -smp 3,maxcpus=4 gives four processors, the last disabled. */
static void qemu_madt(paddr_t at)
{
    struct madt m = madt_begin(at, LAPIC_BASE, 1);

    for (uint8_t i = 0; i < 4; i++)
        madt_lapic(&m, i, i, i == 3 ? 0 : 1);
    madt_ioapic(&m, 0, IOAPIC_BASE, 0);
    madt_iso(&m, 0, 0, 2, 0);
    madt_iso(&m, 0, 5, 5, ISO_LEVEL_HIGH);
    madt_iso(&m, 0, 9, 9, ISO_LEVEL_HIGH);
    madt_iso(&m, 0, 10, 10, ISO_LEVEL_HIGH);
    madt_iso(&m, 0, 11, 11, ISO_LEVEL_HIGH);
    madt_lapic_nmi(&m, 0xFF, 1);
    madt_end(&m);
}

/* A different, smaller MADT, to tell which root table was followed. */
static void small_madt(paddr_t at)
{
    struct madt m = madt_begin(at, 0xFEE10000u, 0);

    madt_lapic(&m, 0, 7, 1);
    madt_lapic(&m, 1, 8, 1);
    madt_end(&m);
}

static void make_mcfg(paddr_t at, size_t n)
{
    sdt_header(at, "MCFG", (uint32_t)(44 + n * 16));
    for (size_t i = 0; i < n; i++) {
        paddr_t e = at + 44 + i * 16;
        put64(e, ECAM_BASE + (uint64_t)i * 0x10000000u);
        put16(e + 8, (uint16_t)i);
        mem[e + 10] = 0;
        mem[e + 11] = 0xFF;
    }
    sdt_finish(at);
}

static void make_facp(paddr_t at)
{
    sdt_header(at, "FACP", 116);
    memset(mem + at + 36, 0xA5, 116 - 36);
    sdt_finish(at);
}

static const uint64_t qemu_tables[] = { FACP_AT, MADT_AT, MCFG_AT };

/* Point the RSDT back at QEMU's FACP, MADT and MCFG. */
static void tables_restore(void)
{
    make_root(RSDT_AT, "RSDT", 4, qemu_tables, 3);
}

/* The whole QEMU-like firmware, with the RSDP at `rsdp`. */
static void qemu_firmware(paddr_t rsdp, uint8_t rev)
{
    const uint64_t *tables = qemu_tables;

    put16(0x40E, EBDA_SEG);
    make_facp(FACP_AT);
    qemu_madt(MADT_AT);
    make_mcfg(MCFG_AT, 1);
    make_root(RSDT_AT, "RSDT", 4, tables, 3);
    if (rev >= 2)
        make_root(XSDT_AT, "XSDT", 8, tables, 3);
    make_rsdp(rsdp, rev, RSDT_AT, rev >= 2 ? XSDT_AT : 0);
}

static void check_qemu(const struct acpi_info *info)
{
    assert_string_equal(info->oem_id, "BOCHS ");
    assert_int_equal(info->lapic_addr, LAPIC_BASE);
    assert_true(info->has_8259);
    assert_int_equal(info->ncpus, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(info->cpus[i].apic_id, i);
        assert_int_equal(info->cpus[i].acpi_uid, i);
    }
    assert_int_equal(info->nioapics, 1);
    assert_int_equal(info->ioapics[0].id, 0);
    assert_int_equal(info->ioapics[0].addr, IOAPIC_BASE);
    assert_int_equal(info->ioapics[0].gsi_base, 0);
    assert_int_equal(info->nisos, 5);
    assert_int_equal(info->isos[0].source, 0);
    assert_int_equal(info->isos[0].gsi, 2);
    assert_int_equal(info->isos[2].source, 9);
    assert_int_equal(info->isos[2].flags, ISO_LEVEL_HIGH);
    assert_int_equal(info->nmcfg, 1);
    assert_int_equal(info->mcfg[0].base, ECAM_BASE);
    assert_int_equal(info->mcfg[0].segment, 0);
    assert_int_equal(info->mcfg[0].bus_start, 0);
    assert_int_equal(info->mcfg[0].bus_end, 255);
    assert_int_equal(info->bad_tables, 0);
}

/* Parse the firmware whose RSDP is at `rsdp`, expecting `ret`. */
static struct acpi_info *parse(paddr_t rsdp, int ret)
{
    static struct acpi_info info;

    memset(&info, 0xCC, sizeof info);   /* acpi_parse must zero it */
    assert_int_equal(acpi_parse(&ops, rsdp, &info), ret);
    assert_int_equal(info.rsdp, rsdp);
    return &info;
}

static paddr_t find(int ret)
{
    paddr_t at = 0x1234;

    assert_int_equal(acpi_find_rsdp(&ops, &at), ret);
    return ret == 0 ? at : 0;
}

/* ---- RSDP search ------------------------------------------------------- */

static void test_find_rsdp_in_ebda(void **state)
{
    (void)state;
    qemu_firmware(EBDA + 0x40, 0);
    assert_int_equal(find(0), EBDA + 0x40);
}

static void test_find_rsdp_in_bios_area(void **state)
{
    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    assert_int_equal(find(0), BIOS_RSDP);

    /* The first and last 16-byte slots of the area count too. */
    memset(mem + BIOS_RSDP, 0, 36);
    make_rsdp(0xE0000, 0, RSDT_AT, 0);
    assert_int_equal(find(0), 0xE0000);
    memset(mem + 0xE0000, 0, 36);
    make_rsdp(0xFFFF0, 0, RSDT_AT, 0);
    assert_int_equal(find(0), 0xFFFF0);
}

static void test_find_rsdp_prefers_ebda(void **state)
{
    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    make_rsdp(EBDA + 0x3F0, 0, RSDT_AT, 0);  /* last slot of the first KiB */
    assert_int_equal(find(0), EBDA + 0x3F0);
}

static void test_find_rsdp_only_first_kib_of_ebda(void **state)
{
    (void)state;
    put16(0x40E, 0x9F00);                   /* EBDA at 0x9F000 */
    make_rsdp(0x9F000 + 0x400, 0, RSDT_AT, 0);
    find(-1);
}

static void test_find_rsdp_unaligned_ignored(void **state)
{
    (void)state;
    make_rsdp(BIOS_RSDP + 8, 0, RSDT_AT, 0);
    find(-1);
}

static void test_find_rsdp_bad_checksum_ignored(void **state)
{
    (void)state;
    qemu_firmware(EBDA + 0x40, 0);
    mem[EBDA + 0x40 + 16] ^= 0x01;          /* RSDT address, not summed */
    find(-1);

    make_rsdp(BIOS_RSDP, 0, RSDT_AT, 0);    /* a good one further on */
    assert_int_equal(find(0), BIOS_RSDP);
}

static void test_find_rsdp_rev2_extended_checksum(void **state)
{
    (void)state;
    qemu_firmware(BIOS_RSDP, 2);
    assert_int_equal(find(0), BIOS_RSDP);

    mem[BIOS_RSDP + 24] ^= 0x10;            /* XSDT address: only ext sum */
    assert_int_equal(sum_bytes(BIOS_RSDP, 20), 0);
    find(-1);

    make_rsdp(BIOS_RSDP, 2, RSDT_AT, XSDT_AT);
    put32(BIOS_RSDP + 20, 20);              /* length below 36 */
    fix_sum(BIOS_RSDP, 36, BIOS_RSDP + 32);
    find(-1);
    put32(BIOS_RSDP + 20, 0x10000);         /* absurd length */
    fix_sum(BIOS_RSDP, 36, BIOS_RSDP + 32);
    find(-1);
}

static void test_find_rsdp_none(void **state)
{
    (void)state;
    find(-1);                               /* EBDA pointer 0, no RSDP */
    put16(0x40E, 0xFFFF);                   /* EBDA at the top of the F segment */
    find(-1);
}

static void test_find_rsdp_unreadable_ebda(void **state)
{
    (void)state;
    qemu_firmware(EBDA + 0x40, 0);
    make_rsdp(BIOS_RSDP, 0, RSDT_AT, 0);
    hole_start = EBDA;
    hole_end = EBDA + 0x400;
    assert_int_equal(find(0), BIOS_RSDP);
    hole_start = 0x400;                     /* the BIOS data area too */
    hole_end = 0x500;
    assert_int_equal(find(0), BIOS_RSDP);
}

/* ---- root tables ------------------------------------------------------- */

static void test_parse_rsdt_qemu(void **state)
{
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    info = parse(find(0), 0);
    assert_int_equal(info->revision, 0);
    check_qemu(info);
}

static void test_parse_xsdt_preferred(void **state)
{
    const uint64_t rsdt_tables[] = { MADT2_AT };
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 2);
    small_madt(MADT2_AT);
    make_root(RSDT_AT, "RSDT", 4, rsdt_tables, 1);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->revision, 2);
    check_qemu(info);
}

static void test_parse_xsdt_64bit_entries(void **state)
{
    const uint64_t high[] = { FACP_AT, 0x100000000ull | MADT_AT, MCFG_AT };
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 2);
    make_root(XSDT_AT, "XSDT", 8, high, 3);     /* MADT above 4 GiB */
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 0);           /* not truncated to 32 bits */
    assert_int_equal(info->nmcfg, 1);
    assert_int_equal(info->bad_tables, 1);
}

static void test_parse_rsdt_fallback(void **state)
{
    const uint64_t rsdt_tables[] = { MADT2_AT };
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 2);
    small_madt(MADT2_AT);
    make_root(RSDT_AT, "RSDT", 4, rsdt_tables, 1);

    mem[XSDT_AT + 36] ^= 0xFF;                  /* XSDT checksum broken */
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 2);
    assert_int_equal(info->cpus[1].apic_id, 8);
    assert_int_equal(info->lapic_addr, 0xFEE10000u);
    assert_false(info->has_8259);
    assert_int_equal(info->bad_tables, 1);

    make_rsdp(BIOS_RSDP, 2, RSDT_AT, 0);        /* no XSDT at all */
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 2);
    assert_int_equal(info->bad_tables, 0);

    memcpy(mem + XSDT_AT, "RSDT", 4);           /* XSDT with a wrong name */
    sdt_finish(XSDT_AT);
    make_rsdp(BIOS_RSDP, 2, RSDT_AT, XSDT_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 2);
    assert_int_equal(info->bad_tables, 1);
}

static void test_parse_rev0_ignores_xsdt_field(void **state)
{
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 2);
    make_rsdp(BIOS_RSDP, 0, RSDT_AT, 0);
    put64(BIOS_RSDP + 24, SPARE_AT);            /* junk past a v1 RSDP */
    info = parse(BIOS_RSDP, 0);
    check_qemu(info);
}

static void test_parse_invalid_rsdp_or_root(void **state)
{
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    mem[BIOS_RSDP + 8] ^= 1;
    info = parse(BIOS_RSDP, -1);
    assert_int_equal(info->ncpus, 0);
    mem[BIOS_RSDP + 8] ^= 1;

    parse(BIOS_RSDP + 16, -1);                  /* no RSDP there */
    parse(MEM_SIZE - 4, -1);                    /* not readable */
    parse(UINT64_MAX - 8, -1);                  /* wraps around */
    assert_int_equal(acpi_parse(NULL, BIOS_RSDP, info), -1);
    assert_int_equal(acpi_parse(&ops, BIOS_RSDP, NULL), -1);

    mem[RSDT_AT + 36] ^= 1;                     /* RSDT checksum */
    info = parse(BIOS_RSDP, -1);
    assert_int_equal(info->bad_tables, 1);
    assert_string_equal(info->oem_id, "BOCHS ");
    mem[RSDT_AT + 36] ^= 1;

    memcpy(mem + RSDT_AT, "XSDT", 4);           /* wrong signature */
    sdt_finish(RSDT_AT);
    info = parse(BIOS_RSDP, -1);
    assert_int_equal(info->ncpus, 0);

    make_rsdp(BIOS_RSDP, 2, 0, 0);              /* no root at all */
    parse(BIOS_RSDP, -1);
}

static void test_parse_root_entries_bad(void **state)
{
    const uint64_t tables[] = { 0, SPARE_AT, MEM_SIZE - 16, MADT_AT, MCFG_AT };
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    small_madt(0);                              /* a null entry stays null */
    make_root(RSDT_AT, "RSDT", 4, tables, 5);   /* null, empty, unreadable */
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 3);
    assert_int_equal(info->nmcfg, 1);
    assert_int_equal(info->bad_tables, 3);

    put32(RSDT_AT + 4, 36 + 5 * 4 + 3);         /* torn trailing entry */
    sdt_finish(RSDT_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 3);
    assert_int_equal(info->bad_tables, 3);
}

/* ---- table validation -------------------------------------------------- */

static void test_parse_bad_checksum_skipped(void **state)
{
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    mem[MADT_AT + 44 + 3] ^= 0x02;              /* a CPU's APIC id */
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->bad_tables, 1);
    assert_int_equal(info->ncpus, 0);
    assert_int_equal(info->lapic_addr, 0);
    assert_int_equal(info->nisos, 0);
    assert_int_equal(info->nmcfg, 1);           /* the others still count */

    mem[MCFG_AT + 44] ^= 0x01;
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->bad_tables, 2);
    assert_int_equal(info->nmcfg, 0);
}

static void test_parse_short_table(void **state)
{
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    put32(MADT_AT + 4, 20);                     /* shorter than a header */
    sdt_finish(MADT_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->bad_tables, 1);
    assert_int_equal(info->ncpus, 0);

    put32(MADT_AT + 4, 0);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->bad_tables, 1);

    put32(MADT_AT + 4, 40);                     /* a header, no MADT fields */
    sdt_finish(MADT_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->bad_tables, 1);
    assert_int_equal(info->lapic_addr, 0);

    put32(MCFG_AT + 4, 40);                     /* MCFG without its reserve */
    sdt_finish(MCFG_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->bad_tables, 2);
    assert_int_equal(info->nmcfg, 0);

    qemu_firmware(BIOS_RSDP, 0);
    put32(FACP_AT + 4, 35);                     /* a table we do not read */
    sdt_finish(FACP_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->bad_tables, 1);
    put32(FACP_AT + 4, 36);                     /* a bare header is fine */
    sdt_finish(FACP_AT);
    info = parse(BIOS_RSDP, 0);
    check_qemu(info);
}

static void test_parse_table_size_limit(void **state)
{
    const uint64_t tables[] = { HUGE_AT, MADT_AT, MCFG_AT };
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    make_root(RSDT_AT, "RSDT", 4, tables, 3);
    sdt_header(HUGE_AT, "SSDT", TABLE_MAX);
    sdt_finish(HUGE_AT);
    info = parse(BIOS_RSDP, 0);
    check_qemu(info);                           /* 1 MiB is accepted */

    put32(HUGE_AT + 4, TABLE_MAX + 1);
    sdt_finish(HUGE_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->bad_tables, 1);      /* more is not */
    assert_int_equal(info->ncpus, 3);
}

static void test_parse_first_madt_wins(void **state)
{
    const uint64_t tables[] = { MADT_AT, MADT2_AT, MCFG_AT, SPARE_AT };
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    small_madt(MADT2_AT);
    make_mcfg(SPARE_AT, 2);
    make_root(RSDT_AT, "RSDT", 4, tables, 4);
    info = parse(BIOS_RSDP, 0);
    check_qemu(info);
}

static void test_parse_truncated_madt(void **state)
{
    const paddr_t at = MEM_SIZE - 0x60;        /* MADT runs off the end */
    const uint64_t tables[] = { at, MCFG_AT };
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    qemu_madt(at - 0x100);
    memmove(mem + at, mem + at - 0x100, 0x60);
    make_root(RSDT_AT, "RSDT", 4, tables, 2);
    assert_true(get32(at + 4) > 0x60);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->bad_tables, 1);
    assert_int_equal(info->ncpus, 0);
    assert_int_equal(info->nmcfg, 1);

    tables_restore();
    hole_start = MADT_AT + 0x40;                /* unreadable tail */
    hole_end = MADT_AT + 0x41;
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->nmcfg, 1);
    assert_int_equal(info->bad_tables, 1);
    assert_int_equal(info->ncpus, 0);
}

/* ---- MADT entries ------------------------------------------------------ */

static void test_madt_entry_length_zero(void **state)
{
    struct madt m;
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    m = madt_begin(MADT_AT, LAPIC_BASE, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_add(&m, 0, 8);
    mem[MADT_AT + m.len - 8 + 1] = 0;           /* length 0 */
    madt_lapic(&m, 2, 2, 1);
    madt_end(&m);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 1);
    assert_int_equal(info->bad_tables, 1);

    mem[MADT_AT + 44 + 8 + 1] = 1;              /* length 1 */
    sdt_finish(MADT_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 1);
    assert_int_equal(info->bad_tables, 1);
}

static void test_madt_entry_overflows_table(void **state)
{
    struct madt m;
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    m = madt_begin(MADT_AT, LAPIC_BASE, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_lapic(&m, 1, 1, 1);
    madt_end(&m);
    mem[MADT_AT + 44 + 8 + 1] = 9;              /* one byte past the end */
    sdt_finish(MADT_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 1);
    assert_int_equal(info->bad_tables, 1);

    mem[MADT_AT + 44 + 8 + 1] = 8;              /* fits again ... */
    put32(MADT_AT + 4, m.len + 1);              /* ... plus one stray byte */
    sdt_finish(MADT_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 2);
    assert_int_equal(info->bad_tables, 1);
}

static void test_madt_entry_too_short_for_type(void **state)
{
    struct madt m;
    paddr_t e;
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    m = madt_begin(MADT_AT, LAPIC_BASE, 1);
    e = madt_add(&m, 1, 8);                     /* IOAPIC needs 12 */
    put32(e + 4, IOAPIC_BASE);
    madt_add(&m, 2, 9);                         /* ISO needs 10 */
    e = madt_add(&m, 9, 12);                    /* x2APIC needs 16 */
    put32(e + 8, 1);
    madt_lapic(&m, 0, 0, 1);                    /* the walk goes on */
    madt_add(&m, 0x7F, 2);                      /* unknown type: skipped */
    madt_end(&m);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->nioapics, 0);
    assert_int_equal(info->nisos, 0);
    assert_int_equal(info->ncpus, 1);
    assert_int_equal(info->bad_tables, 3);
}

static void test_madt_cpu_flags(void **state)
{
    struct madt m;
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    m = madt_begin(MADT_AT, LAPIC_BASE, 0);
    madt_lapic(&m, 0, 0, 1);                    /* enabled */
    madt_lapic(&m, 1, 1, 0);                    /* absent */
    madt_lapic(&m, 2, 2, 2);                    /* online capable */
    madt_lapic(&m, 3, 0xFF, 1);                 /* unusable id */
    madt_lapic(&m, 4, 0, 1);                    /* duplicate id */
    madt_end(&m);
    info = parse(BIOS_RSDP, 0);
    assert_false(info->has_8259);
    assert_int_equal(info->ncpus, 2);
    assert_int_equal(info->cpus[0].apic_id, 0);
    assert_int_equal(info->cpus[1].apic_id, 2);
    assert_int_equal(info->cpus[1].acpi_uid, 2);
    assert_int_equal(info->bad_tables, 0);
}

static void test_madt_x2apic(void **state)
{
    struct madt m;
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    m = madt_begin(MADT_AT, LAPIC_BASE, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_x2apic(&m, 0, 0, 1);                   /* same CPU as above */
    madt_x2apic(&m, 0x100, 1000, 1);
    madt_x2apic(&m, 0x101, 1001, 0);            /* absent */
    madt_x2apic(&m, 0x12345, 1002, 2);          /* online capable */
    madt_x2apic(&m, 0xFFFFFFFFu, 1003, 1);      /* unusable id */
    madt_end(&m);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, 3);
    assert_int_equal(info->cpus[1].apic_id, 0x100);
    assert_int_equal(info->cpus[1].acpi_uid, 1000);
    assert_int_equal(info->cpus[2].apic_id, 0x12345);
    assert_int_equal(info->cpus[2].acpi_uid, 1002);
}

static void test_madt_iso_non_isa_bus_ignored(void **state)
{
    struct madt m;
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    m = madt_begin(MADT_AT, LAPIC_BASE, 1);
    madt_iso(&m, 1, 4, 20, 0);
    madt_iso(&m, 0, 0, 2, 0);
    madt_end(&m);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->nisos, 1);
    assert_int_equal(info->isos[0].source, 0);
    assert_int_equal(acpi_isa_irq_to_gsi(info, 4, NULL), 4);
}

static void test_madt_lapic_override(void **state)
{
    struct madt m;
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    m = madt_begin(MADT_AT, LAPIC_BASE, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_lapic_override(&m, 0x1FEE00000ull);
    madt_lapic(&m, 1, 1, 1);
    madt_end(&m);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->lapic_addr, 0x1FEE00000ull);
    assert_int_equal(info->ncpus, 2);
}

static void test_madt_limits(void **state)
{
    struct madt m;
    const uint64_t tables[] = { BIG_AT, MCFG_AT };
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    m = madt_begin(BIG_AT, LAPIC_BASE, 1);
    for (uint32_t i = 0; i < ACPI_MAX_CPUS + 44; i++)
        madt_x2apic(&m, i, i, 1);
    for (uint32_t i = 0; i < ACPI_MAX_IOAPICS + 4; i++)
        madt_ioapic(&m, (uint8_t)i, IOAPIC_BASE + i * 0x1000, i * 24);
    for (uint32_t i = 0; i < ACPI_MAX_ISOS + 8; i++)
        madt_iso(&m, 0, (uint8_t)i, i + 100, 0);
    madt_iso(&m, 1, 3, 3, 0);                   /* not ISA: ignored */
    madt_end(&m);
    assert_true(m.at + m.len < EBDA);
    make_root(RSDT_AT, "RSDT", 4, tables, 2);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->ncpus, ACPI_MAX_CPUS);
    assert_int_equal(info->cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);
    assert_int_equal(info->nioapics, ACPI_MAX_IOAPICS);
    assert_int_equal(info->ioapics[ACPI_MAX_IOAPICS - 1].gsi_base,
                     (ACPI_MAX_IOAPICS - 1) * 24);
    assert_int_equal(info->nisos, ACPI_MAX_ISOS);
    assert_int_equal(info->bad_tables, 0);
}

/* ---- MCFG and IRQ lookup ----------------------------------------------- */

static void test_mcfg_entries(void **state)
{
    struct acpi_info *info;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    make_mcfg(MCFG_AT, 3);
    mem[MCFG_AT + 44 + 16 + 10] = 0x40;         /* segment 1: buses 0x40.. */
    mem[MCFG_AT + 44 + 16 + 11] = 0x7F;
    mem[MCFG_AT + 44 + 32 + 10] = 0x10;         /* segment 2: end < start */
    mem[MCFG_AT + 44 + 32 + 11] = 0x0F;
    sdt_finish(MCFG_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->nmcfg, 2);
    assert_int_equal(info->mcfg[1].base, ECAM_BASE + 0x10000000u);
    assert_int_equal(info->mcfg[1].segment, 1);
    assert_int_equal(info->mcfg[1].bus_start, 0x40);
    assert_int_equal(info->mcfg[1].bus_end, 0x7F);
    assert_int_equal(info->bad_tables, 1);

    put32(MCFG_AT + 4, 44 + 16 + 8);            /* torn second entry */
    sdt_finish(MCFG_AT);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->nmcfg, 1);
    assert_int_equal(info->bad_tables, 1);

    make_mcfg(MCFG_AT, ACPI_MAX_MCFG + 3);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(info->nmcfg, ACPI_MAX_MCFG);
    assert_int_equal(info->mcfg[ACPI_MAX_MCFG - 1].segment, ACPI_MAX_MCFG - 1);
}

static void test_isa_irq_to_gsi(void **state)
{
    struct acpi_info *info;
    uint16_t flags = 0xFFFF;

    (void)state;
    qemu_firmware(BIOS_RSDP, 0);
    info = parse(BIOS_RSDP, 0);
    assert_int_equal(acpi_isa_irq_to_gsi(info, 0, &flags), 2);
    assert_int_equal(flags, 0);
    flags = 0xFFFF;
    assert_int_equal(acpi_isa_irq_to_gsi(info, 9, &flags), 9);
    assert_int_equal(flags, ISO_LEVEL_HIGH);
    flags = 0xFFFF;
    assert_int_equal(acpi_isa_irq_to_gsi(info, 1, &flags), 1);
    assert_int_equal(flags, 0);
    assert_int_equal(acpi_isa_irq_to_gsi(info, 0, NULL), 2);
    assert_int_equal(acpi_isa_irq_to_gsi(info, 14, NULL), 14);

    info->nisos = 0;                            /* no overrides at all */
    flags = 0xFFFF;
    assert_int_equal(acpi_isa_irq_to_gsi(info, 0, &flags), 0);
    assert_int_equal(flags, 0);
}

/* ---- fuzz -------------------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

struct region {
    paddr_t at;
    uint32_t len;
};

static void fix_all_sums(const struct region *r, size_t n)
{
    for (size_t i = 1; i < n; i++)
        sdt_finish(r[i].at);
    fix_sum(r[0].at, 20, r[0].at + 8);
    fix_sum(r[0].at, 36, r[0].at + 32);
}

/* Damage the pristine tables: random bytes, a nudged length, or a MADT
 * of random entries (random types and lengths, some too short). */
static void corrupt(const struct region *r, size_t n)
{
    unsigned mode = rnd() % 4;
    const struct region *t = &r[rnd() % n];

    if (mode == 0 && t->at != r[0].at) {
        uint32_t len = get32(t->at + 4);
        put32(t->at + 4, rnd() % 2 ? len + rnd() % 64 - 32 : rnd());
    } else if (mode == 1) {                    /* a MADT of random entries */
        uint32_t len = rnd() % 8 ? 44 + rnd() % 400 : 36 + rnd() % 12;
        for (uint32_t i = 36; i < len; i++)
            mem[MADT_AT + i] = (uint8_t)rnd();
        for (uint32_t off = 44; off + 1 < len;) {
            uint8_t elen = rnd() % 8 ? 2 + rnd() % 16 : (uint8_t)rnd();
            mem[MADT_AT + off] = (uint8_t)(rnd() % 11);
            mem[MADT_AT + off + 1] = elen;
            off += elen ? elen : 1;
        }
        put32(MADT_AT + 4, len);
    } else {
        for (unsigned k = 1 + rnd() % 4; k; k--) {
            const struct region *c = &r[rnd() % n];
            mem[c->at + rnd() % (c->len + 8)] = (uint8_t)rnd();
        }
    }
}

static void test_fuzz(void **state)
{
    const paddr_t rsdp = EBDA + 0x40;
    const struct region r[] = {
        { rsdp, 36 }, { RSDT_AT, 48 }, { XSDT_AT, 60 },
        { MADT_AT, 0x200 }, { MCFG_AT, 60 }, { FACP_AT, 116 },
    };
    const paddr_t lo = RSDT_AT, hi = RSDT_AT + 0x1000;
    static uint8_t pristine[0x1000], pristine_rsdp[64];
    unsigned parsed = 0, with_cpus = 0, with_bad = 0;

    (void)state;
    qemu_firmware(rsdp, 2);
    memcpy(pristine, mem + lo, hi - lo);
    memcpy(pristine_rsdp, mem + rsdp, sizeof pristine_rsdp);

    for (unsigned iter = 0; iter < 6000; iter++) {
        struct acpi_info info;
        paddr_t found;

        memcpy(mem + lo, pristine, hi - lo);
        memcpy(mem + rsdp, pristine_rsdp, sizeof pristine_rsdp);
        corrupt(r, ARRAY_SIZE(r));
        if (rnd() % 4)                          /* mostly get past checksums */
            fix_all_sums(r, ARRAY_SIZE(r));

        if (acpi_parse(&ops, rsdp, &info) == 0)
            parsed++;
        assert_true(info.ncpus <= ACPI_MAX_CPUS);
        assert_true(info.nioapics <= ACPI_MAX_IOAPICS);
        assert_true(info.nisos <= ACPI_MAX_ISOS);
        assert_true(info.nmcfg <= ACPI_MAX_MCFG);
        assert_int_equal(info.oem_id[6], '\0');
        with_cpus += info.ncpus > 0;
        with_bad += info.bad_tables > 0;
        for (unsigned irq = 0; irq < 16; irq++)
            acpi_isa_irq_to_gsi(&info, (uint8_t)irq, NULL);
        if (iter % 500 == 0)
            acpi_find_rsdp(&ops, &found);
        release_maps();
    }
    print_message("fuzz: %u parsed, %u with cpus, %u with bad tables\n",
                  parsed, with_cpus, with_bad);
    /* The corruption must reach deep into the parser, not only fail sums. */
    assert_true(parsed > 3000);
    assert_true(with_cpus > 1000);
    assert_true(with_bad > 1000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_find_rsdp_in_ebda),
        T(test_find_rsdp_in_bios_area),
        T(test_find_rsdp_prefers_ebda),
        T(test_find_rsdp_only_first_kib_of_ebda),
        T(test_find_rsdp_unaligned_ignored),
        T(test_find_rsdp_bad_checksum_ignored),
        T(test_find_rsdp_rev2_extended_checksum),
        T(test_find_rsdp_none),
        T(test_find_rsdp_unreadable_ebda),
        T(test_parse_rsdt_qemu),
        T(test_parse_xsdt_preferred),
        T(test_parse_xsdt_64bit_entries),
        T(test_parse_rsdt_fallback),
        T(test_parse_rev0_ignores_xsdt_field),
        T(test_parse_invalid_rsdp_or_root),
        T(test_parse_root_entries_bad),
        T(test_parse_bad_checksum_skipped),
        T(test_parse_short_table),
        T(test_parse_table_size_limit),
        T(test_parse_first_madt_wins),
        T(test_parse_truncated_madt),
        T(test_madt_entry_length_zero),
        T(test_madt_entry_overflows_table),
        T(test_madt_entry_too_short_for_type),
        T(test_madt_cpu_flags),
        T(test_madt_x2apic),
        T(test_madt_iso_non_isa_bus_ignored),
        T(test_madt_lapic_override),
        T(test_madt_limits),
        T(test_mcfg_entries),
        T(test_isa_irq_to_gsi),
        T(test_fuzz),
    };

    return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
