/*
 * test_manifest.c - host tests of the boot manifest parser
 * (user/lib/manifest.c): good lines decoded field by field, and every
 * error, each reported with its line and leaving nothing to use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mica/critical.h>
#include <mica/device.h>

#include "manifest.h"

static struct manifest M;
static char err[256];

static int parse(const char *text)
{
    return manifest_parse(text, strlen(text), &M, err, sizeof(err));
}

/* `text` is refused, the message names `line` and holds `what`. */
static void refused(const char *text, unsigned line, const char *what)
{
    M.n = 99;
    if (parse(text) == 0)
        fail_msg("accepted: %s", text);
    char want[32];
    snprintf(want, sizeof(want), "manifest line %u: ", line);
    if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, what))
        fail_msg("for '%s' the message is '%s', wanted line %u and '%s'",
                 text, err, line, what);
    assert_int_equal(M.n, 0);
}

static void test_good_lines(void **state)
{
    (void)state;
    const char *text =
        "# comment\n"
        "\n"
        "   \t  # indented comment\n"
        "uart bin/uart log ioport=0x3f8+8 irq=isa:4   # trailing\n"
        "pci\tbin/pci ioport=3320+8 resource=mmio:0xc0000000+0x3ec00000 "
        "resource=irq:0x10000+1 resource=ioport:0x700+0xf900\r\n"
        "disk bin/virtio-blk pci=1af4:1001 irq=gsi:23:level:low "
        "irq=msi mmio=0xfed00000+0x1000 resource=dma:0+0x100000000\n"
        "lone bin/lone";                        /* no newline at the end */
    assert_int_equal(parse(text), 0);
    assert_string_equal(err, "");
    assert_int_equal(M.n, 4);

    const struct manifest_entry *u = &M.e[0];
    assert_string_equal(u->name, "uart");
    assert_string_equal(u->program, "bin/uart");
    assert_int_equal(u->line, 4);
    assert_true(u->log);
    assert_int_equal(u->ncaps, 2);
    assert_int_equal(u->caps[0].kind, CAP_IOPORT);
    assert_string_equal(u->caps[0].token, "ioport=0x3f8+8");
    assert_int_equal(u->caps[0].base, 0x3f8);
    assert_int_equal(u->caps[0].size, 8);
    assert_int_equal(u->caps[1].kind, CAP_IRQ);
    assert_int_equal(u->caps[1].irq_number, 4);
    assert_int_equal(u->caps[1].irq_options, MICA_IRQ_ISA);

    const struct manifest_entry *p = &M.e[1];
    assert_false(p->log);
    assert_int_equal(p->ncaps, 4);
    assert_int_equal(p->caps[0].base, 0xcf8);           /* decimal 3320 */
    assert_int_equal(p->caps[1].kind, CAP_RESOURCE);
    assert_int_equal(p->caps[1].res_kind, MICA_RESOURCE_MMIO);
    assert_int_equal(p->caps[1].base, 0xc0000000);
    assert_int_equal(p->caps[1].size, 0x3ec00000);
    assert_int_equal(p->caps[2].res_kind, MICA_RESOURCE_IRQ);
    assert_int_equal(p->caps[2].base, MICA_IRQ_MSI_NUMBER);
    assert_int_equal(p->caps[3].res_kind, MICA_RESOURCE_IOPORT);
    assert_string_equal(p->caps[3].token, "resource=ioport:0x700+0xf900");

    const struct manifest_entry *d = &M.e[2];
    assert_int_equal(d->ncaps, 5);
    assert_int_equal(d->caps[0].kind, CAP_PCI);
    assert_int_equal(d->caps[0].pci.by, PCI_SEL_ID);
    assert_int_equal(d->caps[0].pci.vendor, 0x1af4);
    assert_int_equal(d->caps[0].pci.device, 0x1001);
    assert_int_equal(d->caps[1].irq_number, 23);
    assert_int_equal(d->caps[1].irq_options, MICA_IRQ_LEVEL | MICA_IRQ_LOW);
    assert_int_equal(d->caps[2].irq_number, MICA_IRQ_MSI_NUMBER);
    assert_int_equal(d->caps[2].irq_options, MICA_IRQ_MSI);
    assert_int_equal(d->caps[3].kind, CAP_MMIO);
    assert_int_equal(d->caps[3].base, 0xfed00000);
    assert_int_equal(d->caps[4].res_kind, MICA_RESOURCE_DMA);
    assert_int_equal(d->caps[4].size, 0x100000000ull);

    assert_string_equal(M.e[3].name, "lone");
    assert_int_equal(M.e[3].ncaps, 0);
    assert_ptr_equal(manifest_find(&M, "disk"), d);
    assert_null(manifest_find(&M, "nobody"));
}

