/*
 * acpi.c - find and read the ACPI tables Mica needs at boot.
 *
 * The firmware leaves a Root System Description Pointer (RSDP) in the BIOS
 * areas.  It names a root table - the RSDT of 32-bit pointers or, from
 * ACPI 2.0, the XSDT of 64-bit ones - that lists every other table.  The
 * kernel reads two of them: the MADT (processors, IOAPICs, ISA interrupt
 * overrides, the local APIC address) and the MCFG (PCI Express ECAM
 * windows).  Everything that needs AML (the DSDT, _PRT) is user space's.
 *
 * Firmware tables are input, not truth.  The rules:
 *  - physical memory is read only through ops->map(); NULL means "not
 *    readable", and whatever was supposed to live there is skipped;
 *  - a table's length is believed only once it is at least a header long,
 *    at most TABLE_MAX_LEN, and map() succeeded for all of it; then the
 *    checksum over that length must be zero before any other field is used;
 *  - nothing past a table's declared length is read, and every entry must
 *    fit in what is left of its table;
 *  - fields are read with memcpy: firmware packs them unaligned;
 *  - a pointer from map() is used only until the next map() call, so a
 *    mapper with a single temporary window works as well as a direct map;
 *  - the result arrays have fixed bounds (ACPI_MAX_*); entries beyond them
 *    are dropped, never written past the end.
 * A table or MADT entry that fails a check is counted in info->bad_tables
 * and skipped; the rest of the tables are still read.  Only the first valid
 * MADT and MCFG are used (the specification allows one of each).
 *
 * Multi-byte fields are little-endian, as on every machine Mica runs on.
 */
#include "acpi.h"
#include "lib.h"

#define SDT_HDR_LEN     36u         /* signature .. creator revision */
#define TABLE_MAX_LEN   (1u << 20)  /* no table we read comes near 1 MiB */
#define RSDP_V1_LEN     20u
#define RSDP_V2_MIN     36u
#define RSDP_MAX_LEN    4096u

#define BDA_EBDA_SEG    0x40Eu      /* BIOS data area: EBDA segment */
#define EBDA_SCAN_LEN   1024u
#define BIOS_AREA_START 0xE0000u
#define BIOS_AREA_END   0x100000u
#define RSDP_ALIGN      16u

#define MADT_HDR_LEN    44u         /* header + LAPIC address + flags */
#define MADT_PCAT_COMPAT 1u
#define MCFG_HDR_LEN    44u         /* header + 8 reserved bytes */
#define MCFG_ENTRY_LEN  16u

enum madt_type {
    MADT_LAPIC          = 0,
    MADT_IOAPIC         = 1,
    MADT_ISO            = 2,
    MADT_LAPIC_OVERRIDE = 5,
    MADT_X2APIC         = 9,
};

#define CPU_ENABLED        1u
#define CPU_ONLINE_CAPABLE 2u

/* What the RSDP says, once both of its checksums hold. */
struct rsdp {
    paddr_t rsdt, xsdt;
    uint8_t revision;
    char    oem_id[6];
};

/* State of one acpi_parse() call. */
struct parser {
    const struct acpi_ops *ops;
    struct acpi_info *info;
    bool have_madt, have_mcfg;
};

/* __builtin_memcpy so the freestanding build inlines these too. */
static uint16_t rd16(const uint8_t *p)
{
    uint16_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    while (n--)
        s += *p++;
    return s;
}

/* ops->map, refusing empty ranges and ranges that wrap around. */
static const uint8_t *map(const struct acpi_ops *ops, paddr_t phys, size_t len)
{
    if (len == 0 || phys + len < phys)
        return NULL;
    return ops->map(ops->ctx, phys, len);
}

/* Validate the RSDP at `phys` (signature, checksum, and for revision 2+
 * the extended checksum) and fill *r.  Returns 0, or -1 if it is invalid. */
static int rsdp_read(const struct acpi_ops *ops, paddr_t phys, struct rsdp *r)
{
    const uint8_t *p = map(ops, phys, RSDP_V1_LEN);
    uint32_t len;

    if (!p || memcmp(p, "RSD PTR ", 8) != 0 || sum8(p, RSDP_V1_LEN) != 0)
        return -1;
    r->revision = p[15];
    memcpy(r->oem_id, p + 9, sizeof r->oem_id);
    r->rsdt = rd32(p + 16);
    r->xsdt = 0;
    if (r->revision < 2)
        return 0;
    p = map(ops, phys, RSDP_V2_MIN);    /* the length lies past byte 20 */
    if (!p)
        return -1;
    len = rd32(p + 20);
    if (len < RSDP_V2_MIN || len > RSDP_MAX_LEN)
        return -1;
    p = map(ops, phys, len);
    if (!p || sum8(p, len) != 0)
        return -1;
    r->xsdt = rd64(p + 24);
    return 0;
}

