/*
 * hw.h - a 16550 UART's registers, for the console driver.
 *
 * The driver programs the UART for 115200 8N1, FIFOs on with a receive
 * trigger of one byte (so input reaches readers at once), and
 * interrupts for received data and line status always, for an empty
 * transmitter only while the transmit ring holds bytes.  OUT2 is set:
 * on a PC it connects the UART's interrupt to its ISA line.
 */
#ifndef MICA_UART_HW_H
#define MICA_UART_HW_H

#include <stdbool.h>
#include <stdint.h>

#include "ldisc.h"

struct uart {
    uint16_t base;
    uint8_t ier, mcr;
    uint8_t fifo;                       /* bytes the transmitter takes */
    uint64_t overruns;                  /* bytes the device lost */
};

/* Program the UART at base; false when none answers there (its
 * scratch register does not keep a value). */
bool uart_init(struct uart *u, uint16_t base);

/* The UART's own loopback (MCR bit 4): what it sends, it receives. */
void uart_loopback(struct uart *u, bool on);
bool uart_in_loopback(const struct uart *u);

/* Serve every condition the UART reports (received bytes into l,
 * transmit room filled from l, line and modem status read); false when
 * it reported none: the interrupt was not its. */
bool uart_service(struct uart *u, struct ldisc *l);

/* l holds bytes to send: make sure the transmitter's interrupt comes
 * (the service sends them). */
void uart_tx(struct uart *u, struct ldisc *l);

#endif
