/*
 * hw.c - a 16550 UART's registers (hw.h).
 */
#include "hw.h"

#define RBR 0           /* receive buffer (read) */
#define THR 0           /* transmit holding (write) */
#define IER 1
#define IIR 2           /* interrupt identification (read) */
#define FCR 2           /* FIFO control (write) */
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define IER_RX     0x01
#define IER_THRE   0x02
#define IER_LSR    0x04
#define MCR_DTR    0x01
#define MCR_RTS    0x02
#define MCR_OUT2   0x08
#define MCR_LOOP   0x10
#define LSR_DR     0x01
#define LSR_OE     0x02
#define LSR_THRE   0x20
#define IIR_NONE   0x01

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

bool uart_init(struct uart *u, uint16_t base)
{
    u->base = base;
    u->overruns = 0;
    outb(base + SCR, 0x5a);
    if (inb(base + SCR) != 0x5a)
        return false;
    outb(base + IER, 0);
    outb(base + LCR, 0x80);             /* divisor latch */
    outb(base + 0, 1);                  /* 115200 baud */
    outb(base + 1, 0);
    outb(base + LCR, 0x03);             /* 8N1 */
    outb(base + FCR, 0x07);             /* FIFOs on and cleared, trigger 1 */
    u->fifo = (inb(base + IIR) & 0xc0) == 0xc0 ? 16 : 1;
    u->mcr = MCR_DTR | MCR_RTS | MCR_OUT2;
    outb(base + MCR, u->mcr);
    while (inb(base + LSR) & LSR_DR)    /* what came before is not ours */
        inb(base + RBR);
    inb(base + MSR);
    u->ier = IER_RX | IER_LSR;
    outb(base + IER, u->ier);
    return true;
}

void uart_loopback(struct uart *u, bool on)
{
    u->mcr = (uint8_t)(on ? u->mcr | MCR_LOOP : u->mcr & ~MCR_LOOP);
    outb(u->base + MCR, u->mcr);
}

bool uart_in_loopback(const struct uart *u)
{
    return u->mcr & MCR_LOOP;
}

static void set_ier(struct uart *u, uint8_t ier)
{
    if (ier != u->ier) {
        u->ier = ier;
        outb(u->base + IER, ier);
    }
}

/* Fill the transmitter from l (it reported room), and keep its
 * interrupt on while l holds more. */
static void transmit(struct uart *u, struct ldisc *l)
{
    if (inb(u->base + LSR) & LSR_THRE) {
        uint8_t buf[16];
        uint32_t n = ldisc_tx_take(l, buf, u->fifo);
        for (uint32_t i = 0; i < n; i++)
            outb(u->base + THR, buf[i]);
    }
    set_ier(u, ldisc_tx_pending(l) ? u->ier | IER_THRE
                                   : u->ier & ~IER_THRE);
}

void uart_tx(struct uart *u, struct ldisc *l)
{
    /* turning the interrupt on with the transmitter empty raises it: the
     * bytes go out from the service, never from here, so that nothing
     * clears a condition the line has already signalled */
    if (ldisc_tx_pending(l))
        set_ier(u, u->ier | IER_THRE);
}

static void receive(struct uart *u, struct ldisc *l)
{
    for (int i = 0; i < 4096; i++) {
        uint8_t lsr = inb(u->base + LSR);
        if (lsr & LSR_OE)
            u->overruns++;
        if (!(lsr & LSR_DR))
            break;
        ldisc_input(l, inb(u->base + RBR));
    }
}

bool uart_service(struct uart *u, struct ldisc *l)
{
    bool any = false;
    for (int i = 0; i < 64; i++) {
        uint8_t iir = inb(u->base + IIR);
        if (iir & IIR_NONE)
            break;
        any = true;
        switch (iir & 0x0e) {
        case 0x06:                      /* line status */
        case 0x04:                      /* received data */
        case 0x0c:                      /* character timeout */
            receive(u, l);
            break;
        case 0x02:                      /* transmitter empty (now read) */
            transmit(u, l);
            break;
        default:                        /* modem status */
            inb(u->base + MSR);
        }
    }
    return any;
}
