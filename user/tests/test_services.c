/*
 * test_services.c - in-system tests of programs started from manifest
 * lines (user/lib/service.c, caps.c) and of the pci server.
 *
 * The suite stands in for init: it parses manifest text, starts the
 * lines with the same code init uses, from its own copy of the root
 * resource, and reads what the started program reports.  The probe
 * (bin/capprobe, user/tests/progs/capprobe.c) reports the tokens and
 * handles it got and what it could do with them, then on command
 * touches a port or memory it was not given, which must kill it alone
 * (#GP: exit -14, #PF: -15).  A pci server started from a line like the
 * real manifest's must find the devices of QEMU's q35 machine with
 * their BARs, and give a driver its function's BARs and interrupt
 * (MSI-X, MSI or the legacy line) and nothing of any other function.
 * Processes come and go: the live counts and free pages must come back.
 *
 * init gives this suite the root resource and the bootfs (`bootfs`
 * capability, user/init/suites.c).  Every wait is for progress, bounded
 * by 60 s to turn a hang into a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "mica.h"
#include "pci.h"
#include "pci_line.h"
#include "progs/capprobe.h"
#include "service.h"
#include "utest.h"

#define SEC 1000000000ull
#define BOUND (60 * SEC)
#define GP_EXIT (-(MICA_EXC_GP + 1))
#define PF_EXIT (-(MICA_EXC_PAGE_FAULT + 1))

static uint64_t now_ns(void)
{
    uint64_t t = 0;
    mica_clock_get(&t);
    return t;
}

static const void *fs;
static size_t fs_len;

static bool map_bootfs(void)
{
    mica_handle_t v = mica_cap("bootfs", 0);
    uint64_t size = 0, addr = 0;
    if (fs)
        return true;
    if (!v || mica_vmo_get_size(v, &size) ||
        mica_vm_map(mica_process_self(), v, 0, size, MICA_VM_READ, &addr))
        return false;
    fs = (const void *)addr;
    fs_len = size;
    return true;
}

/* Parse `text` into *m and start its line `i` with `res`. */
static int start(struct manifest *m, const char *text, unsigned i,
                 mica_handle_t res, struct service *pci, struct service *s,
                 const char **why)
{
    char err[160];
    if (!map_bootfs())
        return ERR_NOT_FOUND;
    if (manifest_parse(text, strlen(text), m, err, sizeof(err))) {
        printf("    # %s\n", err);
        return ERR_INVALID_ARGS;
    }
    struct service_set set = { pci, pci ? 1 : 0, NULL };
    static const struct manifest_entry pci_line = { .name = "pci" };
    if (pci && !pci->entry)
        pci->entry = &pci_line;         /* a stand-in for the server */
    return service_start(&m->e[i], fs, fs_len, res, &set, s, why);
}

static int read_report(struct service *s, struct probe_report *r)
{
    struct mica_msg_buf b = { .bytes = r, .bytes_cap = sizeof(*r) };
    memset(r, 0, sizeof(*r));
    int err = mica_object_wait_one(s->chan, SIGNAL_READABLE |
                                   SIGNAL_PEER_CLOSED, now_ns() + BOUND, NULL);
    if (!err)
        err = mica_channel_read(s->chan, &b);
    if (!err && b.actual_bytes != sizeof(*r))
        err = ERR_BAD_STATE;
    return err;
}

/* Send the probe a command and return its exit code (or 1000 + error). */
static int command(struct service *s, const char *cmd)
{
    struct mica_process_info info = { .exit_code = 0 };
    int err = mica_channel_write(s->chan, cmd, (uint32_t)strlen(cmd), NULL,
                                 0);
    if (!err)
        err = mica_object_wait_one(s->proc, SIGNAL_TERMINATED,
                                   now_ns() + BOUND, NULL);
    if (!err)
        err = mica_process_info(s->proc, &info);
    service_stop(s);
    return err ? 1000 + err : info.exit_code;
}

/* Nothing more alive, no fewer free pages.  (Only more than before is a
 * leak: a process of an earlier test may still be finishing its teardown
 * when `before` is read, and its going lowers the counts.) */
static bool no_more(const struct mica_system_info *now,
                    const struct mica_system_info *before)
{
    return now->free_pages >= before->free_pages &&
           now->live_processes <= before->live_processes &&
           now->live_threads <= before->live_threads &&
           now->live_vmos <= before->live_vmos &&
           now->live_channels <= before->live_channels &&
           now->live_ports <= before->live_ports;
}

/* The counts once the processes this test ended are gone (their teardown
 * may finish on another CPU after TERMINATED): until nothing more is
 * alive than `before`, for up to BOUND. */
