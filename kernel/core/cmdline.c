/*
 * cmdline.c - parsing the kernel command line.
 *
 * The line is copied once into a fixed buffer and split in place: spaces
 * and the '=' of each word become NULs, so keys and values point into the
 * buffer and nothing is allocated.  Overlong input and too many words are
 * cut off and flagged rather than refused: a boot with a strange command
 * line should still boot and say so.
 */
#include "cmdline.h"
#include "lib.h"

struct cmdline kernel_cmdline;

static char *skip_spaces(char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n')
        *p++ = '\0';
    return p;
}

/* Ends the word at p (handling a quoted value); returns what follows. */
static char *end_word(char *p, const char **val)
{
    *val = NULL;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
        if (*p == '=' && !*val) {
            *p++ = '\0';
            if (*p == '"') {
                *val = ++p;
                while (*p && *p != '"')
                    p++;
                if (*p)
                    *p++ = '\0';
                return p;
            }
            *val = p;
            continue;
        }
        p++;
    }
    return p;
}

void cmdline_parse(struct cmdline *c, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    memset(c, 0, sizeof(*c));
    if (len >= CMDLINE_MAX) {
        len = CMDLINE_MAX - 1;
        c->truncated = true;
    }
    if (len)
        memcpy(c->buf, s, len);
    char *p = skip_spaces(c->buf);
    while (*p) {
        if (c->n == CMDLINE_WORDS) {
            c->truncated = true;
            break;
        }
        c->key[c->n] = p;
        p = end_word(p, &c->val[c->n]);
        c->n++;
        p = skip_spaces(p);
    }
}

const char *cmdline_get(const struct cmdline *c, const char *key)
{
    for (unsigned i = c->n; i-- > 0;) {
        if (strcmp(c->key[i], key) == 0)
            return c->val[i] ? c->val[i] : "";
    }
    return NULL;
}

bool cmdline_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    while (list && *list) {
        const char *end = list;
        while (*end && *end != ',')
            end++;
        if ((size_t)(end - list) == n && strncmp(list, item, n) == 0)
            return true;
        list = *end ? end + 1 : end;
    }
    return false;
}
