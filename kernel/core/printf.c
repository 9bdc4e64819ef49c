/*
 * printf.c - kvsnprintf, the one formatter of the kernel.
 *
 * Output goes through a small cursor that counts every character but
 * stores only what fits, which gives C's snprintf return value for free.
 * Numbers are converted right-to-left into a 24-byte scratch buffer (enough
 * for 64-bit octal); padding and sign are applied around them.
 */
#include "printf.h"
#include "lib.h"

struct out {
    char *buf;
    size_t size;
    size_t len;
};

struct spec {
    bool left, zero, plus, space, alt;
    int width;
    int prec;           /* -1: none */
    int lenmod;         /* 0, 'H' (hh), 'h', 'l', 'L' (ll / z / t / j) */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

static void put_str(struct out *o, const struct spec *s, const char *str)
{
    size_t n = 0;
    if (!str)
        str = "(null)";
    while (str[n] && (s->prec < 0 || n < (size_t)s->prec))
        n++;
    if (!s->left)
        pad(o, ' ', s->width - (int)n);
    for (size_t i = 0; i < n; i++)
        put(o, str[i]);
    if (s->left)
        pad(o, ' ', s->width - (int)n);
}

static void put_num(struct out *o, const struct spec *s, uint64_t v,
                    bool neg, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    while (v) {
        tmp[n++] = digits[v % base];
        v /= base;
    }
    int prec = s->prec < 0 ? 1 : s->prec;
    int zeros = prec > n ? prec - n : 0;
    const char *prefix = neg ? "-" : s->plus ? "+" : s->space ? " " : "";
    if (s->alt && base == 16 && n > 0)
        prefix = upper ? "0X" : "0x";
    int plen = (int)strlen(prefix);
    int total = plen + zeros + n;
    if (s->zero && !s->left && s->prec < 0 && s->width > total) {
        zeros += s->width - total;
        total = s->width;
    }
    if (!s->left)
        pad(o, ' ', s->width - total);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    pad(o, '0', zeros);
    while (n > 0)
        put(o, tmp[--n]);
    if (s->left)
        pad(o, ' ', s->width - total);
}

static const char *parse_spec(const char *f, struct spec *s, va_list *ap)
{
    *s = (struct spec){ .prec = -1 };
    for (;; f++) {
        if (*f == '-') s->left = true;
        else if (*f == '0') s->zero = true;
        else if (*f == '+') s->plus = true;
        else if (*f == ' ') s->space = true;
        else if (*f == '#') s->alt = true;
        else break;
    }
    if (*f == '*') {
        s->width = va_arg(*ap, int);
        if (s->width < 0) {
            s->left = true;
            s->width = -s->width;
        }
        f++;
    } else {
        while (*f >= '0' && *f <= '9')
            s->width = s->width * 10 + (*f++ - '0');
    }
    if (*f == '.') {
        f++;
        s->prec = 0;
        if (*f == '*') {
            s->prec = va_arg(*ap, int);
            f++;
        } else {
            while (*f >= '0' && *f <= '9')
                s->prec = s->prec * 10 + (*f++ - '0');
        }
    }
    return f;
}

static const char *parse_len(const char *f, struct spec *s)
{
    if (f[0] == 'h' && f[1] == 'h') { s->lenmod = 'H'; return f + 2; }
    if (f[0] == 'l' && f[1] == 'l') { s->lenmod = 'L'; return f + 2; }
    if (*f == 'h') { s->lenmod = 'h'; return f + 1; }
    if (*f == 'l') { s->lenmod = 'l'; return f + 1; }
    if (*f == 'z' || *f == 't' || *f == 'j') { s->lenmod = 'L'; return f + 1; }
    return f;
}

static int64_t arg_signed(const struct spec *s, va_list *ap)
{
    switch (s->lenmod) {
    case 'H': return (signed char)va_arg(*ap, int);
    case 'h': return (short)va_arg(*ap, int);
    case 'l': return va_arg(*ap, long);
    case 'L': return va_arg(*ap, long long);
    default:  return va_arg(*ap, int);
    }
}

static uint64_t arg_unsigned(const struct spec *s, va_list *ap)
{
    switch (s->lenmod) {
    case 'H': return (unsigned char)va_arg(*ap, unsigned);
    case 'h': return (unsigned short)va_arg(*ap, unsigned);
    case 'l': return va_arg(*ap, unsigned long);
    case 'L': return va_arg(*ap, unsigned long long);
    default:  return va_arg(*ap, unsigned);
    }
}

static void convert(struct out *o, struct spec *s, char c, va_list *ap)
{
    switch (c) {
    case 'd': case 'i': {
        int64_t v = arg_signed(s, ap);
        uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
        put_num(o, s, mag, v < 0, 10, false);
        break;
    }
    case 'u': put_num(o, s, arg_unsigned(s, ap), false, 10, false); break;
    case 'x': put_num(o, s, arg_unsigned(s, ap), false, 16, false); break;
    case 'X': put_num(o, s, arg_unsigned(s, ap), false, 16, true); break;
    case 'o': put_num(o, s, arg_unsigned(s, ap), false, 8, false); break;
    case 'p':
        s->alt = true;
        put_num(o, s, (uintptr_t)va_arg(*ap, void *), false, 16, false);
        break;
    case 'c': {
        char ch[2] = { (char)va_arg(*ap, int), 0 };
        s->prec = 1;
        put_str(o, s, ch);
        break;
    }
    case 's': put_str(o, s, va_arg(*ap, const char *)); break;
    case '%': put(o, '%'); break;
    default:            /* unknown: print it verbatim */
        put(o, '%');
        if (c)
            put(o, c);
    }
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    struct spec s;
    va_list aq;
    va_copy(aq, ap);
    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt = parse_len(parse_spec(fmt + 1, &s, &aq), &s);
        convert(&o, &s, *fmt, &aq);
        if (*fmt)
            fmt++;
    }
    va_end(aq);
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