static void settle(struct mica_system_info *now,
                   const struct mica_system_info *before)
{
    uint64_t end = now_ns() + BOUND;
    for (;;) {
        mica_system_info(now);
        if (no_more(now, before) || now_ns() > end)
            return;
        mica_nanosleep(now_ns() + 10000000);
    }
}

/* The counts once no more processes and threads live than at `start`:
 * what a test started is gone, and what it freed is counted. */
static void quiesce(struct mica_system_info *now,
                    const struct mica_system_info *start)
{
    uint64_t end = now_ns() + BOUND;
    for (;;) {
        mica_system_info(now);
        if ((now->live_processes <= start->live_processes &&
             now->live_threads <= start->live_threads) ||
            now_ns() > end)
            return;
        mica_nanosleep(now_ns() + 10000000);
    }
}

static void print_counts(const char *what, const struct mica_system_info *i)
{
    printf("    # %s: free pages %llu, processes %llu, threads %llu, vmos "
           "%llu, channels %llu, ports %llu\n", what,
           (unsigned long long)i->free_pages,
           (unsigned long long)i->live_processes,
           (unsigned long long)i->live_threads,
           (unsigned long long)i->live_vmos,
           (unsigned long long)i->live_channels,
           (unsigned long long)i->live_ports);
}

/* --- the probe -------------------------------------------------------- */

static struct manifest m;

#define COM2_LINE "probe bin/capprobe ioport=0x2f8+8 irq=isa:3\n"

UTEST(probe_gets_exactly_its_line)
{
    struct service s;
    static struct probe_report r;
    UASSERT(start(&m, COM2_LINE, 0, mica_resource_handle(), NULL, &s,
                  NULL) == OK);
    UASSERT(read_report(&s, &r) == OK);
    UEXPECT(r.caps == OK);
    UEXPECT(r.ncaps == 2);
    UEXPECT(memcmp(r.tokens, "ioport=0x2f8+8\0irq=isa:3\0", 25) == 0);
    /* the right kinds, working: ports enabled and used, the interrupt
     * of the loopback UART on them waited for and acknowledged */
    UEXPECT(r.cap[0].kind_ok == OK && r.cap[0].use == OK);
    UEXPECT(r.cap[1].kind_ok == OK && r.cap[1].use == OK);
    UEXPECT(r.cap[1].value == 3);           /* ISA IRQ 3 is GSI 3 here */
    /* nothing beyond the line: no resource, no log, no device object */
    UEXPECT(r.resource == 0);
    UEXPECT(r.log == ERR_ACCESS_DENIED);
    for (int i = 0; i < 5; i++) {
        UEXPECT(r.no_resource[i] == ERR_BAD_HANDLE);
        UEXPECT(r.not_resource[i] == ERR_WRONG_TYPE);
    }
    UEXPECT(command(&s, PROBE_EXIT) == 0);
}

UTEST(probe_stray_port_faults_only_it)
{
    struct service s;
    static struct probe_report r;
    UASSERT(start(&m, COM2_LINE, 0, mica_resource_handle(), NULL, &s,
                  NULL) == OK);
    UASSERT(read_report(&s, &r) == OK);
    UEXPECT(r.cap[0].use == OK);            /* its own ports work */
    UEXPECT(command(&s, PROBE_STRAY_PORT) == GP_EXIT);
}

UTEST(probe_stray_memory_faults_only_it)
{
    struct service s;
    static struct probe_report r;
    UASSERT(start(&m, "probe bin/capprobe\n", 0, mica_resource_handle(),
                  NULL, &s, NULL) == OK);
    UASSERT(read_report(&s, &r) == OK);
    UEXPECT(r.caps == OK && r.ncaps == 0);
    UEXPECT(command(&s, PROBE_STRAY_MEM) == PF_EXIT);
}

UTEST(probe_log_memory_and_resources)
{
    struct service s;
    static struct probe_report r;
    UASSERT(start(&m, "probe bin/capprobe log mmio=0xfed00000+0x1000 "
                  "resource=irq:23+1 resource=ioport:0x2f8+8 "
                  "resource=mmio:0xfed00000+0x1000 "
                  "resource=dma:0+0x100000000 critical=300us\n",
                  0, mica_resource_handle(), NULL, &s, NULL) == OK);
    UASSERT(read_report(&s, &r) == OK);
    UEXPECT(r.ncaps == 6);
    UEXPECT(r.log == OK);
    UEXPECT(r.resource == 0);
    /* the HPET's page: its identification names QEMU's vendor */
    UEXPECT(r.cap[0].kind_ok == OK && r.cap[0].use == OK);
    UEXPECT((r.cap[0].value >> 16 & 0xffff) == 0x8086);
    UEXPECT(r.cap[0].outside != OK);
    /* each resource makes its objects (the budget: a thread takes it),
     * and none past its end */
    for (unsigned i = 1; i < 6; i++) {
        UEXPECT(r.cap[i].kind_ok == OK);
        UEXPECT(r.cap[i].use == OK);
        UEXPECT(r.cap[i].outside == ERR_ACCESS_DENIED);
    }
    UEXPECT(command(&s, PROBE_EXIT) == 0);
}