static void test_empty_manifest(void **state)
{
    (void)state;
    assert_int_equal(parse(""), 0);
    assert_int_equal(M.n, 0);
    assert_int_equal(parse("# nothing\n\n   \n"), 0);
    assert_int_equal(M.n, 0);
}

static void test_bad_numbers(void **state)
{
    (void)state;
    refused("a b ioport=+8", 1, "bad port range");
    refused("a b ioport=0x+8", 1, "bad port range");
    refused("a b ioport=0x3g8+8", 1, "bad port range");
    refused("a b ioport=-1+8", 1, "bad port range");
    refused("a b ioport=0x3f8+-8", 1, "bad port range");
    refused("a b ioport=010+8", 1, "bad port range");      /* octal? no */
    refused("a b ioport= 8+8", 1, "bad port range in 'ioport='");
    refused("a b mmio=0x10000000000000000+0x1000", 1, "bad page range");
    refused("a b mmio=18446744073709551616+4096", 1, "bad page range");
    refused("a b resource=irq:99999999999999999999+1", 1, "bad range");
    refused("a b irq=isa:", 1, "bad ISA IRQ");
    refused("a b irq=isa:x", 1, "bad ISA IRQ");
    refused("a b irq=isa:16", 1, "bad ISA IRQ");
    refused("a b irq=isa:0x", 1, "bad ISA IRQ");
    refused("a b irq=gsi::edge:high", 1, "bad GSI");
    refused("a b irq=gsi:65536:edge:high", 1, "bad GSI");
    refused("a b irq=gsi:5:edge", 1, "bad GSI");
    refused("a b pci=1af4:100", 1, "pci= takes");
    refused("a b pci=1af4:10011", 1, "pci= takes");
    refused("a b pci=1ag4:1001", 1, "pci= takes");
    refused("a b pci=00:20.0", 1, "pci= takes");           /* device 32 */
    refused("a b pci=00:1f.8", 1, "pci= takes");
    refused("a b pci=", 1, "pci= takes");
    /* the largest numbers that fit are good */
    assert_int_equal(parse("a b resource=mmio:0+0xffffffffffffffff"), 0);
    assert_int_equal(M.e[0].caps[0].size, UINT64_MAX);
    assert_int_equal(parse("a b resource=irq:18446744073709551614+1"), 0);
}

static void test_bad_ranges(void **state)
{
    (void)state;
    refused("a b ioport=0x3f8", 1, "bad port range");      /* no size */
    refused("a b ioport=0x3f8+0", 1, "bad port range");    /* empty */
    refused("a b ioport=0xfff8+9", 1, "bad port range");   /* past 0xffff */
    refused("a b ioport=0x10000+1", 1, "bad port range");
    refused("a b mmio=0xfed00000+0x800", 1, "bad page range");
    refused("a b mmio=0xfed00100+0x1000", 1, "bad page range");
    refused("a b mmio=0xfffffffffffff000+0x1000", 1, "bad page range");
    refused("a b resource=mmio:0xffffffffffffffff+1", 1, "bad range");
    refused("a b resource=dma:1+0xffffffffffffffff", 1, "bad range");
    refused("a b resource=ioport:0x10+0", 1, "bad range");
    /* ending at the last port, or the last byte below 2^64, is good */
    assert_int_equal(parse("a b ioport=0xfff8+8"), 0);
    assert_int_equal(parse("a b resource=dma:0xfffffffffffff000+0xfff"), 0);
}

