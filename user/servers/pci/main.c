/*
 * main.c - the pci server.
 *
 * Started by init with the log, resources covering what it may hand out
 * (memory and I/O BARs, interrupt lines: docs/drivers.md), and a way to
 * configuration space: an mmio resource covering the ECAM window the
 * firmware names (platform_info), or the ports of configuration
 * mechanism #1 (`ioport=0xcf8+8`), or both -- ECAM is used when it can
 * be, as it reaches PCI Express's extended space too.  It enumerates
 * every function, prints an lspci-like listing to the log, says it is
 * ready, and then serves its connections (serve.c): each names the
 * functions it may reach, and a driver gets its function's BARs and
 * interrupt and nothing else.
 */
#include <stdio.h>

#include "cam.h"
#include "caps.h"
#include "ecam.h"
#include "enum.h"
#include "list.h"
#include "serve.h"

static struct pci_func funcs[PCI_MAX_FUNCS];

static struct ecam ecam;
static mica_handle_t ecam_vmo;
static uint64_t ecam_first;     /* where bus_start's space is in ecam_vmo */

/* Enable the ports of CAM: the first ioport capability must be them. */
static int open_config_ports(void)
{
    struct manifest_cap c;
    if (mica_cap_decode("ioport", 0, &c) || c.base != CAM_PORT_BASE ||
        c.size != CAM_PORT_COUNT) {
        printf("pci: no ioport=0xcf8+8 capability\n");
        return ERR_NOT_FOUND;
    }
    int err = mica_ioport_enable(mica_cap("ioport", 0));
    if (err)
        printf("pci: cannot enable ports 0xcf8-0xcff: %s\n",
               mica_status_str(err));
    return err;
}

static volatile uint8_t *map_ecam_bus(struct ecam *e, unsigned bus)
{
    uint64_t addr = 0;
    if (mica_vm_map(mica_process_self(), ecam_vmo,
                    (uint64_t)(bus - e->bus_start) * ECAM_BUS_BYTES,
                    ECAM_BUS_BYTES, MICA_VM_READ | MICA_VM_WRITE, &addr))
        return NULL;
    return (volatile uint8_t *)addr;
}

/* Segment 0's ECAM window as an uncached vmo, made from the first mmio
 * resource that covers it: OK, ERR_NOT_FOUND (no window, or no
 * resource covers it) or the kernel's error. */
static int open_ecam(struct mica_ecam_window *out)
{
    struct mica_platform_info pi;
    int err = mica_platform_info(&pi);
    if (err)
        return err;
    unsigned i = 0;
    while (i < pi.necam && pi.ecam[i].segment != 0)
        i++;
    if (i == pi.necam || pi.ecam[i].bus_start > pi.ecam[i].bus_end)
        return ERR_NOT_FOUND;
    *out = pi.ecam[i];
    uint64_t first = out->base + (uint64_t)out->bus_start * ECAM_BUS_BYTES;
    uint64_t size = (uint64_t)(out->bus_end - out->bus_start + 1) *
                    ECAM_BUS_BYTES;
    struct manifest_cap c;
    err = ERR_NOT_FOUND;
    for (unsigned k = 0; mica_cap_decode("resource", k, &c) == 0; k++)
        if (c.res_kind == MICA_RESOURCE_MMIO && c.base <= first &&
            first + size <= c.base + c.size &&
            (err = mica_vmo_create_physical(mica_cap("resource", k), first,
                                            size, MICA_CACHE_UNCACHED,
                                            &ecam_vmo)) == OK)
            break;
    ecam_first = first;
    return err;
}

/* The configuration space: ECAM if the firmware has a window and the
 * line covers it, else mechanism #1; NULL when neither works. */
static const struct pci_config *open_config(struct pci_config *ecam_cfg)
{
    struct mica_ecam_window w;
    int err = open_ecam(&w);
    if (!err) {
        ecam.bus_start = w.bus_start;
        ecam.bus_end = w.bus_end;
        ecam.map_bus = map_ecam_bus;
        ecam_config(&ecam, ecam_cfg);
        printf("pci: configuration space through ECAM at %#llx "
               "(buses %u-%u)\n", (unsigned long long)ecam_first,
               w.bus_start, w.bus_end);
        return ecam_cfg;
    }
    printf("pci: no ECAM (%s): configuration mechanism #1, 256 bytes "
           "a function\n", err == ERR_NOT_FOUND
                               ? "no window, or no resource covers it"
                               : mica_status_str(err));
    return open_config_ports() ? NULL : &pci_cam;
}

static void list(const struct pci_func *f, unsigned n, unsigned missed)
{
    char line[160];
    printf("pci: %u functions\n", n);
    for (unsigned i = 0; i < n; i++) {
        pci_describe(&f[i].info, line, sizeof(line));
        printf("pci: %s\n", line);
        for (unsigned b = 0; b < PCI_BARS; b++)
            if (pci_describe_bar(f[i].bar, b, line, sizeof(line)) > 0)
                printf("pci: %s\n", line);
    }
    if (missed)
        printf("pci: %u more functions not kept (at most %d)\n", missed,
               PCI_MAX_FUNCS);
    fflush(stdout);
}

int main(void)
{
    int err = mica_caps_init();
    if (err) {
        printf("pci: no capabilities: %s\n", mica_status_str(err));
        return 1;
    }
    static struct pci_config ecam_cfg;
    const struct pci_config *cfg = open_config(&ecam_cfg);
    if (!cfg)
        return 1;
    unsigned missed;
    unsigned n = pci_enumerate(cfg, funcs, PCI_MAX_FUNCS, &missed);
    list(funcs, n, missed);
    err = pci_serve(cfg, funcs, n);
    printf("pci: stopped: %s\n", mica_status_str(err));
    return 1;
}