/* Lines that cannot be carried out: each starts nothing. */
static void start_errors(mica_handle_t root, mica_handle_t narrow)
{
    struct service s, fake_pci = { 0 };
    const char *why = "";
    UEXPECT(start(&m, "a bin/nothing\n", 0, root, NULL, &s, &why) ==
            ERR_NOT_FOUND);
    UEXPECT(strcmp(why, "no such program in the bootfs") == 0);
    UEXPECT(start(&m, "a manifest\n", 0, root, NULL, &s, &why) ==
            ERR_BAD_FORMAT);
    UEXPECT(strcmp(why, "not an ELF file") == 0);
    UEXPECT(start(&m, "a bin/capprobe ioport=0x2f8+8 irq=gsi:99:level:low\n",
                  0, root, NULL, &s, &why) == ERR_OUT_OF_RANGE);
    UEXPECT(strcmp(why, "irq=gsi:99:level:low") == 0);
    UEXPECT(start(&m, "a bin/capprobe mmio=0x100000+0x1000\n", 0, root, NULL,
                  &s, &why) == ERR_ACCESS_DENIED);      /* RAM */
    UEXPECT(strcmp(why, "mmio=0x100000+0x1000") == 0);
    /* the starter cannot give what it does not hold */
    UEXPECT(start(&m, "a bin/capprobe ioport=0x2f8+8 ioport=0x3f8+8\n", 0,
                  narrow, NULL, &s, &why) == ERR_ACCESS_DENIED);
    UEXPECT(strcmp(why, "ioport=0x3f8+8") == 0);
    UEXPECT(start(&m, "pci bin/pci\na bin/capprobe pci=*\n", 1, root, NULL,
                  &s, &why) == ERR_NOT_FOUND);          /* pci not running */
    UEXPECT(strcmp(why, "pci=*") == 0);
    UEXPECT(start(&m, "pci bin/pci\na bin/capprobe pci=*\n", 1, root,
                  &fake_pci, &s, &why) == ERR_BAD_HANDLE);
}

/* ... and leaves nothing behind (the first round may grow this
 * process's own memory; the second must change nothing). */
UTEST(start_errors_leave_nothing)
{
    struct mica_system_info before, after;
    mica_handle_t root = mica_resource_handle(), narrow;
    UASSERT(mica_resource_create(root, MICA_RESOURCE_IOPORT, 0x2f8, 8,
                                 &narrow) == OK);
    start_errors(root, narrow);
    mica_system_info(&before);
    start_errors(root, narrow);
    settle(&after, &before);
    mica_handle_close(narrow);
    if (!no_more(&after, &before)) {
        print_counts("before", &before);
        print_counts("after", &after);
    }
    UEXPECT(no_more(&after, &before));
}

/* A program that ends before it is ready is seen as such. */
UTEST(ready_or_gone)
{
    struct service s;
    static struct probe_report r;
    UASSERT(start(&m, COM2_LINE, 0, mica_resource_handle(), NULL, &s,
                  NULL) == OK);
    UASSERT(read_report(&s, &r) == OK);     /* the probe says no "ready" */
    UEXPECT(service_wait_ready(&s, 1) == ERR_TIMED_OUT);
    mica_process_kill(s.proc, 7);
    UEXPECT(service_wait_ready(&s, now_ns() + BOUND) == ERR_PEER_CLOSED);
    UEXPECT(!s.ready);
    service_stop(&s);
}

UTEST(probes_come_and_go_without_leaks)
{
    struct mica_system_info first, before, after;
    static struct probe_report r;
    mica_system_info(&first);
    for (int round = 0; round < 4; round++) {
        struct service s;
        if (round == 1)
            quiesce(&before, &first);
        UASSERT(start(&m, COM2_LINE, 0, mica_resource_handle(), NULL, &s,
                      NULL) == OK);
        UEXPECT(read_report(&s, &r) == OK && r.cap[1].use == OK);
        UEXPECT(command(&s, round % 2 ? PROBE_EXIT : PROBE_STRAY_PORT) ==
                (round % 2 ? 0 : GP_EXIT));
    }
    settle(&after, &before);
    if (!no_more(&after, &before)) {
        print_counts("before", &before);
        print_counts("after", &after);
    }
    UEXPECT(no_more(&after, &before));
}