/* Look for a valid RSDP on 16-byte boundaries in [start, end). */
static int rsdp_scan(const struct acpi_ops *ops, paddr_t start, paddr_t end,
                     paddr_t *out)
{
    struct rsdp r;

    for (paddr_t a = ALIGN_UP(start, RSDP_ALIGN); a < end; a += RSDP_ALIGN) {
        if (rsdp_read(ops, a, &r) == 0) {
            *out = a;
            return 0;
        }
    }
    return -1;
}

int acpi_find_rsdp(const struct acpi_ops *ops, paddr_t *out)
{
    const uint8_t *bda;
    paddr_t ebda = 0;

    if (!ops || !ops->map || !out)
        return -1;
    bda = map(ops, BDA_EBDA_SEG, 2);
    if (bda)
        ebda = (paddr_t)rd16(bda) << 4;
    if (ebda && rsdp_scan(ops, ebda, ebda + EBDA_SCAN_LEN, out) == 0)
        return 0;
    return rsdp_scan(ops, BIOS_AREA_START, BIOS_AREA_END, out);
}

/*
 * Map the table at `phys` once its length is sane and readable and its
 * checksum holds.  Returns the mapping and its length in *lenp, or NULL
 * (counted in bad_tables) for an unreadable or malformed table.
 */
static const uint8_t *table_map(struct parser *ps, paddr_t phys,
                                uint32_t *lenp)
{
    const uint8_t *p = phys ? map(ps->ops, phys, SDT_HDR_LEN) : NULL;
    uint32_t len = p ? rd32(p + 4) : 0;

    if (len < SDT_HDR_LEN || len > TABLE_MAX_LEN)
        goto bad;
    p = map(ps->ops, phys, len);
    if (!p || sum8(p, len) != 0)
        goto bad;
    *lenp = len;
    return p;
bad:
    ps->info->bad_tables++;
    return NULL;
}

static void add_cpu(struct acpi_info *info, uint32_t apic_id, uint32_t uid)
{
    /* Some firmware lists a processor both as LAPIC and as x2APIC. */
    for (unsigned i = 0; i < info->ncpus; i++)
        if (info->cpus[i].apic_id == apic_id)
            return;
    if (info->ncpus == ACPI_MAX_CPUS)
        return;
    info->cpus[info->ncpus].apic_id = apic_id;
    info->cpus[info->ncpus].acpi_uid = uid;
    info->ncpus++;
}

static void add_ioapic(struct acpi_info *info, const uint8_t *e)
{
    struct acpi_ioapic *io;

    if (info->nioapics == ACPI_MAX_IOAPICS)
        return;
    io = &info->ioapics[info->nioapics++];
    io->id = e[2];
    io->addr = rd32(e + 4);
    io->gsi_base = rd32(e + 8);
}

static void add_iso(struct acpi_info *info, const uint8_t *e)
{
    struct acpi_iso *iso;

    if (e[2] != 0 || info->nisos == ACPI_MAX_ISOS)
        return;                     /* bus 0 is ISA, the only one defined */
    iso = &info->isos[info->nisos++];
    iso->source = e[3];
    iso->gsi = rd32(e + 4);
    iso->flags = rd16(e + 8);
}

/* One MADT entry of `len` bytes, which the caller checked fit the table. */
static void madt_entry(struct acpi_info *info, const uint8_t *e, uint8_t len)
{
    static const uint8_t min_len[] = {
        [MADT_LAPIC] = 8, [MADT_IOAPIC] = 12, [MADT_ISO] = 10,
        [MADT_LAPIC_OVERRIDE] = 12, [MADT_X2APIC] = 16,
    };
    uint8_t type = e[0];

    if (type < ARRAY_SIZE(min_len) && len < min_len[type]) {
        info->bad_tables++;
        return;
    }
    switch (type) {
    case MADT_LAPIC:            /* uid, APIC id, flags; id 0xFF is unusable */
        if ((rd32(e + 4) & (CPU_ENABLED | CPU_ONLINE_CAPABLE)) && e[3] != 0xFF)
            add_cpu(info, e[3], e[2]);
        break;
    case MADT_X2APIC:           /* reserved, x2APIC id, flags, uid */
        if ((rd32(e + 8) & (CPU_ENABLED | CPU_ONLINE_CAPABLE)) &&
            rd32(e + 4) != 0xFFFFFFFFu)
            add_cpu(info, rd32(e + 4), rd32(e + 12));
        break;
    case MADT_IOAPIC:
        add_ioapic(info, e);
        break;
    case MADT_ISO:
        add_iso(info, e);
        break;
    case MADT_LAPIC_OVERRIDE:
        info->lapic_addr = rd64(e + 4);
        break;
    default:                    /* NMI sources, GIC, ...: not ours */
        break;
    }
}

