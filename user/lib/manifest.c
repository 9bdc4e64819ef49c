/*
 * manifest.c - parsing the boot manifest (manifest.h).
 *
 * A line is a name, a program and capability tokens, separated by blanks;
 * `#` starts a comment.  Every token is checked completely: a number is
 * decimal or 0x-hexadecimal, all digits, and fits in 64 bits; a range
 * is not empty and does not wrap; a name is unique and short enough; a
 * capability is given once.  The first error ends the parse with the
 * line's number, so a manifest is used whole or not at all: init never
 * starts half of what was meant, nor anything with less (or more) than
 * was meant.
 *
 * The checks here are of form only.  Whether a range is free, or a line
 * exists, the kernel decides when init creates the objects.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mica/critical.h>
#include <mica/device.h>

#include "manifest.h"

static bool good_name(const char *s);

struct parser {
    unsigned line;          /* 0: a lone token, no line to name */
    const char *label;      /* how the text is called in messages */
    char *err;
    size_t errlen;
};

static int fail(struct parser *p, const char *fmt, ...)
{
    int n = 0;
    if (p->line)
        n = snprintf(p->err, p->errlen, "%s line %u: ", p->label, p->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->errlen)
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int digit(char c, unsigned base)
{
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 99;
    return d < (int)base ? d : -1;
}

/* s[0..len) as a whole number: decimal, or hexadecimal after 0x.  A
 * leading zero before more digits (C's octal) is refused, not guessed. */
static bool number(const char *s, size_t len, uint64_t *out)
{
    unsigned base = 10;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    } else if (len > 1 && s[0] == '0') {
        return false;
    }
    if (len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = digit(s[i], base);
        if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
    }
    *out = v;
    return true;
}

static bool number_str(const char *s, uint64_t *out)
{
    return number(s, strlen(s), out);
}

/* BASE+SIZE: size not 0, the range not wrapping past 2^64. */
static bool range(const char *s, uint64_t *base, uint64_t *size)
{
    const char *plus = strchr(s, '+');
    return plus && number(s, (size_t)(plus - s), base) &&
           number_str(plus + 1, size) && *size != 0 &&
           *base + *size > *base;
}

/* gsi:N:TRIGGER:POLARITY (v points after "gsi:"). */
static int parse_gsi(struct parser *p, const char *v, struct manifest_cap *c)
{
    const char *t = strchr(v, ':');
    const char *pol = t ? strchr(t + 1, ':') : NULL;
    uint64_t n;
    if (!t || !pol || !number(v, (size_t)(t - v), &n) ||
        n >= MICA_IRQ_MSI_NUMBER)
        return fail(p, "bad GSI in '%s'", c->token);
    size_t tl = (size_t)(pol - t - 1);
    uint32_t o;
    if (tl == 4 && strncmp(t + 1, "edge", 4) == 0)
        o = MICA_IRQ_EDGE;
    else if (tl == 5 && strncmp(t + 1, "level", 5) == 0)
        o = MICA_IRQ_LEVEL;
    else
        return fail(p, "trigger must be edge or level in '%s'", c->token);
    if (strcmp(pol + 1, "high") == 0)
        o |= MICA_IRQ_HIGH;
    else if (strcmp(pol + 1, "low") == 0)
        o |= MICA_IRQ_LOW;
    else
        return fail(p, "polarity must be high or low in '%s'", c->token);
    c->irq_number = (uint32_t)n;
    c->irq_options = o;
    return 0;
}

static int parse_irq(struct parser *p, const char *v, struct manifest_cap *c)
{
    uint64_t n;
    if (strcmp(v, "msi") == 0) {
        c->irq_number = MICA_IRQ_MSI_NUMBER;
        c->irq_options = MICA_IRQ_MSI;
        return 0;
    }
    if (strncmp(v, "isa:", 4) == 0) {
        if (!number_str(v + 4, &n) || n > 15)
            return fail(p, "bad ISA IRQ in '%s'", c->token);
        c->irq_number = (uint32_t)n;
        c->irq_options = MICA_IRQ_ISA;
        return 0;
    }
    if (strncmp(v, "gsi:", 4) == 0)
        return parse_gsi(p, v + 4, c);
    return fail(p, "irq= takes isa:N, gsi:N:TRIGGER:POLARITY or msi, "
                "not '%s'", v);
}