/* --- the pci server --------------------------------------------------- */

static struct manifest pm;
static struct service pci;

static void pci_down(void)
{
    service_stop(&pci);
}

/* The suite's own pci server, started from PCI_LINE, ready; it is
 * stopped when the suite ends (a process lives on when the last handle
 * to it closes). */
static bool pci_up(void)
{
    static bool registered;
    if (pci.proc)
        return true;
    if (!registered)
        registered = atexit(pci_down) == 0;
    if (start(&pm, PCI_LINE, 0, mica_resource_handle(), NULL, &pci,
              NULL) != OK)
        return false;
    if (service_wait_ready(&pci, now_ns() + BOUND) != OK) {
        service_stop(&pci);
        return false;
    }
    return true;
}

static mica_handle_t pci_connect(const char *token)
{
    mica_handle_t h = 0;
    if (!pci_up() || service_connect(&pci, token, &h) != OK)
        return 0;
    return h;
}

struct want {
    uint16_t vendor, device;
    uint8_t dev, fn;
    uint32_t class;         /* class << 8 | subclass */
    bool found;
};

UTEST(pci_finds_the_q35_devices)
{
    struct want w[] = {
        { 0x8086, 0x29c0, 0x00, 0, 0x0600, false },     /* host bridge */
        { 0x8086, 0x2918, 0x1f, 0, 0x0601, false },     /* LPC (ISA) */
        { 0x8086, 0x2922, 0x1f, 2, 0x0106, false },     /* AHCI */
        { 0x8086, 0x2930, 0x1f, 3, 0x0c05, false },     /* SMBus */
    };
    mica_handle_t all = pci_connect("pci=*");
    struct pci_info i;
    struct pci_bar bars[PCI_BARS + 1];
    unsigned n = 0;
    uint32_t nb;
    UASSERT(all != 0);
    for (; pci_info(all, n, &i, bars, PCI_BARS + 1, &nb) == OK; n++) {
        UEXPECT(i.bus == 0 && nb == PCI_BARS);
        for (unsigned k = 0; k < sizeof(w) / sizeof(w[0]); k++)
            if (i.vendor == w[k].vendor && i.device == w[k].device) {
                UEXPECT(i.dev == w[k].dev && i.fn == w[k].fn);
                UEXPECT(i.class_code >> 8 == w[k].class);
                w[k].found = true;
            }
        for (unsigned b = 0; b < nb; b++) {     /* sane BARs */
            const struct pci_bar *bar = &bars[b];
            if (bar->kind == PCI_BAR_KIND_NONE)
                continue;
            UEXPECT((bar->size & (bar->size - 1)) == 0);
            UEXPECT(bar->base % bar->size == 0);
            if (bar->kind == PCI_BAR_KIND_IO)
                UEXPECT(bar->base + bar->size <= 0x10000);
            else
                UEXPECT(bar->base >= 0xc0000000ull &&
                        bar->base + bar->size <= 0xfec00000ull);
        }
    }
    UEXPECT(n >= 4);
    for (unsigned k = 0; k < sizeof(w) / sizeof(w[0]); k++)
        UEXPECT(w[k].found);
    UEXPECT(pci_info(all, n, &i, NULL, 0, NULL) == ERR_NOT_FOUND);
    /* a listing connection reads, and gets nothing */
    uint32_t v = 0;
    mica_handle_t h = 0;
    UEXPECT(pci_config_read(all, 0, 0, 4, &v) == OK && v == 0x29c08086);
    UEXPECT(pci_bar(all, 0, 0, &h, NULL) == ERR_ACCESS_DENIED);
    UEXPECT(pci_irq(all, 0, PCI_IRQ_ANY, &h, NULL) == ERR_ACCESS_DENIED);
    UEXPECT(pci_config_write(all, 0, 0x40, 4, 0) == ERR_ACCESS_DENIED);
    UEXPECT(h == 0);
    mica_handle_close(all);
}

static volatile uint32_t *map_vmo(mica_handle_t v, uint64_t len)
{
    uint64_t addr = 0;
    if (mica_vm_map(mica_process_self(), v, 0, len,
                    MICA_VM_READ | MICA_VM_WRITE, &addr))
        return NULL;
    return (volatile uint32_t *)addr;
}

