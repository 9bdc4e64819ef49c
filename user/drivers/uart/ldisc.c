/*
 * ldisc.c - the console's line discipline (ldisc.h).
 */
#include <string.h>

#include "console.h"          /* the protocol's modes (idl/console.idl) */

#include "ldisc.h"

#define CTRL(c) ((c) & 0x1f)

void ldisc_init(struct ldisc *l, uint32_t mode)
{
    memset(l, 0, sizeof(*l));
    l->mode = mode & (CONSOLE_ECHO | CONSOLE_LINE |
                      CONSOLE_CRLF);
}

uint32_t ldisc_tx_room(const struct ldisc *l)
{
    return LDISC_TX_SIZE - (l->tx_in - l->tx_out);
}

static void tx_put(struct ldisc *l, uint8_t c)
{
    l->tx[l->tx_in++ & (LDISC_TX_SIZE - 1)] = c;
}

uint32_t ldisc_write(struct ldisc *l, const void *data, uint32_t n,
                     bool crlf)
{
    const uint8_t *p = data;
    crlf = crlf || (l->mode & CONSOLE_CRLF);
    uint32_t i;
    for (i = 0; i < n; i++) {
        bool two = p[i] == '\n' && crlf;
        if (ldisc_tx_room(l) < (two ? 2u : 1u))
            break;
        if (two)
            tx_put(l, '\r');
        tx_put(l, p[i]);
    }
    return i;
}

uint32_t ldisc_tx_take(struct ldisc *l, uint8_t *out, uint32_t max)
{
    uint32_t n = 0;
    while (n < max && l->tx_out != l->tx_in)
        out[n++] = l->tx[l->tx_out++ & (LDISC_TX_SIZE - 1)];
    l->tx_bytes += n;
    return n;
}

bool ldisc_tx_pending(const struct ldisc *l)
{
    return l->tx_out != l->tx_in;
}

/* Echo goes out as written in the mode; with no room it is lost. */
static void echo(struct ldisc *l, const char *s, uint32_t n)
{
    if (l->mode & CONSOLE_ECHO)
        ldisc_write(l, s, n, false);
}

static uint32_t rx_room(const struct ldisc *l)
{
    return LDISC_RX_SIZE - (l->rx_in - l->rx_out);
}

static void rx_put(struct ldisc *l, const void *data, uint32_t n)
{
    const uint8_t *p = data;
    for (uint32_t i = 0; i < n; i++)
        l->rx[l->rx_in++ & (LDISC_RX_SIZE - 1)] = p[i];
}

/* A record: n bytes (0: the end of file) a read returns on their own. */
static void push_record(struct ldisc *l, const void *data, uint32_t n)
{
    if (rx_room(l) < n || l->rec_in - l->rec_out == LDISC_RECORDS) {
        l->rx_dropped += n;
        return;
    }
    rx_put(l, data, n);
    l->rec[l->rec_in++ & (LDISC_RECORDS - 1)] = l->rx_in;
}

static void erase_one(struct ldisc *l)
{
    if (l->line_len) {
        l->line_len--;
        echo(l, "\b \b", 3);
    }
}

static void line_input(struct ldisc *l, uint8_t c)
{
    switch (c) {
    case '\r':
    case '\n':
        l->line[l->line_len++] = '\n';  /* room is kept for it */
        push_record(l, l->line, l->line_len);
        l->line_len = 0;
        echo(l, "\n", 1);
        break;
    case CTRL('H'):
    case 0x7f:
        erase_one(l);
        break;
    case CTRL('U'):
        while (l->line_len)
            erase_one(l);
        break;
    case CTRL('D'):
        push_record(l, l->line, l->line_len);   /* empty: end of file */
        l->line_len = 0;
        break;
    default:
        if (l->line_len >= LDISC_LINE_MAX - 1) {
            l->rx_dropped++;                    /* the line is full */
            break;
        }
        l->line[l->line_len++] = (char)c;
        echo(l, (const char *)&c, 1);
    }
}

void ldisc_input(struct ldisc *l, uint8_t c)
{
    l->rx_bytes++;
    if (l->mode & CONSOLE_LINE) {
        line_input(l, c);
        return;
    }
    if (rx_room(l))
        rx_put(l, &c, 1);
    else
        l->rx_dropped++;
    echo(l, (const char *)&c, 1);
}

void ldisc_set_mode(struct ldisc *l, uint32_t mode)
{
    uint32_t old = l->mode;
    l->mode = mode & (CONSOLE_ECHO | CONSOLE_LINE |
                      CONSOLE_CRLF);
    bool was_line = old & CONSOLE_LINE;
    bool is_line = l->mode & CONSOLE_LINE;
    if (was_line && !is_line) {
        uint32_t n = l->line_len < rx_room(l) ? l->line_len : rx_room(l);
        rx_put(l, l->line, n);
        l->rx_dropped += l->line_len - n;
        l->line_len = 0;
        l->rec_out = l->rec_in;
    } else if (!was_line && is_line && l->rx_in != l->rx_out &&
               l->rec_in - l->rec_out < LDISC_RECORDS) {
        l->rec[l->rec_in++ & (LDISC_RECORDS - 1)] = l->rx_in;
    }
}

bool ldisc_readable(const struct ldisc *l)
{
    if (l->mode & CONSOLE_LINE)
        return l->rec_in != l->rec_out;
    return l->rx_in != l->rx_out;
}

bool ldisc_peek(const struct ldisc *l, uint8_t *out, uint32_t max,
                uint32_t *n, bool *eof)
{
    uint32_t avail;
    *n = 0;
    *eof = false;
    if (!ldisc_readable(l))
        return false;
    if (l->mode & CONSOLE_LINE)
        avail = l->rec[l->rec_out & (LDISC_RECORDS - 1)] - l->rx_out;
    else
        avail = l->rx_in - l->rx_out;
    *eof = avail == 0;
    *n = avail < max ? avail : max;
    for (uint32_t i = 0; i < *n; i++)
        out[i] = l->rx[(l->rx_out + i) & (LDISC_RX_SIZE - 1)];
    return true;
}

void ldisc_consume(struct ldisc *l, uint32_t n, bool eof)
{
    bool line = l->mode & CONSOLE_LINE;
    if (eof) {
        if (line)
            l->rec_out++;
        return;
    }
    l->rx_out += n;
    if (line && l->rx_out == l->rec[l->rec_out & (LDISC_RECORDS - 1)])
        l->rec_out++;
}
