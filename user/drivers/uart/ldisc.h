/*
 * ldisc.h - the console's line discipline: what the UART driver keeps
 * between the device and its clients, with no device and no system
 * call in it (tested on the host: tests/host/test_uart.c).
 *
 * Output: bytes clients write go into the transmit ring (with NL
 * written as CR NL in CONSOLE_CRLF mode); the device takes them
 * from there as it can.  Input: each byte the device received is
 * edited (CONSOLE_LINE), echoed (CONSOLE_ECHO) and lands in
 * the receive ring, where reads find it.  In line mode, reads end at
 * record ends: a line (with its NL), a partial line pushed with ^D, or
 * an empty record, the end of file (^D on an empty line).  Without line
 * mode a read takes whatever has arrived.
 *
 * Positions in the rings are absolute counts (unsigned wrap-around), so
 * the free space is always size - (in - out).
 */
#ifndef MICA_UART_LDISC_H
#define MICA_UART_LDISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LDISC_TX_SIZE   8192u   /* powers of two */
#define LDISC_RX_SIZE   4096u
#define LDISC_LINE_MAX  255u    /* one line being edited */
#define LDISC_RECORDS   64u     /* record ends waiting (power of two) */

struct ldisc {
    uint32_t mode;                      /* CONSOLE_ECHO|LINE|CRLF */
    uint8_t tx[LDISC_TX_SIZE];
    uint32_t tx_in, tx_out;
    uint8_t rx[LDISC_RX_SIZE];
    uint32_t rx_in, rx_out;
    uint32_t rec[LDISC_RECORDS];        /* rx positions where reads stop */
    uint32_t rec_in, rec_out;
    char line[LDISC_LINE_MAX];          /* the line being edited */
    uint32_t line_len;
    uint64_t rx_bytes, rx_dropped, tx_bytes;
};

void ldisc_init(struct ldisc *l, uint32_t mode);

/* Change the mode (ECHO, LINE, CRLF; other bits are ignored).  Leaving
 * line mode hands over the line being edited as it is; entering it
 * makes what was received a record of its own. */
void ldisc_set_mode(struct ldisc *l, uint32_t mode);

/* Room in the transmit ring. */
uint32_t ldisc_tx_room(const struct ldisc *l);

/* Queue up to n bytes for the device; returns how many were taken (a
 * NL turned into CR NL is taken whole or not at all).  `crlf` forces
 * the conversion whatever the mode (the kernel log's text). */
uint32_t ldisc_write(struct ldisc *l, const void *data, uint32_t n,
                     bool crlf);

/* Take up to max bytes for the device out of the transmit ring. */
uint32_t ldisc_tx_take(struct ldisc *l, uint8_t *out, uint32_t max);
bool ldisc_tx_pending(const struct ldisc *l);

/* One byte the device received.  Input that finds no room is dropped
 * and counted. */
void ldisc_input(struct ldisc *l, uint8_t c);

/* Whether a read would return now (bytes, or the end of file). */
bool ldisc_readable(const struct ldisc *l);

/* Copy what a read of at most max bytes returns, without taking it:
 * its length (0 with *eof set: the end of file).  False when a read
 * would have to wait. */
bool ldisc_peek(const struct ldisc *l, uint8_t *out, uint32_t max,
                uint32_t *n, bool *eof);

/* Take what ldisc_peek showed (n bytes; or the end of file). */
void ldisc_consume(struct ldisc *l, uint32_t n, bool eof);

#endif