UTEST(pci_driver_gets_its_bars)
{
    mica_handle_t ahci = pci_connect("pci=8086:2922"), v, io;
    struct pci_info i;
    struct pci_bar bar;
    UASSERT(ahci != 0);
    UASSERT(pci_info(ahci, 0, &i, NULL, 0, NULL) == OK);
    UEXPECT(i.vendor == 0x8086 && i.device == 0x2922);
    UEXPECT(i.bus == 0 && i.dev == 0x1f && i.fn == 2);
    UEXPECT(i.flags & PCI_HAS_MSI);
    UEXPECT(pci_info(ahci, 1, &i, NULL, 0, NULL) == ERR_NOT_FOUND); /* its own */
    /* the AHCI registers (BAR5): version 1.0 */
    UASSERT(pci_bar(ahci, 0, 5, &v, &bar) == OK);
    UEXPECT(bar.kind == PCI_BAR_KIND_MEM32 && bar.size == 0x1000);
    uint64_t size = 0;
    UEXPECT(mica_vmo_get_size(v, &size) == OK && size == 0x1000);
    volatile uint32_t *abar = map_vmo(v, 0x1000);
    UASSERT(abar != NULL);
    UEXPECT(abar[0x10 / 4] == 0x00010000);              /* VS */
    UEXPECT(abar[0] != 0 && abar[0] != 0xffffffff);     /* CAP */
    mica_vm_unmap(mica_process_self(), (uint64_t)abar, 0x1000);
    mica_handle_close(v);
    /* its I/O BAR: an ioport object, for the driver to enable */
    UASSERT(pci_bar(ahci, 0, 4, &io, &bar) == OK);
    UEXPECT(bar.kind == PCI_BAR_KIND_IO && bar.size == 0x20);
    UEXPECT(mica_ioport_enable(io) == OK);
    mica_handle_close(io);
    /* what it has not */
    v = 0;
    UEXPECT(pci_bar(ahci, 0, 0, &v, NULL) == ERR_NOT_FOUND);
    UEXPECT(pci_bar(ahci, 0, 6, &v, NULL) == ERR_OUT_OF_RANGE);
    UEXPECT(pci_bar(ahci, 1, 5, &v, NULL) == ERR_NOT_FOUND);
    UEXPECT(v == 0);
    mica_handle_close(ahci);
}

/* Through ECAM a PCI Express function's extended space is there: q35's
 * e1000e has its advanced error reporting capability at 0x100.  A pci
 * server without the window falls back to mechanism #1 and its 256
 * bytes. */
UTEST(pci_ecam_reaches_extended_space)
{
    struct mica_platform_info pi;
    UASSERT(mica_platform_info(&pi) == OK);
    UASSERT(pi.necam == 1);
    UEXPECT(pi.ecam[0].base == 0xb0000000ull && pi.ecam[0].segment == 0 &&
            pi.ecam[0].bus_start == 0 && pi.ecam[0].bus_end == 255);
    mica_handle_t nic = pci_connect("pci=8086:10d3");
    uint32_t v = 0;
    UASSERT(nic != 0);
    UEXPECT(pci_config_read(nic, 0, 0x100, 4, &v) == OK);
    UEXPECT((v & 0xffff) == 0x0001);        /* AER */
    UEXPECT(pci_config_read(nic, 0, 0x100, 2, &v) == OK && v == 0x0001);
    mica_handle_close(nic);

    static struct manifest cm;
    struct service cam;
    mica_handle_t h;
    UASSERT(start(&cm, PCI_LINE_CAM, 0, mica_resource_handle(), NULL, &cam,
                  NULL) == OK);
    UASSERT(service_wait_ready(&cam, now_ns() + BOUND) == OK);
    UASSERT(service_connect(&cam, "pci=8086:10d3", &h) == OK);
    UEXPECT(pci_config_read(h, 0, 0, 4, &v) == OK && v == 0x10d38086);
    UEXPECT(pci_config_read(h, 0, 252, 4, &v) == OK);
    UEXPECT(pci_config_read(h, 0, 0x100, 4, &v) == ERR_OUT_OF_RANGE);
    mica_handle_close(h);
    service_stop(&cam);
}

/* A request of method `id` with the bytes `shape` encodes from q, cut
 * or grown to `len` bytes (0: as encoded), byte `poke` (when not 0) set
 * to `value`, and the handles given (which move), called as it is: the
 * status of the server's reply, which must be a well-formed one,
 * repeating the request's transaction id when it has one. */