static int parse_resource(struct parser *p, const char *v,
                          struct manifest_cap *c)
{
    static const struct { const char *name; uint32_t kind; } kinds[] = {
        { "irq:", MICA_RESOURCE_IRQ }, { "ioport:", MICA_RESOURCE_IOPORT },
        { "mmio:", MICA_RESOURCE_MMIO }, { "dma:", MICA_RESOURCE_DMA },
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i].name);
        if (strncmp(v, kinds[i].name, n) == 0) {
            c->res_kind = kinds[i].kind;
            if (!range(v + n, &c->base, &c->size))
                return fail(p, "bad range in '%s'", c->token);
            return 0;
        }
    }
    return fail(p, "resource= takes irq:, ioport:, mmio: or dma: and a "
                "range, not '%s'", v);
}

/* critical=DURATION: a critical-section budget of DURATION, a number
 * with its unit (ns, us or ms), more than 0 and at most
 * MICA_CRITICAL_BUDGET_MAX; a resource of kind MICA_RESOURCE_CRITICAL
 * over [0, ns). */
static int parse_critical(struct parser *p, const char *v,
                          struct manifest_cap *c)
{
    static const struct { const char *unit; uint64_t ns; } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
    };
    size_t len = strlen(v);
    uint64_t n;
    for (size_t i = 0; len > 2 && i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(v + len - 2, units[i].unit) == 0 &&
            number(v, len - 2, &n) && n > 0 &&
            n <= MICA_CRITICAL_BUDGET_MAX / units[i].ns) {
            c->kind = CAP_RESOURCE;
            c->res_kind = MICA_RESOURCE_CRITICAL;
            c->base = 0;
            c->size = n * units[i].ns;
            return 0;
        }
    return fail(p, "critical= takes a budget from 1ns to 10ms with its "
                "unit (ns, us or ms), not '%s'", v);
}

/* Exactly `n` hexadecimal digits, at most `max`. */
static bool hex_field(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    for (size_t i = 0; i < n; i++)
        if (digit(s[i], 16) < 0)
            return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 16 + (uint64_t)digit(s[i], 16);
    *out = v;
    return v <= max;
}

/* VVVV:DDDD (vendor:device), BB:DD.F (bus:device.function) or *. */
static int parse_pci(struct parser *p, const char *v, struct manifest_cap *c)
{
    struct pci_selector *s = &c->pci;
    uint64_t a, b, f;
    size_t len = strlen(v);
    if (strcmp(v, "*") == 0) {
        s->by = PCI_SEL_ALL;
    } else if (len == 9 && v[4] == ':' && hex_field(v, 4, 0xffff, &a) &&
               hex_field(v + 5, 4, 0xffff, &b)) {
        s->by = PCI_SEL_ID;
        s->vendor = (uint16_t)a;
        s->device = (uint16_t)b;
    } else if (len == 7 && v[2] == ':' && v[5] == '.' &&
               hex_field(v, 2, 0xff, &a) && hex_field(v + 3, 2, 0x1f, &b) &&
               hex_field(v + 6, 1, 7, &f)) {
        s->by = PCI_SEL_ADDR;
        s->bus = (uint8_t)a;
        s->dev = (uint8_t)b;
        s->fn = (uint8_t)f;
    } else {
        return fail(p, "pci= takes VVVV:DDDD, BB:DD.F or *, not '%s'", v);
    }
    return 0;
}

/* The capability `tok` (not log) into *c, checked on its own. */
static int parse_one(struct parser *p, const char *tok, struct manifest_cap *c)
{
    memset(c, 0, sizeof(*c));
    if (strlen(tok) >= MANIFEST_TOKEN_MAX)
        return fail(p, "capability '%s' is too long", tok);
    strcpy(c->token, tok);
    const char *v = strchr(tok, '=');
    size_t kl = v ? (size_t)(v++ - tok) : 0;
    if (kl == 6 && strncmp(tok, "ioport", 6) == 0) {
        c->kind = CAP_IOPORT;
        if (!range(v, &c->base, &c->size) || c->base + c->size > 0x10000)
            return fail(p, "bad port range in '%s'", tok);
        return 0;
    }
    if (kl == 4 && strncmp(tok, "mmio", 4) == 0) {
        c->kind = CAP_MMIO;
        if (!range(v, &c->base, &c->size) || (c->base & 0xfff) ||
            (c->size & 0xfff))
            return fail(p, "bad page range in '%s'", tok);
        return 0;
    }
    if (kl == 3 && strncmp(tok, "irq", 3) == 0) {
        c->kind = CAP_IRQ;
        return parse_irq(p, v, c);
    }
    if (kl == 8 && strncmp(tok, "resource", 8) == 0) {
        c->kind = CAP_RESOURCE;
        return parse_resource(p, v, c);
    }
    if (kl == 8 && strncmp(tok, "critical", 8) == 0)
        return parse_critical(p, v, c);
    if (kl == 3 && strncmp(tok, "pci", 3) == 0) {
        c->kind = CAP_PCI;
        return parse_pci(p, v, c);
    }
    if (!v && strcmp(tok, "svc") == 0) {
        c->kind = CAP_SVC;
        return 0;
    }
    if (kl == 5 && strncmp(tok, "serve", 5) == 0) {
        c->kind = CAP_SERVE;
        if (!*v || strlen(v) >= MANIFEST_NAME_MAX || !good_name(v))
            return fail(p, "serve= takes a service name, not '%s'", v);
        return 0;
    }
    return fail(p, "unknown capability '%s'", tok);
}