static void test_critical_budgets(void **state)
{
    (void)state;
    assert_int_equal(parse("a b critical=200us critical=10ms critical=1ns "
                           "critical=0x10ns"), 0);
    const struct manifest_entry *e = &M.e[0];
    assert_int_equal(e->ncaps, 4);
    assert_int_equal(e->caps[0].kind, CAP_RESOURCE);
    assert_int_equal(e->caps[0].res_kind, MICA_RESOURCE_CRITICAL);
    assert_int_equal(e->caps[0].base, 0);
    assert_int_equal(e->caps[0].size, 200000);
    assert_int_equal(e->caps[1].size, MICA_CRITICAL_BUDGET_MAX);
    assert_int_equal(e->caps[2].size, 1);
    assert_int_equal(e->caps[3].size, 16);
    refused("a b critical=0us", 1, "critical= takes");
    refused("a b critical=11ms", 1, "critical= takes");
    refused("a b critical=10000001ns", 1, "critical= takes");
    refused("a b critical=18446744073709551615ms", 1, "critical= takes");
    refused("a b critical=200", 1, "critical= takes");    /* no unit */
    refused("a b critical=us", 1, "critical= takes");
    refused("a b critical=2s", 1, "critical= takes");
    refused("a b critical=1.5ms", 1, "critical= takes");
    refused("a b critical=", 1, "critical= takes");
    refused("a b critical=1ms critical=1ms", 1, "given twice");
}

static void test_unknown_capabilities(void **state)
{
    (void)state;
    refused("a b logs", 1, "unknown capability 'logs'");
    refused("a b log=1", 1, "unknown capability");
    refused("a b ioports=1+1", 1, "unknown capability");
    refused("a b IOPORT=1+1", 1, "unknown capability");
    refused("a b =5", 1, "unknown capability");
    refused("a b irq=com1", 1, "irq= takes");
    refused("a b irq=gsi:5:rising:high", 1, "trigger must be");
    refused("a b irq=gsi:5:edge:up", 1, "polarity must be");
    refused("a b irq=gsi:5:edge:high:x", 1, "polarity must be");
    refused("a b irq=msi2", 1, "irq= takes");
    refused("a b resource=port:1+1", 1, "resource= takes");
    refused("a b resource=root:0+1", 1, "resource= takes");
    refused("a b resource=mmio", 1, "resource= takes");
}

static void test_duplicates(void **state)
{
    (void)state;
    refused("a b log log", 1, "'log' given twice");
    refused("a b irq=isa:4 ioport=1+1 irq=isa:4", 1,
            "'irq=isa:4' given twice");
    refused("a b\nc d\na e", 3, "'a' is named twice");
    /* the same object spelled otherwise is another token: allowed */
    assert_int_equal(parse("a b ioport=0x3f8+8 ioport=1016+8"), 0);
    assert_int_equal(M.e[0].ncaps, 2);
}

static void test_too_long(void **state)
{
    (void)state;
    char text[512];
    /* a name of 31 characters is good, of 32 too long */
    snprintf(text, sizeof(text), "%s b", "n234567890123456789012345678901");
    assert_int_equal(parse(text), 0);
    snprintf(text, sizeof(text), "%s b", "n2345678901234567890123456789012");
    refused(text, 1, "is too long");
    /* a program path of 63 characters is good, of 64 too long */
    char path[80];
    memset(path, 'p', 63);
    path[63] = 0;
    snprintf(text, sizeof(text), "a %s", path);
    assert_int_equal(parse(text), 0);
    memset(path, 'p', 64);
    path[64] = 0;
    snprintf(text, sizeof(text), "a %s", path);
    refused(text, 1, "program path of 'a' is too long");
    /* a capability of 47 characters is good, of 48 too long */
    snprintf(text, sizeof(text), "a b resource=mmio:0x%016x+0x%012x", 0x1000,
             0x1000);
    assert_int_equal(strlen(text + 4), 47);
    assert_int_equal(parse(text), 0);
    snprintf(text, sizeof(text), "a b resource=mmio:0x%016x+0x%013x", 0x1000,
             0x1000);
    refused(text, 1, "is too long");
    /* tokens longer than any buffer */
    memset(path, 'x', 79);
    path[79] = 0;
    char big[300];
    snprintf(big, sizeof(big), "a b ioport=%s%s", path, path);
    refused(big, 1, "too long");
    snprintf(big, sizeof(big), "%s%s b", path, path);
    refused(big, 1, "too long");
}

static void test_too_many(void **state)
{
    (void)state;
    static char text[8192];
    size_t n = 0;
    for (int i = 0; i < MANIFEST_MAX_ENTRIES; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "p%d bin/x\n", i);
    assert_int_equal(parse(text), 0);
    assert_int_equal(M.n, MANIFEST_MAX_ENTRIES);
    snprintf(text + n, sizeof(text) - n, "# still fine\nlast bin/x\n");
    refused(text, MANIFEST_MAX_ENTRIES + 2, "more than 32 programs");

    n = (size_t)snprintf(text, sizeof(text), "a b log");
    for (int i = 0; i < MANIFEST_MAX_CAPS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, " ioport=%d+1",
                              i + 1);
    assert_int_equal(parse(text), 0);
    assert_int_equal(M.e[0].ncaps, MANIFEST_MAX_CAPS);
    snprintf(text + n, sizeof(text) - n, " ioport=99+1");
    refused(text, 1, "more than 16 capabilities");
}