static int raw(mica_handle_t ch, const struct idl_method *shape,
               uint64_t id, const void *q, uint32_t len, uint32_t poke,
               uint8_t value, const mica_handle_t *h, uint32_t nh)
{
    uint64_t qb[16] = { 0 }, rb[32];
    struct idl_header hd = { IDL_MAGIC, 0, 7, id, OK, 0 };
    struct idl_out o = { .bytes = qb, .cap = sizeof(qb) };
    if (idl_encode(&shape->request, &hd, q, &o))
        return 1;
    if (poke)
        ((uint8_t *)qb)[poke] = value;
    struct mica_msg m = { qb, h, len ? len : o.len, nh };
    struct mica_msg_buf b = { .bytes = rb, .bytes_cap = sizeof(rb) };
    int err = mica_channel_call(ch, &m, &b, now_ns() + BOUND);
    if (err)
        return err;
    uint64_t txid = m.num_bytes >= IDL_HEADER_SIZE ? 7 : 0; /* or unread */
    if (idl_decode_header(rb, b.actual_bytes, true, &hd) ||
        hd.txid != txid || b.actual_handles)
        return 2;
    return hd.status == OK || b.actual_bytes == IDL_HEADER_SIZE ? hd.status
                                                                 : 3;
}

/* Messages the generated dispatch refuses, and one only written. */
static void malformed_requests(mica_handle_t ahci, const struct pci_info *i)
{
    struct pci_irq_req irq = { 0, PCI_IRQ_MSI };
    struct pci_info_req info = { 0 };
    mica_handle_t h, ev;
    uint32_t v;
    UEXPECT(raw(ahci, &pci_info_method, 99, &info, 0, 0, 0, NULL, 0) ==
            ERR_NOT_SUPPORTED);
    UEXPECT(raw(ahci, &pci_info_method, PCI_INFO_ID, &info, 0, 0, 0, NULL,
                0) == OK);
    /* an irq kind that is none: the stub will not send it, the server
     * will not take it */
    UEXPECT(pci_irq(ahci, 0, 9, &h, NULL) == ERR_INVALID_ARGS);
    UEXPECT(raw(ahci, &pci_irq_method, PCI_IRQ_ID, &irq, 0, 36, 9, NULL,
                0) == ERR_INVALID_ARGS);
    /* cut short, bytes after it, padding not zero */
    UEXPECT(raw(ahci, &pci_info_method, PCI_INFO_ID, &info, 4, 0, 0, NULL,
                0) == ERR_INVALID_ARGS);
    UEXPECT(raw(ahci, &pci_info_method, PCI_INFO_ID, &info, 48, 0, 0, NULL,
                0) == ERR_INVALID_ARGS);
    UEXPECT(raw(ahci, &pci_info_method, PCI_INFO_ID, &info, 0, 36, 1, NULL,
                0) == ERR_INVALID_ARGS);
    /* with a handle, which is closed */
    UASSERT(mica_event_create(0, &ev) == OK);
    UEXPECT(raw(ahci, &pci_info_method, PCI_INFO_ID, &info, 0, 0, 0, &ev,
                1) == ERR_INVALID_ARGS);
    /* a request written, not called, is dropped unanswered */
    uint64_t qb[8];
    struct idl_header hd = { IDL_MAGIC, 0, 8, PCI_IRQ_ID, OK, 0 };
    struct idl_out o = { .bytes = qb, .cap = sizeof(qb) };
    UASSERT(idl_encode(&pci_irq_method.request, &hd, &irq, &o) == OK);
    UEXPECT(mica_channel_write(ahci, qb, o.len, NULL, 0) == OK);
    UEXPECT(pci_config_read(ahci, 0, i->msi_cap + 2, 2, &v) == OK &&
            !(v & 1));                      /* MSI not turned on */
}

