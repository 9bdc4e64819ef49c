/*
 * lex.c - the IDL's tokens: identifiers, integers (decimal or 0x hex),
 * punctuation and `->`; `//` comments to the end of the line.  Only
 * ASCII: any other byte outside a comment is an error.
 */
#include <ctype.h>
#include <string.h>

#include "idlc.h"

static const char *src, *cur, *file;
static int line, col;

void lex_init(const char *f, const char *text)
{
    file = f;
    src = cur = text;
    line = col = 1;
}

static void advance(void)
{
    if (*cur == '\n') {
        line++;
        col = 1;
    } else {
        col++;
    }
    cur++;
}

static void skip_space(void)
{
    for (;;) {
        if (*cur == ' ' || *cur == '\t' || *cur == '\n' || *cur == '\r')
            advance();
        else if (cur[0] == '/' && cur[1] == '/')
            while (*cur && *cur != '\n')
                advance();
        else
            return;
    }
}

static struct token number(struct token t)
{
    uint64_t v = 0;
    int base = 10;
    if (cur[0] == '0' && (cur[1] == 'x' || cur[1] == 'X')) {
        base = 16;
        advance();
        advance();
        if (!isxdigit((unsigned char)*cur))
            fatal_at(t.loc, "a hexadecimal number needs digits");
    }
    while (isalnum((unsigned char)*cur)) {
        int c = (unsigned char)*cur, d;
        if (isdigit(c))
            d = c - '0';
        else if (base == 16 && isxdigit(c))
            d = tolower(c) - 'a' + 10;
        else
            fatal_at(t.loc, "bad digit '%c' in a number", c);
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            fatal_at(t.loc, "number too large");
        v = v * (uint64_t)base + (uint64_t)d;
        advance();
    }
    t.kind = T_INT;
    t.value = v;
    return t;
}

static struct token ident(struct token t)
{
    const char *start = cur;
    while (isalnum((unsigned char)*cur) || *cur == '_')
        advance();
    size_t n = (size_t)(cur - start);
    t.kind = T_IDENT;
    t.text = xalloc(n + 1);
    memcpy(t.text, start, n);
    return t;
}

struct token lex_next(void)
{
    static const char punct[] = ";:,{}()<>=|-";
    static const enum tok kinds[] = {
        T_SEMI, T_COLON, T_COMMA, T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN,
        T_LT, T_GT, T_EQ, T_BAR, T_MINUS,
    };
    skip_space();
    struct token t = { .loc = { file, line, col } };
    unsigned char c = (unsigned char)*cur;
    if (!c)
        return t;                               /* T_EOF */
    if (isdigit(c))
        return number(t);
    if (isalpha(c) || c == '_')
        return ident(t);
    if (c == '-' && cur[1] == '>') {
        advance();
        advance();
        t.kind = T_ARROW;
        return t;
    }
    const char *p = strchr(punct, c);
    if (!p)
        fatal_at(t.loc, isprint(c) ? "unexpected character '%c'"
                                   : "unexpected byte 0x%02x", c);
    advance();
    t.kind = kinds[p - punct];
    return t;
}