static void test_names_and_programs(void **state)
{
    (void)state;
    refused("lonely", 1, "'lonely' has no program");
    refused("lonely   # comment", 1, "'lonely' has no program");
    refused("a/b bin/x", 1, "has a character other than");
    refused("a=b bin/x", 1, "has a character other than");
    assert_int_equal(parse("virtio-blk.0_x bin/x"), 0);
}

static void test_control_characters(void **state)
{
    (void)state;
    const char nul[] = "a b\0 log\n";
    M.n = 9;
    assert_int_equal(manifest_parse(nul, sizeof(nul) - 1, &M, err,
                                    sizeof(err)), -1);
    assert_string_equal(err, "manifest line 1: control character 0x00");
    assert_int_equal(M.n, 0);
    refused("ok bin/ok\na b\vlog", 2, "control character 0x0b");
    refused("a b ioport=\f1+1", 1, "control character 0x0c");
    refused("a b\x7f", 1, "control character 0x7f");
}

static void test_pci_needs_the_server_first(void **state)
{
    (void)state;
    refused("disk bin/disk pci=1af4:1001\npci bin/pci", 1,
            "'pci=1af4:1001' needs 'pci' started on an earlier line");
    refused("a b\n\ndisk bin/disk pci=*", 3, "needs 'pci'");
    refused("pci bin/pci pci=*", 1, "needs 'pci'");      /* not itself */
    assert_int_equal(parse("pci bin/pci\nd bin/d pci=00:1f.2 pci=*"), 0);
    assert_int_equal(M.e[1].caps[0].pci.by, PCI_SEL_ADDR);
    assert_int_equal(M.e[1].caps[0].pci.bus, 0);
    assert_int_equal(M.e[1].caps[0].pci.dev, 0x1f);
    assert_int_equal(M.e[1].caps[0].pci.fn, 2);
    assert_int_equal(M.e[1].caps[1].pci.by, PCI_SEL_ALL);
}

/* stdio=NAME: not a handle, given once, a line started earlier. */
static void test_stdio(void **state)
{
    (void)state;
    assert_int_equal(parse("uart bin/uart\nhello bin/hello stdio=uart log"),
                     0);
    assert_string_equal(M.e[1].stdio, "uart");
    assert_int_equal(M.e[1].ncaps, 0);
    assert_true(M.e[1].log);
    assert_string_equal(M.e[0].stdio, "");
    refused("hello bin/hello stdio=uart\nuart bin/uart", 1,
            "'stdio=uart' needs 'uart' started on an earlier line");
    refused("a bin/a stdio=a", 1, "needs 'a'");         /* not itself */
    refused("u bin/u\na bin/a stdio=u stdio=u", 2, "'stdio=' given twice");
    refused("a bin/a stdio=", 1, "stdio= takes the name of a line");
    refused("a bin/a stdio=x/y", 1, "stdio= takes the name of a line, not "
            "'x/y'");
    refused("a bin/a stdio=0123456789012345678901234567890123", 1,
            "stdio= takes the name of a line");
}

/* An error on a later line leaves nothing of the earlier ones. */
static void test_all_or_nothing(void **state)
{
    (void)state;
    refused("a bin/a\nb bin/b\nc bin/c irq=isa:77\nd bin/d", 3,
            "bad ISA IRQ in 'irq=isa:77'");
}

static void test_error_buffer(void **state)
{
    (void)state;
    char small[12];
    memset(small, 'Z', sizeof(small));
    assert_int_equal(manifest_parse("a b bad", 7, &M, small, sizeof(small)),
                     -1);
    assert_string_equal(small, "manifest li");          /* cut, terminated */
    assert_int_equal(manifest_parse("a b bad", 7, &M, NULL, 0), -1);
}