/* stdio=NAME: the line NAME serves the program's fds 0-2. */
static int parse_stdio(struct parser *p, const char *tok,
                       struct manifest_entry *e)
{
    const char *v = tok + 6;
    if (e->stdio[0])
        return fail(p, "'stdio=' given twice");
    if (!*v || strlen(v) >= MANIFEST_NAME_MAX || !good_name(v))
        return fail(p, "stdio= takes the name of a line, not '%s'", v);
    strcpy(e->stdio, v);
    return 0;
}

/* DURATION of idle= and heartbeat=: a number and its unit, ms or s,
 * from MANIFEST_DURATION_MIN to MANIFEST_DURATION_MAX. */
static bool duration(const char *v, uint64_t *ns)
{
    size_t len = strlen(v), ul = len > 2 && v[len - 2] == 'm' ? 2 : 1;
    uint64_t n, unit = ul == 2 ? 1000000ull : 1000000000ull;
    if (len <= ul || strcmp(v + len - ul, ul == 2 ? "ms" : "s") != 0 ||
        !number(v, len - ul, &n) || n > MANIFEST_DURATION_MAX / unit)
        return false;
    *ns = n * unit;
    return *ns >= MANIFEST_DURATION_MIN;
}

/* restart=, on-demand, idle=, heartbeat=: how init runs the program.
 * 1: not one of them. */
static int parse_option(struct parser *p, const char *tok,
                        struct manifest_entry *e)
{
    static const char *const policies[] = { "never", "on-failure",
                                            "always" };
    if (strncmp(tok, "restart=", 8) == 0) {
        for (unsigned i = 0; i < 3; i++)
            if (strcmp(tok + 8, policies[i]) == 0) {
                e->restart = (enum manifest_restart)i;
                return 0;
            }
        return fail(p, "restart= takes always, on-failure or never, not "
                    "'%s'", tok + 8);
    }
    if (strcmp(tok, "on-demand") == 0) {
        e->on_demand = true;
        return 0;
    }
    uint64_t *field = strncmp(tok, "idle=", 5) == 0        ? &e->idle_ns
                      : strncmp(tok, "heartbeat=", 10) == 0 ? &e->heartbeat_ns
                                                            : NULL;
    if (!field)
        return 1;
    const char *v = strchr(tok, '=') + 1;
    if (!duration(v, field))
        return fail(p, "'%s' takes a duration from 1ms to 3600s with its "
                    "unit (ms or s)", tok);
    return 0;
}

/* Whether an option with tok's key was given already. */
static bool option_seen(const struct manifest_entry *e, const char *tok)
{
    return (strncmp(tok, "restart=", 8) == 0 && e->restart_set) ||
           (strcmp(tok, "on-demand") == 0 && e->on_demand) ||
           (strncmp(tok, "idle=", 5) == 0 && e->idle_ns) ||
           (strncmp(tok, "heartbeat=", 10) == 0 && e->heartbeat_ns);
}

static int parse_cap(struct parser *p, const char *tok,
                     struct manifest_entry *e)
{
    int r;
    if (option_seen(e, tok))
        return fail(p, "'%.*s' given twice",
                    (int)strcspn(tok, "="), tok);
    if ((r = parse_option(p, tok, e)) <= 0) {
        e->restart_set |= r == 0 && strncmp(tok, "restart=", 8) == 0;
        return r;
    }
    if (strcmp(tok, "log") == 0) {
        if (e->log)
            return fail(p, "'log' given twice");
        e->log = true;
        return 0;
    }
    if (strncmp(tok, "stdio=", 6) == 0)
        return parse_stdio(p, tok, e);
    for (unsigned i = 0; i < e->ncaps; i++)
        if (strcmp(e->caps[i].token, tok) == 0)
            return fail(p, "'%s' given twice", tok);
    if (e->ncaps == MANIFEST_MAX_CAPS)
        return fail(p, "more than %d capabilities", MANIFEST_MAX_CAPS);
    if (parse_one(p, tok, &e->caps[e->ncaps]))
        return -1;
    e->ncaps++;
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The line's next token into buf: its length, 0 at the end, -1 too long. */
static int next_token(const char **s, const char *end, char *buf,
                      size_t cap)
{
    while (*s < end && is_blank(**s))
        (*s)++;
    size_t n = 0;
    while (*s < end && !is_blank(**s)) {
        if (n + 1 >= cap)
            return -1;
        buf[n++] = *(*s)++;
    }
    buf[n] = 0;
    return (int)n;
}

static bool good_name(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
              *s == '.'))
            return false;
    return true;
}

