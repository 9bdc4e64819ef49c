/*
 * manifest.h - the boot manifest: which programs init starts, and the
 * capabilities each one gets (docs/services.md has the format).
 *
 *     # name   program        capabilities...
 *     uart     bin/uart       log ioport=0x3f8+8 irq=isa:4
 *
 * A capability token is also the program's name for what it got: init
 * sends the tokens, as written, with the handles (caps.h), and a program
 * decodes its own tokens with manifest_cap_parse.  The parser is plain
 * C with no system calls, so it is tested on the host
 * (tests/host/test_manifest.c); service.h turns an entry into a running
 * process.
 */
#ifndef MICA_USER_MANIFEST_H
#define MICA_USER_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAX_ENTRIES 32
#define MANIFEST_MAX_CAPS    16     /* handles per program (`log` and
                                       `stdio=` are none) */
#define MANIFEST_NAME_MAX    32     /* with the NUL: process names are 31 */
#define MANIFEST_PATH_MAX    64
#define MANIFEST_TOKEN_MAX   48

enum manifest_cap_kind {
    CAP_IOPORT = 1,     /* ioport=BASE+COUNT: an ioport object */
    CAP_IRQ,            /* irq=isa:N | gsi:N:edge|level:high|low | msi */
    CAP_MMIO,           /* mmio=BASE+SIZE: an uncached physical vmo */
    CAP_RESOURCE,       /* resource=irq|ioport|mmio|dma:BASE+SIZE, or
                           critical=DURATION: a budget [0, ns) */
    CAP_PCI,            /* pci=VVVV:DDDD | BB:DD.F | *: a channel to pci */
    CAP_SVC,            /* svc: a channel to the name service */
    CAP_SERVE,          /* serve=NAME: the listening endpoint of NAME */
};

/* What init does when a program ends (restart=). */
enum manifest_restart {
    RESTART_NEVER = 0,  /* report it (the default) */
    RESTART_ON_FAILURE, /* start it again unless it exited with status 0 */
    RESTART_ALWAYS,     /* start it again whatever the status */
};

/* Durations of idle= and heartbeat=: from 1 ms to an hour. */
#define MANIFEST_DURATION_MIN 1000000ull
#define MANIFEST_DURATION_MAX (3600ull * 1000000000ull)
/* An on-demand program's idle time when its line has no idle=. */
#define MANIFEST_IDLE_DEFAULT (5ull * 1000000000ull)

/* Which PCI functions a pci= connection may reach. */
struct pci_selector {
    enum { PCI_SEL_ALL, PCI_SEL_ID, PCI_SEL_ADDR } by;
    uint16_t vendor, device;            /* PCI_SEL_ID */
    uint8_t bus, dev, fn;               /* PCI_SEL_ADDR */
};

struct manifest_cap {
    enum manifest_cap_kind kind;
    char token[MANIFEST_TOKEN_MAX];     /* as written: the program's name */
    uint64_t base, size;                /* ioport, mmio, resource */
    uint32_t res_kind;                  /* resource: MICA_RESOURCE_* */
    uint32_t irq_number, irq_options;   /* irq: interrupt_create's arguments */
    struct pci_selector pci;            /* pci */
};

struct manifest_entry {
    char name[MANIFEST_NAME_MAX];
    char program[MANIFEST_PATH_MAX];    /* a path in the bootfs */
    unsigned line;                      /* where it was written */
    bool log;                           /* may write the kernel log */
    char stdio[MANIFEST_NAME_MAX];      /* stdio=NAME: the line serving
                                           its fds 0-2 ("": none) */
    enum manifest_restart restart;      /* restart= */
    bool restart_set;                   /* restart= was written */
    bool on_demand;                     /* started on the first connect */
    uint64_t idle_ns;                   /* on-demand: stopped after this
                                           long without a client */
    uint64_t heartbeat_ns;              /* heartbeat=: its period, 0: none */
    unsigned part;                      /* which text it came from: 0 the
                                           first, 1 the next appended... */
    unsigned ncaps;
    struct manifest_cap caps[MANIFEST_MAX_CAPS];
};

struct manifest {
    unsigned n;
    struct manifest_entry e[MANIFEST_MAX_ENTRIES];
};

/* The name of the entry a pci= capability connects to. */
#define MANIFEST_PCI_SERVER "pci"
/* The name of the entry an svc capability connects to (the name service),
 * which a serve= publishes with. */
#define MANIFEST_SVC_SERVER "svc"

/* Parse `len` bytes of manifest text into *m.  0, or -1 with a message
 * naming the line in err; nothing of a bad manifest is to be used. */
int manifest_parse(const char *text, size_t len, struct manifest *m,
                   char *err, size_t errlen);

/* Parse another text into *m after the entries it holds (init's test
 * manifest after the boot manifest): its names must differ from theirs,
 * and its pci=, stdio=, svc and serve= may rely on their lines.  Errors
 * name the line as "LABEL line N"; on one, *m is left as it was.  0 or
 * -1. */
int manifest_append(const char *text, size_t len, const char *label,
                    struct manifest *m, char *err, size_t errlen);

/* The service NAME of a serve=NAME capability (c->kind == CAP_SERVE). */
const char *manifest_serve_name(const struct manifest_cap *c);

/* The entry whose serve= publishes `service`, or NULL; *cap its index. */
const struct manifest_entry *manifest_find_server(const struct manifest *m,
                                                  const char *service,
                                                  unsigned *cap);

/* Decode one capability token (not `log`) into *c.  0, or -1 with a
 * message in err. */
int manifest_cap_parse(const char *token, struct manifest_cap *c, char *err,
                       size_t errlen);

/* Whether the PCI function with these identities is one `sel` reaches. */
bool pci_selector_matches(const struct pci_selector *sel, uint8_t bus,
                          uint8_t dev, uint8_t fn, uint16_t vendor,
                          uint16_t device);

/* The entry called `name`, or NULL. */
const struct manifest_entry *manifest_find(const struct manifest *m,
                                           const char *name);

#endif