static void test_cap_parse_alone(void **state)
{
    (void)state;
    struct manifest_cap c;
    assert_int_equal(manifest_cap_parse("ioport=0x2f8+8", &c, err,
                                        sizeof(err)), 0);
    assert_int_equal(c.kind, CAP_IOPORT);
    assert_int_equal(c.base, 0x2f8);
    assert_int_equal(manifest_cap_parse("irq=isa:3", &c, err, sizeof(err)),
                     0);
    assert_int_equal(c.irq_number, 3);
    assert_int_equal(manifest_cap_parse("pci=8086:2922", &c, err,
                                        sizeof(err)), 0);
    assert_int_equal(c.pci.vendor, 0x8086);
    assert_int_equal(manifest_cap_parse("log", &c, err, sizeof(err)), -1);
    assert_string_equal(err, "unknown capability 'log'");  /* no line */
    assert_int_equal(manifest_cap_parse("mmio=1+1", &c, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "bad page range in 'mmio=1+1'");
}

static void test_selector_matches(void **state)
{
    (void)state;
    struct pci_selector all = { .by = PCI_SEL_ALL };
    struct pci_selector id = { .by = PCI_SEL_ID, .vendor = 0x8086,
                               .device = 0x2922 };
    struct pci_selector addr = { .by = PCI_SEL_ADDR, .bus = 0, .dev = 0x1f,
                                 .fn = 2 };
    assert_true(pci_selector_matches(&all, 3, 4, 5, 0x1234, 0x1111));
    assert_true(pci_selector_matches(&id, 0, 0x1f, 2, 0x8086, 0x2922));
    assert_false(pci_selector_matches(&id, 0, 0x1f, 2, 0x8086, 0x2923));
    assert_false(pci_selector_matches(&id, 0, 0x1f, 2, 0x8087, 0x2922));
    assert_true(pci_selector_matches(&addr, 0, 0x1f, 2, 0x8086, 0x2922));
    assert_false(pci_selector_matches(&addr, 0, 0x1f, 3, 0x8086, 0x2922));
    assert_false(pci_selector_matches(&addr, 1, 0x1f, 2, 0x8086, 0x2922));
}

/* restart=, on-demand, idle=, heartbeat=: options, not handles. */
static void test_supervision_options(void **state)
{
    (void)state;
    assert_int_equal(parse("svc bin/svc restart=never\n"
                           "a bin/a restart=always heartbeat=500ms log\n"
                           "b bin/b serve=echo on-demand idle=2s "
                           "restart=on-failure\n"
                           "c bin/c serve=x on-demand heartbeat=3600s\n"
                           "d bin/d"), 0);
    assert_int_equal(M.n, 5);
    assert_int_equal(M.e[0].restart, RESTART_NEVER);
    assert_int_equal(M.e[1].restart, RESTART_ALWAYS);
    assert_int_equal(M.e[1].heartbeat_ns, 500000000ull);
    assert_int_equal(M.e[1].ncaps, 0);
    assert_true(M.e[1].log);
    assert_int_equal(M.e[2].restart, RESTART_ON_FAILURE);
    assert_true(M.e[2].on_demand);
    assert_int_equal(M.e[2].idle_ns, 2000000000ull);
    assert_int_equal(M.e[2].ncaps, 1);
    assert_int_equal(M.e[3].idle_ns, MANIFEST_IDLE_DEFAULT);
    assert_int_equal(M.e[3].heartbeat_ns, 3600ull * 1000000000ull);
    assert_int_equal(M.e[4].restart, RESTART_NEVER);
    assert_false(M.e[4].on_demand);
    assert_int_equal(M.e[4].heartbeat_ns + M.e[4].idle_ns, 0);
    assert_int_equal(parse("a bin/a heartbeat=1ms"), 0);
    assert_int_equal(M.e[0].heartbeat_ns, 1000000ull);

    refused("a bin/a restart=sometimes", 1, "restart= takes always");
    refused("a bin/a restart=", 1, "restart= takes always");
    refused("a bin/a restart=always restart=never", 1,
            "'restart' given twice");
    refused("svc bin/svc\na bin/a serve=e on-demand on-demand", 2,
            "'on-demand' given twice");
    refused("a bin/a heartbeat=1s heartbeat=2s", 1,
            "'heartbeat' given twice");
    refused("svc s\na bin/a serve=e on-demand idle=1s idle=2s", 2,
            "'idle' given twice");
    refused("a bin/a on-demand", 1, "on-demand but serves nothing");
    refused("a bin/a idle=5s", 1, "idle= is for on-demand lines only");
    static const char *const bad[] = {
        "heartbeat=5", "heartbeat=ms", "heartbeat=0ms", "heartbeat=3601s",
        "heartbeat=5us", "heartbeat=05s", "heartbeat=-1s", "heartbeat=1.5s",
        "heartbeat=99999999999999999999s", "heartbeat=",
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[96];
        snprintf(line, sizeof(line), "a bin/a %s", bad[i]);
        refused(line, 1, "takes a duration");
    }
}

/* svc and serve=NAME: handles; the name service on an earlier line; a
 * service served by one line. */
static void test_svc_and_serve(void **state)
{
    (void)state;
    unsigned k;
    assert_int_equal(parse("svc bin/svc\ndisk bin/d serve=block svc "
                           "serve=blk2\nc bin/c svc"), 0);
    assert_int_equal(M.e[1].ncaps, 3);
    assert_int_equal(M.e[1].caps[0].kind, CAP_SERVE);
    assert_string_equal(manifest_serve_name(&M.e[1].caps[0]), "block");
    assert_int_equal(M.e[1].caps[1].kind, CAP_SVC);
    assert_ptr_equal(manifest_find_server(&M, "blk2", &k), &M.e[1]);
    assert_int_equal(k, 2);
    assert_null(manifest_find_server(&M, "nothing", &k));
    refused("a bin/a svc\nsvc bin/svc", 1,
            "'svc' needs 'svc' started on an earlier line");
    refused("a bin/a serve=x", 1, "'serve=x' needs 'svc'");
    refused("svc bin/svc svc", 1, "needs 'svc'");           /* not itself */
    refused("svc bin/svc\na bin/a serve=x\nb bin/b serve=x", 3,
            "the service 'x' is served by another line");
    refused("svc bin/svc\na bin/a serve=x serve=x", 2, "given twice");
    refused("svc bin/svc\na bin/a serve=", 2, "serve= takes a service");
    refused("svc bin/svc\na bin/a serve=a/b", 2, "serve= takes a service");
    refused("svc bin/svc\na bin/a serve=01234567890123456789012345678901",
            2, "serve= takes a service");
    refused("a bin/a svc=1", 1, "unknown capability 'svc=1'");
    refused("a bin/a svcx", 1, "unknown capability 'svcx'");
}

/* A second text after the first: names, services and servers across
 * both; an error names its text and leaves the first alone. */
static void test_append(void **state)
{
    (void)state;
    const char *more = "\n# tests\nt bin/t svc serve=echo\n";
    assert_int_equal(parse("svc bin/svc\npci bin/pci"), 0);
    assert_int_equal(manifest_append(more, strlen(more), "test-manifest", &M,
                                     err, sizeof(err)), 0);
    assert_int_equal(M.n, 3);
    assert_int_equal(M.e[2].line, 3);
    assert_int_equal(M.e[2].part, 1);
    assert_int_equal(M.e[0].part, 0);
    static const struct { const char *text, *what; } bad[] = {
        { "x bin/x\npci bin/p", "test-manifest line 2: 'pci' is named twice" },
        { "x bin/x serve=e\nz bin/z serve=e",
          "test-manifest line 2: the service 'e'" },
        { "x bin/x serve=e\ny bin/y restart=no",
          "test-manifest line 2: restart= takes" },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!bad[i].what[0])
            continue;
        assert_int_equal(parse("svc bin/svc\npci bin/pci"), 0);
        assert_int_equal(manifest_append(bad[i].text, strlen(bad[i].text),
                                         "test-manifest", &M, err,
                                         sizeof(err)), -1);
        if (strncmp(err, bad[i].what, strlen(bad[i].what)) != 0)
            fail_msg("message '%s', wanted '%s'", err, bad[i].what);
        assert_int_equal(M.n, 2);
        assert_string_equal(M.e[1].name, "pci");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_lines),
        cmocka_unit_test(test_empty_manifest),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_bad_ranges),
        cmocka_unit_test(test_critical_budgets),
        cmocka_unit_test(test_unknown_capabilities),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_names_and_programs),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_pci_needs_the_server_first),
        cmocka_unit_test(test_stdio),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_cap_parse_alone),
        cmocka_unit_test(test_selector_matches),
        cmocka_unit_test(test_supervision_options),
        cmocka_unit_test(test_svc_and_serve),
        cmocka_unit_test(test_append),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