/* The name and the program of a new entry. */
static int parse_head(struct parser *p, const char *name, const char **s,
                      const char *end, struct manifest *m,
                      struct manifest_entry *e)
{
    char tok[128];
    if (strlen(name) >= MANIFEST_NAME_MAX)
        return fail(p, "name '%.40s...' is too long", name);
    if (!good_name(name))
        return fail(p, "name '%s' has a character other than letters, "
                    "digits, '_', '-' and '.'", name);
    for (unsigned i = 0; i < m->n; i++)
        if (strcmp(m->e[i].name, name) == 0)
            return fail(p, "'%s' is named twice", name);
    strcpy(e->name, name);
    int n = next_token(s, end, tok, sizeof(tok));
    if (n == 0)
        return fail(p, "'%s' has no program", name);
    if (n < 0 || (size_t)n >= MANIFEST_PATH_MAX)
        return fail(p, "the program path of '%s' is too long", name);
    strcpy(e->program, tok);
    return 0;
}

/* Options that depend on each other, once the line is whole. */
static int check_options(struct parser *p, struct manifest_entry *e)
{
    bool serves = false;
    for (unsigned i = 0; i < e->ncaps; i++)
        serves |= e->caps[i].kind == CAP_SERVE;
    if (e->on_demand && !serves)
        return fail(p, "'%s' is on-demand but serves nothing (serve=)",
                    e->name);
    if (e->idle_ns && !e->on_demand)
        return fail(p, "idle= is for on-demand lines only");
    if (e->on_demand && !e->idle_ns)
        e->idle_ns = MANIFEST_IDLE_DEFAULT;
    return 0;
}

static int parse_line(struct parser *p, const char *s, const char *end,
                      struct manifest *m, unsigned part)
{
    char tok[128];
    int n = next_token(&s, end, tok, sizeof(tok));
    if (n == 0)
        return 0;                       /* blank or comment only */
    if (n < 0)
        return fail(p, "name too long");
    if (m->n == MANIFEST_MAX_ENTRIES)
        return fail(p, "more than %d programs", MANIFEST_MAX_ENTRIES);
    struct manifest_entry *e = &m->e[m->n];
    memset(e, 0, sizeof(*e));
    e->line = p->line;
    e->part = part;
    if (parse_head(p, tok, &s, end, m, e))
        return -1;
    while ((n = next_token(&s, end, tok, sizeof(tok))) != 0) {
        if (n < 0)
            return fail(p, "a capability of '%s' is too long", e->name);
        if (parse_cap(p, tok, e))
            return -1;
    }
    if (check_options(p, e))
        return -1;
    m->n++;
    return 0;
}

/* A line holds no NUL and no control character but tab and CR. */
static int check_chars(struct parser *p, const char *s, const char *end)
{
    for (; s < end; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t' && *s != '\r') ||
            *s == 0x7f)
            return fail(p, "control character 0x%02x",
                        (unsigned)(unsigned char)*s);
    return 0;
}

/* Whether entry e has a capability of `kind`: its token, or NULL. */
static const char *has_cap(const struct manifest_entry *e,
                           enum manifest_cap_kind kind)
{
    for (unsigned j = 0; j < e->ncaps; j++)
        if (e->caps[j].kind == kind)
            return e->caps[j].token;
    return NULL;
}

/* pci= needs the pci server, svc and serve= the name service, on an
 * earlier line: init starts programs in order and connects a client to
 * a running server. */