static void parse_madt(struct acpi_info *info, const uint8_t *t, uint32_t len)
{
    uint32_t off = MADT_HDR_LEN;

    if (len < MADT_HDR_LEN) {
        info->bad_tables++;
        return;
    }
    info->lapic_addr = rd32(t + 36);
    info->has_8259 = (rd32(t + 40) & MADT_PCAT_COMPAT) != 0;
    while (off < len) {
        uint32_t left = len - off;
        uint8_t elen = left >= 2 ? t[off + 1] : 0;

        if (elen < 2 || elen > left) {
            info->bad_tables++;     /* the walk cannot go on safely */
            return;
        }
        madt_entry(info, t + off, elen);
        off += elen;
    }
}

static void parse_mcfg(struct acpi_info *info, const uint8_t *t, uint32_t len)
{
    if (len < MCFG_HDR_LEN) {
        info->bad_tables++;
        return;
    }
    if ((len - MCFG_HDR_LEN) % MCFG_ENTRY_LEN != 0)
        info->bad_tables++;         /* a torn last entry: use the rest */
    for (uint32_t off = MCFG_HDR_LEN; len - off >= MCFG_ENTRY_LEN;
         off += MCFG_ENTRY_LEN) {
        const uint8_t *e = t + off;
        struct acpi_mcfg *m;

        if (e[11] < e[10]) {
            info->bad_tables++;
            continue;
        }
        if (info->nmcfg == ACPI_MAX_MCFG)
            return;
        m = &info->mcfg[info->nmcfg++];
        m->base = rd64(e);
        m->segment = rd16(e + 8);
        m->bus_start = e[10];
        m->bus_end = e[11];
    }
}

/* Validate the table at `phys` and read it if it is one the kernel uses. */
static void visit_table(struct parser *ps, paddr_t phys)
{
    uint32_t len;
    const uint8_t *t = table_map(ps, phys, &len);

    if (!t)
        return;
    if (memcmp(t, "APIC", 4) == 0 && !ps->have_madt) {
        ps->have_madt = true;
        parse_madt(ps->info, t, len);
    } else if (memcmp(t, "MCFG", 4) == 0 && !ps->have_mcfg) {
        ps->have_mcfg = true;
        parse_mcfg(ps->info, t, len);
    }
}

/*
 * Walk the root table at `phys` (signature `sig`, entries of `esz` bytes).
 * Returns -1, having read nothing it lists, if the root table is invalid.
 */
static int walk_root(struct parser *ps, paddr_t phys, const char *sig,
                     size_t esz)
{
    uint32_t len;
    const uint8_t *t = table_map(ps, phys, &len);
    size_t n;

    if (!t)
        return -1;
    if (memcmp(t, sig, 4) != 0) {
        ps->info->bad_tables++;
        return -1;
    }
    n = (len - SDT_HDR_LEN) / esz;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = map(ps->ops, phys + SDT_HDR_LEN + i * esz, esz);

        if (!e) {
            ps->info->bad_tables++;
            continue;
        }
        visit_table(ps, esz == 8 ? rd64(e) : rd32(e));
    }
    return 0;
}

int acpi_parse(const struct acpi_ops *ops, paddr_t rsdp, struct acpi_info *info)
{
    struct parser ps = { .ops = ops, .info = info };
    struct rsdp r;

    if (!info)
        return -1;
    memset(info, 0, sizeof *info);
    info->rsdp = rsdp;
    if (!ops || !ops->map || rsdp_read(ops, rsdp, &r) != 0)
        return -1;
    info->revision = r.revision;
    memcpy(info->oem_id, r.oem_id, sizeof r.oem_id);
    info->oem_id[sizeof r.oem_id] = '\0';

    if (r.revision >= 2 && r.xsdt != 0 && walk_root(&ps, r.xsdt, "XSDT", 8) == 0)
        return 0;
    if (r.rsdt != 0 && walk_root(&ps, r.rsdt, "RSDT", 4) == 0)
        return 0;
    return -1;
}

uint32_t acpi_isa_irq_to_gsi(const struct acpi_info *info, uint8_t irq,
                             uint16_t *flags)
{
    unsigned n = info->nisos;

    if (n > ACPI_MAX_ISOS)
        n = ACPI_MAX_ISOS;
    for (unsigned i = 0; i < n; i++) {
        if (info->isos[i].source == irq) {
            if (flags)
                *flags = info->isos[i].flags;
            return info->isos[i].gsi;
        }
    }
    if (flags)
        *flags = 0;
    return irq;
}