UTEST(pci_config_space_rules)
{
    mica_handle_t ahci = pci_connect("pci=00:1f.2");
    struct pci_info i;
    uint32_t v = 0, cmd = 0;
    UASSERT(ahci != 0);
    UASSERT(pci_info(ahci, 0, &i, NULL, 0, NULL) == OK);
    UEXPECT(i.device == 0x2922);
    UEXPECT(pci_config_read(ahci, 0, 0, 4, &v) == OK && v == 0x29228086);
    UEXPECT(pci_config_read(ahci, 0, 2, 2, &v) == OK && v == 0x2922);
    UEXPECT(pci_config_read(ahci, 0, 255, 1, &v) == OK);
    /* widths, alignment, range */
    UEXPECT(pci_config_read(ahci, 0, 0, 3, &v) == ERR_INVALID_ARGS);
    UEXPECT(pci_config_read(ahci, 0, 2, 4, &v) == ERR_INVALID_ARGS);
    UEXPECT(pci_config_read(ahci, 0, 4096, 1, &v) == ERR_OUT_OF_RANGE);
    UEXPECT(pci_config_read(ahci, 0, 4094, 4, &v) == ERR_INVALID_ARGS);
    UEXPECT(pci_config_read(ahci, 0, 0xfffffffcu, 4, &v) == ERR_OUT_OF_RANGE);
    /* the extended space (ECAM) is read only */
    UEXPECT(pci_config_read(ahci, 0, 4092, 4, &v) == OK);
    UEXPECT(pci_config_write(ahci, 0, 0x100, 4, 0) == ERR_ACCESS_DENIED);
    UEXPECT(pci_config_write(ahci, 0, 0xffc, 4, 0) == ERR_ACCESS_DENIED);
    UEXPECT(pci_config_write(ahci, 0, 0x41, 2, 0) == ERR_INVALID_ARGS);
    /* the header is the server's, but for the command register's bits */
    UEXPECT(pci_config_write(ahci, 0, 0x24, 4, 0) == ERR_ACCESS_DENIED);
    UEXPECT(pci_config_write(ahci, 0, 0x3c, 1, 5) == ERR_ACCESS_DENIED);
    UEXPECT(pci_config_write(ahci, 0, 0x04, 4, 0) == ERR_ACCESS_DENIED);
    UEXPECT(pci_config_write(ahci, 0, i.msi_cap + 4, 4, 0) ==
            ERR_ACCESS_DENIED);
    UASSERT(pci_config_read(ahci, 0, 4, 2, &cmd) == OK);
    UEXPECT(pci_config_write(ahci, 0, 4, 2, 0xffff) == OK);
    UEXPECT(pci_config_read(ahci, 0, 4, 2, &v) == OK);
    UEXPECT((v & 0x0407) == 0x0407);        /* I/O, memory, master, INTx off */
    UEXPECT(pci_config_write(ahci, 0, 4, 2, cmd) == OK);
    UEXPECT(pci_config_read(ahci, 0, 4, 2, &v) == OK && v == cmd);
    malformed_requests(ahci, &i);
    mica_handle_close(ahci);
}

/* What the device was programmed with must be what the object says. */
static void check_msi(mica_handle_t ch, const struct pci_info *i,
                      mica_handle_t irq)
{
    struct mica_irq_info ii;
    uint32_t ctrl = 0, lo = 0, data = 0;
    UASSERT(mica_interrupt_info(irq, &ii) == OK);
    UEXPECT(ii.number == MICA_IRQ_MSI_NUMBER);
    unsigned c = i->msi_cap;
    UASSERT(pci_config_read(ch, 0, c + 2, 2, &ctrl) == OK);
    UEXPECT(ctrl & 1);                                  /* enabled */
    UEXPECT((ctrl & 0x70) == 0);                        /* one message */
    UEXPECT(pci_config_read(ch, 0, c + 4, 4, &lo) == OK &&
            lo == (uint32_t)ii.msi_address);
    UEXPECT(pci_config_read(ch, 0, c + (ctrl & 0x80 ? 12 : 8), 2, &data) ==
                OK && data == ii.msi_data);
}

UTEST(pci_interrupts_msi_and_legacy)
{
    mica_handle_t ahci = pci_connect("pci=8086:2922"), irq;
    struct pci_info i;
    struct mica_irq_info ii;
    uint32_t given = 9, v = 0;
    UASSERT(ahci != 0);
    UASSERT(pci_info(ahci, 0, &i, NULL, 0, NULL) == OK);
    UASSERT(pci_irq(ahci, 0, PCI_IRQ_ANY, &irq, &given) == OK);
    UEXPECT(given == PCI_IRQ_MSI);                      /* it has no MSI-X */
    check_msi(ahci, &i, irq);
    UEXPECT(pci_config_read(ahci, 0, 4, 2, &v) == OK && (v & 0x400));
    mica_handle_close(irq);
    UEXPECT(pci_irq(ahci, 0, PCI_IRQ_MSIX, &irq, NULL) == ERR_NOT_SUPPORTED);
    /* the legacy line: the one the firmware wrote, level-triggered */
    UASSERT(pci_irq(ahci, 0, PCI_IRQ_LEGACY, &irq, &given) == OK);
    UEXPECT(given == PCI_IRQ_LEGACY);
    UEXPECT(mica_interrupt_info(irq, &ii) == OK && ii.number == i.irq_line &&
            ii.level == 1);
    UEXPECT(pci_config_read(ahci, 0, i.msi_cap + 2, 2, &v) == OK &&
            !(v & 1));                                  /* MSI off again */
    UEXPECT(pci_config_read(ahci, 0, 4, 2, &v) == OK && !(v & 0x400));
    mica_handle_close(irq);
    mica_handle_close(ahci);
    /* the SMBus has no MSI: "any" is its legacy line */
    mica_handle_t smbus = pci_connect("pci=00:1f.3");
    UASSERT(smbus != 0);
    UEXPECT(pci_irq(smbus, 0, PCI_IRQ_MSI, &irq, NULL) == ERR_NOT_SUPPORTED);
    UASSERT(pci_irq(smbus, 0, PCI_IRQ_ANY, &irq, &given) == OK);
    UEXPECT(given == PCI_IRQ_LEGACY);
    mica_handle_close(irq);
    mica_handle_close(smbus);
}