static int check_servers(struct parser *p, const struct manifest *m,
                         unsigned from)
{
    static const struct {
        enum manifest_cap_kind kind;
        const char *server;
    } needs[] = {
        { CAP_PCI, MANIFEST_PCI_SERVER },
        { CAP_SVC, MANIFEST_SVC_SERVER },
        { CAP_SERVE, MANIFEST_SVC_SERVER },
    };
    for (unsigned i = from; i < m->n; i++) {
        const struct manifest_entry *e = &m->e[i];
        for (unsigned k = 0; k < sizeof(needs) / sizeof(needs[0]); k++) {
            const char *tok = has_cap(e, needs[k].kind);
            const struct manifest_entry *srv =
                manifest_find(m, needs[k].server);
            if (tok && (!srv || srv >= e)) {
                p->line = e->line;
                return fail(p, "'%s' needs '%s' started on an earlier "
                            "line", tok, needs[k].server);
            }
        }
    }
    return 0;
}

/* A stdio= names a line started earlier: its server runs by then. */
static int check_stdio(struct parser *p, const struct manifest *m,
                       unsigned from)
{
    for (unsigned i = from; i < m->n; i++) {
        const struct manifest_entry *e = &m->e[i];
        const struct manifest_entry *srv = manifest_find(m, e->stdio);
        if (e->stdio[0] && (!srv || srv >= e)) {
            p->line = e->line;
            return fail(p, "'stdio=%s' needs '%s' started on an earlier "
                        "line", e->stdio, e->stdio);
        }
    }
    return 0;
}

/* A service is published by one line only. */
static int check_services(struct parser *p, const struct manifest *m,
                          unsigned from)
{
    for (unsigned i = from; i < m->n; i++) {
        const struct manifest_entry *e = &m->e[i];
        for (unsigned j = 0; j < e->ncaps; j++) {
            unsigned k;
            if (e->caps[j].kind != CAP_SERVE ||
                manifest_find_server(m, manifest_serve_name(&e->caps[j]),
                                     &k) == e)
                continue;
            p->line = e->line;
            return fail(p, "the service '%s' is served by another line",
                        manifest_serve_name(&e->caps[j]));
        }
    }
    return 0;
}

int manifest_append(const char *text, size_t len, const char *label,
                    struct manifest *m, char *err, size_t errlen)
{
    struct parser p = { .line = 0, .label = label, .err = err,
                        .errlen = errlen };
    const char *s = text, *end = text + len;
    unsigned from = m->n, part = from ? m->e[from - 1].part + 1 : 0;
    if (errlen)
        err[0] = 0;
    while (s < end) {
        p.line++;
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        const char *hash = memchr(s, '#', (size_t)(le - s));
        if (check_chars(&p, s, le) ||
            parse_line(&p, s, hash ? hash : le, m, part))
            goto bad;
        s = nl ? nl + 1 : end;
    }
    if (check_servers(&p, m, from) == 0 && check_stdio(&p, m, from) == 0 &&
        check_services(&p, m, from) == 0)
        return 0;
bad:
    m->n = from;
    return -1;
}

int manifest_parse(const char *text, size_t len, struct manifest *m,
                   char *err, size_t errlen)
{
    m->n = 0;
    return manifest_append(text, len, "manifest", m, err, errlen);
}

const char *manifest_serve_name(const struct manifest_cap *c)
{
    return c->token + 6;
}

const struct manifest_entry *manifest_find_server(const struct manifest *m,
                                                  const char *service,
                                                  unsigned *cap)
{
    for (unsigned i = 0; i < m->n; i++)
        for (unsigned j = 0; j < m->e[i].ncaps; j++)
            if (m->e[i].caps[j].kind == CAP_SERVE &&
                strcmp(manifest_serve_name(&m->e[i].caps[j]), service) ==
                    0) {
                *cap = j;
                return &m->e[i];
            }
    return NULL;
}

int manifest_cap_parse(const char *token, struct manifest_cap *c, char *err,
                       size_t errlen)
{
    struct parser p = { .line = 0, .label = "", .err = err,
                        .errlen = errlen };
    if (errlen)
        err[0] = 0;
    return parse_one(&p, token, c);
}

bool pci_selector_matches(const struct pci_selector *sel, uint8_t bus,
                          uint8_t dev, uint8_t fn, uint16_t vendor,
                          uint16_t device)
{
    switch (sel->by) {
    case PCI_SEL_ALL:
        return true;
    case PCI_SEL_ID:
        return sel->vendor == vendor && sel->device == device;
    case PCI_SEL_ADDR:
        return sel->bus == bus && sel->dev == dev && sel->fn == fn;
    }
    return false;
}

const struct manifest_entry *manifest_find(const struct manifest *m,
                                           const char *name)
{
    for (unsigned i = 0; i < m->n; i++)
        if (strcmp(m->e[i].name, name) == 0)
            return &m->e[i];
    return NULL;
}