/* The first function with MSI-X (q35's default NIC, an e1000e, has it):
 * entry 0 of its table holds what the interrupt object says. */
UTEST(pci_interrupts_msix)
{
    mica_handle_t all = pci_connect("pci=*"), ch, irq, v;
    struct pci_info i;
    unsigned n = 0;
    UASSERT(all != 0);
    while (pci_info(all, n, &i, NULL, 0, NULL) == OK &&
           !(i.flags & PCI_HAS_MSIX))
        n++;
    mica_handle_close(all);
    UASSERT(i.flags & PCI_HAS_MSIX);
    char token[24];
    snprintf(token, sizeof(token), "pci=%02x:%02x.%x", i.bus, i.dev, i.fn);
    UASSERT((ch = pci_connect(token)) != 0);
    uint32_t given = 0, ctrl = 0, table = 0;
    UASSERT(pci_irq(ch, 0, PCI_IRQ_ANY, &irq, &given) == OK);
    UEXPECT(given == PCI_IRQ_MSIX);
    UEXPECT(pci_config_read(ch, 0, i.msix_cap + 2, 2, &ctrl) == OK);
    UEXPECT((ctrl & 0xc000) == 0x8000);         /* enabled, not masked */
    UASSERT(pci_config_read(ch, 0, i.msix_cap + 4, 4, &table) == OK);
    struct pci_bar bar;
    UASSERT(pci_bar(ch, 0, table & 7, &v, &bar) == OK);
    volatile uint32_t *regs = map_vmo(v, bar.size);
    UASSERT(regs != NULL);
    volatile uint32_t *e = regs + (table & ~7u) / 4;
    struct mica_irq_info ii;
    UASSERT(mica_interrupt_info(irq, &ii) == OK);
    UEXPECT(e[0] == (uint32_t)ii.msi_address);
    UEXPECT(e[1] == (uint32_t)(ii.msi_address >> 32));
    UEXPECT(e[2] == ii.msi_data);
    UEXPECT((e[3] & 1) == 0);                   /* entry unmasked */
    mica_vm_unmap(mica_process_self(), (uint64_t)regs, bar.size);
    mica_handle_close(v);
    mica_handle_close(irq);
    /* back to the legacy line: MSI-X off */
    UASSERT(pci_irq(ch, 0, PCI_IRQ_LEGACY, &irq, NULL) == OK);
    UEXPECT(pci_config_read(ch, 0, i.msix_cap + 2, 2, &ctrl) == OK &&
            !(ctrl & 0x8000));
    mica_handle_close(irq);
    mica_handle_close(ch);
}

/* A driver started from the manifest reaches pci through its pci= cap. */
UTEST(pci_probe_as_a_driver)
{
    struct service s;
    static struct probe_report r;
    static struct manifest both;
    UASSERT(pci_up());
    UASSERT(start(&both, PCI_LINE "probe bin/capprobe pci=8086:2922\n", 1,
                  mica_resource_handle(), &pci, &s, NULL) == OK);
    UASSERT(read_report(&s, &r) == OK);
    UEXPECT(r.ncaps == 1 && strcmp(r.tokens, "pci=8086:2922") == 0);
    UEXPECT(r.cap[0].kind_ok == OK && r.cap[0].value == 0x80862922);
    UEXPECT(command(&s, PROBE_EXIT) == 0);
}

/* The server goes, and with it everything it made. */
UTEST(pci_server_comes_and_goes_without_leaks)
{
    struct mica_system_info first, before, after;
    service_stop(&pci);
    mica_system_info(&first);
    for (int round = 0; round < 3; round++) {
        if (round == 1)
            quiesce(&before, &first);
        mica_handle_t ch = pci_connect("pci=8086:2922"), irq, v;
        UASSERT(ch != 0);
        UEXPECT(pci_bar(ch, 0, 5, &v, NULL) == OK);
        UEXPECT(pci_irq(ch, 0, PCI_IRQ_MSI, &irq, NULL) == OK);
        mica_handle_close(v);
        mica_handle_close(irq);
        mica_handle_close(ch);
        service_stop(&pci);
    }
    settle(&after, &before);
    if (!no_more(&after, &before)) {
        print_counts("before", &before);
        print_counts("after", &after);
    }
    UEXPECT(no_more(&after, &before));
}
