/*
 * test_devices.c - in-system tests of device capabilities: resources,
 * interrupt objects, I/O ports and device memory.
 *
 * Resources: carving, and every error.  Interrupts: every error of every
 * call, and the protocol as far
 * as a quiet line shows it (waits that time out, answers refused when
 * nothing is in service, counters, waiters released when the object
 * goes, port binding), then with a real device: the second serial port
 * (COM2, ISA IRQ 3, which the test machine has and nothing else uses) in
 * loopback mode, where every byte written comes back and raises a
 * receive interrupt.  I/O port objects: a process may use exactly the
 * ports it enabled, from every thread on every CPU, and a stray access
 * kills only that process.  Device memory: a physical vmo over the HPET's
 * registers reads the HPET's identification; RAM is never given out as
 * a physical vmo; contiguous vmos are aligned, zeroed, mappable and
 * leave nothing behind.
 *
 * init gives this suite a copy of the root resource (user/init/suites.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mica.h"
#include "utest.h"

#define SEC 1000000000ull
#define STACK 16384

/* A PCI interrupt line no device of the test machine uses. */
#define QUIET_GSI 23
#define PCI_MODE (MICA_IRQ_LEVEL | MICA_IRQ_LOW)

static uint64_t now_ns(void)
{
    uint64_t t;
    mica_clock_get(&t);
    return t;
}

UTEST(resource_carving)
{
    mica_handle_t root = mica_resource_handle(), irqs, one, ports, h;
    UASSERT(root != 0);
    UASSERT(mica_resource_create(root, MICA_RESOURCE_IRQ, 16, 8, &irqs) ==
            OK);
    UEXPECT(mica_resource_create(irqs, MICA_RESOURCE_IRQ, 20, 1, &one) == OK);
    /* outside the parent, another kind, the root kind, empty, wrapping */
    UEXPECT(mica_resource_create(irqs, MICA_RESOURCE_IRQ, 15, 2, &h) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_resource_create(irqs, MICA_RESOURCE_IRQ, 23, 2, &h) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_resource_create(irqs, MICA_RESOURCE_IOPORT, 16, 1, &h) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_resource_create(root, MICA_RESOURCE_ROOT, 0, 1, &h) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_resource_create(root, 9, 0, 1, &h) == ERR_INVALID_ARGS);
    UEXPECT(mica_resource_create(root, MICA_RESOURCE_IRQ, 0, 0, &h) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_resource_create(root, MICA_RESOURCE_IOPORT, ~0ull, 2, &h) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_resource_create(root, MICA_RESOURCE_IOPORT, 0x3f8, 8,
                                 (mica_handle_t *)8) == ERR_FAULT);
    /* without RIGHT_MANAGE, or not a resource */
    UASSERT(mica_resource_create(root, MICA_RESOURCE_IOPORT, 0x2f8, 8,
                                 &ports) == OK);
    mica_handle_t weak;
    UASSERT(mica_handle_duplicate(ports, RIGHTS_BASIC, &weak) == OK);
    UEXPECT(mica_resource_create(weak, MICA_RESOURCE_IOPORT, 0x2f8, 1, &h) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_resource_create(mica_process_self(), MICA_RESOURCE_IOPORT,
                                 0x2f8, 1, &h) == ERR_WRONG_TYPE);
    UEXPECT(mica_resource_create(0, MICA_RESOURCE_IOPORT, 0x2f8, 1, &h) ==
            ERR_BAD_HANDLE);
    mica_handle_close(weak);
    mica_handle_close(ports);
    mica_handle_close(one);
    mica_handle_close(irqs);
}

UTEST(interrupt_create_errors)
{
    mica_handle_t root = mica_resource_handle(), irqs, h, ports;
    uint32_t pending = 7;
    UASSERT(mica_resource_create(root, MICA_RESOURCE_IRQ, 20, 2, &irqs) ==
            OK);
    /* the mode: exactly one trigger and one polarity, or ISA alone */
    UEXPECT(mica_interrupt_create(irqs, 20, 0, &h, NULL) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_interrupt_create(irqs, 20, MICA_IRQ_LEVEL, &h, NULL) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_interrupt_create(irqs, 20, MICA_IRQ_LEVEL | MICA_IRQ_EDGE |
                                  MICA_IRQ_LOW, &h, NULL) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_interrupt_create(irqs, 20, PCI_MODE | (1u << 9), &h,
                                  NULL) == ERR_INVALID_ARGS);
    UEXPECT(mica_interrupt_create(root, 4, MICA_IRQ_ISA | MICA_IRQ_EDGE, &h,
                                  NULL) == ERR_INVALID_ARGS);
    UEXPECT(mica_interrupt_create(root, 16, MICA_IRQ_ISA, &h, NULL) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(mica_interrupt_create(root, 5000, PCI_MODE, &h, NULL) ==
            ERR_OUT_OF_RANGE);
    /* a GSI the resource does not cover, a resource of another kind */
    UEXPECT(mica_interrupt_create(irqs, 19, PCI_MODE, &h, NULL) ==
            ERR_ACCESS_DENIED);
    UASSERT(mica_resource_create(root, MICA_RESOURCE_IOPORT, 20, 2, &ports) ==
            OK);
    UEXPECT(mica_interrupt_create(ports, 20, PCI_MODE, &h, NULL) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_interrupt_create(mica_process_self(), 20, PCI_MODE, &h,
                                  NULL) == ERR_WRONG_TYPE);
    /* bad pointers */
    UEXPECT(mica_interrupt_create(irqs, 20, PCI_MODE, (mica_handle_t *)8,
                                  NULL) == ERR_FAULT);
    UEXPECT(mica_interrupt_create(irqs, 20, PCI_MODE, &h,
                                  (uint32_t *)8) == ERR_FAULT);
    /* a good one; a second with another mode on the same line is refused */
    UASSERT(mica_interrupt_create(irqs, 21, PCI_MODE, &h, &pending) == OK);
    UEXPECT(pending == 0);
    mica_handle_t h2;
    UEXPECT(mica_interrupt_create(irqs, 21, MICA_IRQ_EDGE | MICA_IRQ_HIGH,
                                  &h2, NULL) == ERR_ALREADY_EXISTS);
    UEXPECT(mica_interrupt_create(irqs, 21, PCI_MODE, &h2, NULL) == OK);
    struct mica_irq_info info;
    UASSERT(mica_interrupt_info(h, &info) == OK);
    UEXPECT(info.number == 21 && info.level == 1 && info.sinks == 2 &&
            info.state == 0 && info.seq == 0);
    mica_handle_close(h2);
    UASSERT(mica_interrupt_info(h, &info) == OK);
    UEXPECT(info.sinks == 1);
    mica_handle_close(h);
    mica_handle_close(ports);
    mica_handle_close(irqs);
}

UTEST(interrupt_quiet_line)
{
    mica_handle_t h, port, ro;
    UASSERT(mica_interrupt_create(mica_resource_handle(), QUIET_GSI,
                                  PCI_MODE, &h, NULL) == OK);
    uint64_t seq = 99;
    UEXPECT(mica_interrupt_wait(h, 0, now_ns() + 2000000, &seq) ==
            ERR_TIMED_OUT);
    UEXPECT(mica_interrupt_wait(h, 0, 1, &seq) == ERR_TIMED_OUT);
    UEXPECT(seq == 99);
    UEXPECT(mica_interrupt_wait(h, 0, 1, (uint64_t *)8) == ERR_FAULT);
    /* nothing in service: every answer is stale */
    UEXPECT(mica_interrupt_ack(h, 0) == ERR_BAD_STATE);
    UEXPECT(mica_interrupt_ack(h, 1) == ERR_BAD_STATE);
    UEXPECT(mica_interrupt_nak(h, 1) == ERR_BAD_STATE);
    mica_signals_t seen = 0;
    UEXPECT(mica_object_wait_one(h, SIGNAL_SIGNALED, 1, &seen) ==
            ERR_TIMED_OUT);
    /* rights */
    UASSERT(mica_handle_duplicate(h, RIGHT_DUPLICATE, &ro) == OK);
    UEXPECT(mica_interrupt_wait(ro, 0, 1, &seq) == ERR_ACCESS_DENIED);
    UEXPECT(mica_interrupt_ack(ro, 1) == ERR_ACCESS_DENIED);
    UEXPECT(mica_interrupt_nak(ro, 1) == ERR_ACCESS_DENIED);
    struct mica_irq_info info;
    UEXPECT(mica_interrupt_info(ro, &info) == ERR_ACCESS_DENIED);
    UEXPECT(mica_interrupt_set_port(ro, 0, 0) == ERR_ACCESS_DENIED);
    UEXPECT(mica_interrupt_info(h, (void *)8) == ERR_FAULT);
    UEXPECT(mica_interrupt_wait(mica_process_self(), 0, 1, &seq) ==
            ERR_WRONG_TYPE);
    /* ports: bind, rebind to none, a closed port */
    UASSERT(mica_port_create(0, &port) == OK);
    UEXPECT(mica_interrupt_set_port(h, port, 5) == OK);
    UEXPECT(mica_interrupt_set_port(h, 0, 0) == OK);
    UEXPECT(mica_interrupt_set_port(h, port, 6) == OK);
    UEXPECT(mica_interrupt_set_port(h, h, 6) == ERR_WRONG_TYPE);
    struct mica_packet pkt;
    UEXPECT(mica_port_wait(port, 1, &pkt) == ERR_TIMED_OUT);
    mica_handle_close(port);                /* unbinds */
    UASSERT(mica_interrupt_info(h, &info) == OK);
    UEXPECT(info.number == QUIET_GSI && info.seq == 0 && info.raised == 0 &&
            info.acked == 0 && info.naked == 0);
    mica_handle_close(ro);
    mica_handle_close(h);
}

static char stack[STACK] __attribute__((aligned(16)));

struct closer {
    mica_handle_t h, dup;
    uint64_t delay;
    volatile int go;
};

static void close_when_told(uint64_t a0, uint64_t a1)
{
    (void)a1;
    struct closer *c = (struct closer *)a0;
    while (!c->go)
        mica_thread_yield();
    mica_nanosleep(now_ns() + c->delay);
    mica_handle_close(c->dup);
    mica_handle_close(c->h);
    mica_thread_exit();
}

/* The object goes while a thread waits on it: the wait ends with
 * ERR_CANCELED.  (Should the closer be faster than the waiter, the wait
 * finds no handle instead; then it is tried again, more slowly.) */
UTEST(interrupt_close_releases_waiters)
{
    static struct closer c;
    int err = ERR_BAD_HANDLE;
    for (int round = 0; round < 6 && err == ERR_BAD_HANDLE; round++) {
        mica_handle_t t;
        UASSERT(mica_interrupt_create(mica_resource_handle(), QUIET_GSI,
                                      PCI_MODE, &c.h, NULL) == OK);
        UASSERT(mica_handle_duplicate(c.h, RIGHT_SAME_RIGHTS, &c.dup) == OK);
        c.go = 0;
        c.delay = 20000000ull << round;
        UASSERT(mica_thread_create(mica_process_self(), "closer", 6, &t) ==
                OK);
        UASSERT(mica_thread_start(t, (uint64_t)close_when_told,
                                  (uint64_t)(stack + STACK - 8), (uint64_t)&c,
                                  0) == OK);
        uint64_t seq;
        c.go = 1;
        err = mica_interrupt_wait(c.dup, 0, now_ns() + 60 * SEC, &seq);
        UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED,
                                     now_ns() + 60 * SEC, NULL) == OK);
        mica_handle_close(t);
    }
    UEXPECT(err == ERR_CANCELED);
}

UTEST(interrupt_no_leaks)
{
    struct mica_system_info before, after;
    mica_system_info(&before);
    for (int i = 0; i < 100; i++) {
        mica_handle_t h, port, r;
        UASSERT(mica_resource_create(mica_resource_handle(),
                                     MICA_RESOURCE_IRQ, QUIET_GSI, 1, &r) ==
                OK);
        UASSERT(mica_interrupt_create(r, QUIET_GSI, PCI_MODE, &h, NULL) ==
                OK);
        UASSERT(mica_port_create(0, &port) == OK);
        UASSERT(mica_interrupt_set_port(h, port, 1) == OK);
        mica_handle_close(i % 2 ? h : port);
        mica_handle_close(i % 2 ? port : h);
        mica_handle_close(r);
    }
    mica_system_info(&after);
    UEXPECT(after.free_pages == before.free_pages);
    UEXPECT(after.live_ports == before.live_ports);
}

/* --- I/O ports and the loopback UART -------------------------------------------- */

#define COM2 0x2f8
#define COM2_IRQ 3
#define UART_RBR 0      /* receive buffer (read), transmit holding (write) */
#define UART_IER 1
#define UART_IIR 2      /* interrupt identification (read), FIFO control */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* The ports of COM2, enabled for this process (once). */
static int com2_ports(void)
{
    static int done;
    if (done)
        return OK;
    mica_handle_t r, io;
    int err = mica_resource_create(mica_resource_handle(),
                                   MICA_RESOURCE_IOPORT, COM2, 8, &r);
    if (err)
        return err;
    err = mica_ioport_create(r, COM2, 8, &io);
    mica_handle_close(r);
    if (err)
        return err;
    err = mica_ioport_enable(io);
    mica_handle_close(io);
    done = err == OK;
    return err;
}

/* 8N1, no FIFOs, loopback, receive interrupts only. */
static bool com2_loopback(void)
{
    outb(COM2 + UART_IER, 0);
    outb(COM2 + UART_LCR, 0x80);
    outb(COM2 + UART_RBR, 1);           /* divisor 1 */
    outb(COM2 + UART_IER, 0);
    outb(COM2 + UART_LCR, 0x03);
    outb(COM2 + UART_IIR, 0);           /* no FIFOs: one interrupt a byte */
    outb(COM2 + UART_MCR, 0x18);        /* loopback, OUT2 */
    while (inb(COM2 + UART_LSR) & 1)
        inb(COM2 + UART_RBR);
    outb(COM2 + UART_IER, 0x01);
    return inb(COM2 + UART_LSR) != 0xFF;    /* 0xFF: no UART there */
}

static void com2_quiet(void)
{
    outb(COM2 + UART_IER, 0);
    outb(COM2 + UART_MCR, 0);
    while (inb(COM2 + UART_LSR) & 1)
        inb(COM2 + UART_RBR);
}

static struct mica_irq_info info_of(mica_handle_t h)
{
    struct mica_irq_info info;
    memset(&info, 0, sizeof(info));
    mica_interrupt_info(h, &info);
    return info;
}

UTEST(ioport_errors)
{
    mica_handle_t root = mica_resource_handle(), r, io, ro;
    UASSERT(mica_resource_create(root, MICA_RESOURCE_IOPORT, 0x2f8, 8, &r) ==
            OK);
    UEXPECT(mica_ioport_create(r, 0x2f0, 8, &io) == ERR_ACCESS_DENIED);
    UEXPECT(mica_ioport_create(r, 0x2fc, 8, &io) == ERR_ACCESS_DENIED);
    UEXPECT(mica_ioport_create(r, 0x2f8, 0, &io) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_ioport_create(root, 0xfff0, 0x20, &io) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_ioport_create(root, 0x10000, 1, &io) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_ioport_create(r, 0x2f8, 8, (mica_handle_t *)8) ==
            ERR_FAULT);
    UEXPECT(mica_ioport_create(mica_process_self(), 0x2f8, 8, &io) ==
            ERR_WRONG_TYPE);
    UASSERT(mica_ioport_create(r, 0x2f8, 8, &io) == OK);
    UASSERT(mica_handle_duplicate(io, RIGHT_READ, &ro) == OK);
    UEXPECT(mica_ioport_enable(ro) == ERR_ACCESS_DENIED);
    UEXPECT(mica_ioport_enable(r) == ERR_WRONG_TYPE);
    UEXPECT(mica_ioport_enable(0) == ERR_BAD_HANDLE);
    mica_handle_close(ro);
    mica_handle_close(io);
    mica_handle_close(r);
}

static char stack2[STACK] __attribute__((aligned(16)));

/* A clone of this process that touches COM2's line status register: it
 * has no permission (a new process), so it is killed. */
static void touch_port(uint64_t a0, uint64_t a1)
{
    (void)a0;
    (void)a1;
    inb(COM2 + UART_LSR);
    mica_process_exit(0);
}

UTEST(ioport_stray_access_kills_only_the_process)
{
    mica_handle_t p, t;
    UASSERT(mica_process_clone(mica_process_self(), "stray", 5, &p) == OK);
    UASSERT(mica_thread_create(p, "stray", 5, &t) == OK);
    UASSERT(mica_thread_start(t, (uint64_t)touch_port,
                              (uint64_t)(stack2 + STACK - 8), 0, 0) == OK);
    UEXPECT(mica_object_wait_one(p, SIGNAL_TERMINATED, now_ns() + 30 * SEC,
                                 NULL) == OK);
    struct mica_process_info pi;
    UASSERT(mica_process_info(p, &pi) == OK);
    UEXPECT(pi.exit_code == -14);       /* killed by #GP (vector 13) */
    mica_handle_close(t);
    mica_handle_close(p);
}

static volatile int go_io, io_done;
static volatile uint8_t io_seen;

/* Started before the ports were enabled, maybe on another CPU: it gains
 * them too. */
static void late_port_user(uint64_t a0, uint64_t a1)
{
    (void)a0;
    (void)a1;
    while (!go_io)
        ;
    io_seen = inb(COM2 + UART_LSR);
    io_done = 1;
    mica_thread_exit();
}

UTEST(ioport_enable_reaches_every_thread)
{
    mica_handle_t t;
    UASSERT(mica_thread_create(mica_process_self(), "ports", 5, &t) == OK);
    UASSERT(mica_thread_start(t, (uint64_t)late_port_user,
                              (uint64_t)(stack2 + STACK - 8), 0, 0) == OK);
    for (int i = 0; i < 20; i++)
        mica_thread_yield();
    UASSERT(com2_ports() == OK);
    go_io = 1;
    UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED, now_ns() + 30 * SEC,
                                 NULL) == OK);
    UEXPECT(io_done == 1 && io_seen != 0xFF);
    mica_handle_close(t);
}

/* Write a byte in loopback and wait for its interrupt. */
static int loop_byte(mica_handle_t h, uint8_t byte, uint64_t last,
                     uint64_t *seq)
{
    outb(COM2 + UART_RBR, byte);
    return mica_interrupt_wait(h, last, now_ns() + 10 * SEC, seq);
}

UTEST(interrupt_uart_loopback)
{
    mica_handle_t h;
    uint32_t pending = 9;
    UASSERT(com2_ports() == OK);
    UASSERT(mica_interrupt_create(mica_resource_handle(), COM2_IRQ,
                                  MICA_IRQ_ISA, &h, &pending) == OK);
    UEXPECT(pending == 0);
    UASSERT(com2_loopback());
    struct mica_irq_info before = info_of(h);
    UEXPECT(before.level == 0);         /* ISA IRQs are edge-triggered */
    uint64_t last = before.seq;
    for (int i = 1; i <= 20; i++) {
        uint64_t seq = 0;
        UASSERT(loop_byte(h, (uint8_t)i, last, &seq) == OK);
        UEXPECT(seq == last + 1);
        UEXPECT((inb(COM2 + UART_IIR) & 0x0F) == 0x04);  /* data ready */
        UEXPECT(inb(COM2 + UART_RBR) == i);
        mica_signals_t seen = 0;
        UEXPECT(mica_object_wait_one(h, SIGNAL_SIGNALED, 1, &seen) == OK);
        UEXPECT(mica_interrupt_ack(h, seq) == OK);
        UEXPECT(mica_interrupt_ack(h, seq) == ERR_BAD_STATE);   /* again */
        UEXPECT(mica_interrupt_nak(h, seq) == ERR_BAD_STATE);
        UEXPECT(mica_interrupt_ack(h, seq - 1) == ERR_BAD_STATE); /* stale */
        UEXPECT(mica_object_wait_one(h, SIGNAL_SIGNALED, 1, &seen) ==
                ERR_TIMED_OUT);
        last = seq;
    }
    struct mica_irq_info after = info_of(h);
    UEXPECT(after.raised - before.raised == 20);
    UEXPECT(after.acked - before.acked == 20);
    UEXPECT(after.state == 0);
    /* an interrupt that came before the wait is not lost */
    outb(COM2 + UART_RBR, 0x55);
    for (int i = 0; i < 1000 && info_of(h).seq == last; i++)
        mica_thread_yield();
    uint64_t seq = 0;
    UEXPECT(mica_interrupt_wait(h, last, 1, &seq) == OK && seq == last + 1);
    UEXPECT(inb(COM2 + UART_RBR) == 0x55);
    UEXPECT(mica_interrupt_ack(h, seq) == OK);
    /* delivered as packets */
    mica_handle_t port;
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_interrupt_set_port(h, port, 77) == OK);
    outb(COM2 + UART_RBR, 0x66);
    struct mica_packet pkt;
    UEXPECT(mica_port_wait(port, now_ns() + 10 * SEC, &pkt) == OK);
    UEXPECT(pkt.type == MICA_PACKET_INTERRUPT && pkt.key == 77 &&
            pkt.data[0] == seq + 1 && pkt.data[1] == 1);
    UEXPECT(inb(COM2 + UART_RBR) == 0x66);
    UEXPECT(mica_interrupt_ack(h, pkt.data[0]) == OK);
    mica_handle_close(port);
    com2_quiet();
    mica_handle_close(h);
}

UTEST(interrupt_shared_line)
{
    mica_handle_t mine, other;
    UASSERT(com2_ports() == OK);
    UASSERT(mica_interrupt_create(mica_resource_handle(), COM2_IRQ,
                                  MICA_IRQ_ISA, &mine, NULL) == OK);
    UASSERT(mica_interrupt_create(mica_resource_handle(), COM2_IRQ,
                                  MICA_IRQ_ISA, &other, NULL) == OK);
    UASSERT(com2_loopback());
    struct mica_irq_info before = info_of(mine);
    UEXPECT(before.sinks == 2);
    uint64_t last = before.seq;
    for (int i = 0; i < 10; i++) {
        /* the other holder always says "not mine"; we claim it */
        uint64_t s1 = 0, s2 = 0;
        UASSERT(loop_byte(other, 0x30, last, &s1) == OK);
        UEXPECT(mica_interrupt_nak(other, s1) == OK);
        UEXPECT(info_of(mine).state == 1);      /* we still owe */
        UASSERT(mica_interrupt_wait(mine, last, now_ns() + 10 * SEC, &s2) ==
                OK);
        UEXPECT(s1 == s2);
        inb(COM2 + UART_RBR);
        UEXPECT(mica_interrupt_ack(mine, s2) == OK);
        UEXPECT(mica_interrupt_nak(other, s1) == ERR_BAD_STATE);
        last = s2;
    }
    struct mica_irq_info after = info_of(mine);
    UEXPECT(after.naked - before.naked == 10);
    UEXPECT(after.acked - before.acked == 10);
    UEXPECT(after.unhandled == before.unhandled);
    /* everybody says "not mine": unhandled, masked, then kicked */
    uint64_t s = 0;
    UASSERT(loop_byte(mine, 0x31, last, &s) == OK);
    inb(COM2 + UART_RBR);
    UEXPECT(mica_interrupt_nak(mine, s) == OK);
    UEXPECT(mica_interrupt_nak(other, s) == OK);
    after = info_of(mine);
    UEXPECT(after.unhandled - before.unhandled == 1);
    UEXPECT(after.state != 1);      /* backing off (or kicked already, if
                                       this thread was slow for 10 ms) */
    for (int i = 0; i < 500 && info_of(mine).state == 2; i++)
        mica_nanosleep(now_ns() + 2000000);
    UEXPECT(info_of(mine).state == 0);          /* the kick came */
    /* and the line works again */
    last = s;
    UASSERT(loop_byte(mine, 0x32, last, &s) == OK);
    inb(COM2 + UART_RBR);
    UEXPECT(mica_interrupt_ack(mine, s) == OK);
    com2_quiet();
    mica_handle_close(other);
    mica_handle_close(mine);
}

/* A holder in another process that never answers. */
static void hold_and_sleep(uint64_t h, uint64_t a1)
{
    (void)a1;
    uint64_t seq;
    mica_interrupt_wait((mica_handle_t)h, 0, 0, &seq);
    for (;;)
        mica_nanosleep(now_ns() + SEC);
}

UTEST(interrupt_holder_killed_owing_an_answer)
{
    mica_handle_t mine, theirs, moved, p, t;
    UASSERT(com2_ports() == OK);
    UASSERT(mica_interrupt_create(mica_resource_handle(), COM2_IRQ,
                                  MICA_IRQ_ISA, &mine, NULL) == OK);
    UASSERT(mica_interrupt_create(mica_resource_handle(), COM2_IRQ,
                                  MICA_IRQ_ISA, &theirs, NULL) == OK);
    UASSERT(mica_process_clone(mica_process_self(), "silent", 6, &p) == OK);
    UASSERT(mica_handle_transfer(theirs, p, RIGHT_SAME_RIGHTS, &moved) ==
            OK);
    UASSERT(mica_thread_create(p, "silent", 6, &t) == OK);
    UASSERT(mica_thread_start(t, (uint64_t)hold_and_sleep,
                              (uint64_t)(stack2 + STACK - 8), moved, 0) ==
            OK);
    UASSERT(com2_loopback());
    struct mica_irq_info before = info_of(mine);
    uint64_t s = 0;
    UASSERT(loop_byte(mine, 0x40, before.seq, &s) == OK);
    inb(COM2 + UART_RBR);
    UEXPECT(mica_interrupt_nak(mine, s) == OK);
    UEXPECT(info_of(mine).state == 1);          /* the silent one owes */
    mica_process_kill(p, 0);
    UEXPECT(mica_object_wait_one(p, SIGNAL_TERMINATED, now_ns() + 30 * SEC,
                                 NULL) == OK);
    for (int i = 0; i < 500 && info_of(mine).sinks == 2; i++)
        mica_nanosleep(now_ns() + 2000000);
    struct mica_irq_info after = info_of(mine);
    UEXPECT(after.sinks == 1);
    UEXPECT(after.naked - before.naked == 2);   /* ours, and its on its behalf */
    UEXPECT(after.unhandled - before.unhandled == 1);
    UEXPECT(after.state != 1);                  /* the service ended */
    for (int i = 0; i < 500 && info_of(mine).state == 2; i++)
        mica_nanosleep(now_ns() + 2000000);
    UASSERT(loop_byte(mine, 0x41, s, &s) == OK);
    inb(COM2 + UART_RBR);
    UEXPECT(mica_interrupt_ack(mine, s) == OK);
    com2_quiet();
    mica_handle_close(t);
    mica_handle_close(p);
    mica_handle_close(mine);
}

/* Whether the kernel log, from position pos on, holds `want`. */
static bool log_has(uint64_t pos, const char *want)
{
    static char text[16384];
    size_t n = 0;
    uint64_t got;
    while (n < sizeof(text) - 1 &&
           mica_debug_read(&pos, text + n, sizeof(text) - 1 - n > 4096
                                               ? 4096
                                               : sizeof(text) - 1 - n,
                           &got) == OK && got > 0)
        n += got;
    text[n] = 0;
    return strstr(text, want) != NULL;
}

UTEST(timed_interrupt_late_answer_reported)
{
    mica_handle_t h;
    uint64_t log_pos = UINT64_MAX, got;
    UASSERT(mica_debug_read(&log_pos, NULL, 0, &got) == OK);
    UASSERT(com2_ports() == OK);
    UASSERT(mica_interrupt_create(mica_resource_handle(), COM2_IRQ,
                                  MICA_IRQ_ISA, &h, NULL) == OK);
    UASSERT(com2_loopback());
    struct mica_irq_info before = info_of(h);
    uint64_t s = 0, start = now_ns();
    UASSERT(loop_byte(h, 0x50, before.seq, &s) == OK);
    inb(COM2 + UART_RBR);
    /* no answer: after a second the line reports it (the log names us) */
    while (info_of(h).late == before.late && now_ns() - start < 30 * SEC)
        mica_nanosleep(now_ns() + 50000000);
    UEXPECT(info_of(h).late == before.late + 1);
    UEXPECT(now_ns() - start >= SEC);
    UEXPECT(info_of(h).state == 1);
    UEXPECT(log_has(log_pos, "on GSI 3 unanswered for over 1000 ms by "
                             "'test_devices'"));
    /* a late answer is still an answer */
    UEXPECT(mica_interrupt_ack(h, s) == OK);
    struct mica_irq_info after = info_of(h);
    UEXPECT(after.state == 0 && after.late == before.late + 1);
    com2_quiet();
    mica_handle_close(h);
}

/* --- device memory --------------------------------------------------------------- */

#define HPET_BASE 0xfed00000ull     /* where q35's firmware puts the HPET */
#define KiB 1024ull
#define MiB (1024 * KiB)

static volatile uint64_t *map_ro(mica_handle_t v, uint64_t len)
{
    uint64_t addr = 0;
    if (mica_vm_map(mica_process_self(), v, 0, len, MICA_VM_READ, &addr))
        return NULL;
    return (volatile uint64_t *)addr;
}

UTEST(physical_vmo_reads_the_hpet)
{
    mica_handle_t root = mica_resource_handle(), r, v;
    UASSERT(mica_resource_create(root, MICA_RESOURCE_MMIO, HPET_BASE, 4096,
                                 &r) == OK);
    UASSERT(mica_vmo_create_physical(r, HPET_BASE, 4096, MICA_CACHE_UNCACHED,
                                     &v) == OK);
    volatile uint64_t *regs = map_ro(v, 4096);
    UASSERT(regs != NULL);
    uint64_t caps = regs[0];            /* general capabilities and ID */
    UEXPECT((caps >> 16 & 0xffff) == 0x8086);       /* QEMU's vendor ID */
    uint64_t period = caps >> 32;       /* femtoseconds per tick */
    UEXPECT(period > 0 && period <= 100000000);
    UEXPECT(mica_vm_unmap(mica_process_self(), (uint64_t)regs, 4096) == OK);
    mica_handle_close(v);
    /* write-combining maps too */
    UASSERT(mica_vmo_create_physical(r, HPET_BASE, 4096,
                                     MICA_CACHE_WRITE_COMBINING, &v) == OK);
    regs = map_ro(v, 4096);
    UEXPECT(regs && (regs[0] >> 16 & 0xffff) == 0x8086);
    if (regs)
        mica_vm_unmap(mica_process_self(), (uint64_t)regs, 4096);
    /* vmo_read cannot reach device memory */
    uint64_t x;
    UEXPECT(mica_vmo_read(v, &x, 0, sizeof(x)) == ERR_NOT_SUPPORTED);
    mica_handle_close(v);
    mica_handle_close(r);
}

UTEST(physical_vmo_errors)
{
    mica_handle_t root = mica_resource_handle(), r, irq, v;
    UASSERT(mica_resource_create(root, MICA_RESOURCE_MMIO, HPET_BASE, 4096,
                                 &r) == OK);
    UEXPECT(mica_vmo_create_physical(r, HPET_BASE + 8, 4096,
                                     MICA_CACHE_UNCACHED, &v) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_vmo_create_physical(r, HPET_BASE, 100, MICA_CACHE_UNCACHED,
                                     &v) == ERR_INVALID_ARGS);
    UEXPECT(mica_vmo_create_physical(r, HPET_BASE, 0, MICA_CACHE_UNCACHED,
                                     &v) == ERR_INVALID_ARGS);
    UEXPECT(mica_vmo_create_physical(r, HPET_BASE, 4096, 0, &v) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_vmo_create_physical(r, HPET_BASE, 4096, 7, &v) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_vmo_create_physical(r, -4096ull, 8192, MICA_CACHE_UNCACHED,
                                     &v) == ERR_INVALID_ARGS);
    UEXPECT(mica_vmo_create_physical(r, HPET_BASE, 8192, MICA_CACHE_UNCACHED,
                                     &v) == ERR_ACCESS_DENIED);
    UEXPECT(mica_vmo_create_physical(r, HPET_BASE, 4096, MICA_CACHE_UNCACHED,
                                     (mica_handle_t *)8) == ERR_FAULT);
    UASSERT(mica_resource_create(root, MICA_RESOURCE_IRQ, 0, 16, &irq) == OK);
    UEXPECT(mica_vmo_create_physical(irq, HPET_BASE, 4096,
                                     MICA_CACHE_UNCACHED, &v) ==
            ERR_ACCESS_DENIED);
    /* RAM is never device memory, even with the root resource */
    UEXPECT(mica_vmo_create_physical(root, 1 * MiB, 4096,
                                     MICA_CACHE_UNCACHED, &v) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_vmo_create_physical(root, 0, 4096, MICA_CACHE_UNCACHED,
                                     &v) == ERR_ACCESS_DENIED);
    UEXPECT(mica_vmo_create_physical(root, 64 * MiB - 4096, 8192,
                                     MICA_CACHE_WRITE_COMBINING, &v) ==
            ERR_ACCESS_DENIED);
    mica_handle_close(irq);
    mica_handle_close(r);
}

/* One round of the contiguous vmo checks; its expectations count as
 * the test's. */
static void contiguous_round(void)
{
    mica_handle_t root = mica_resource_handle(), dma, low, v, irq;
    uint64_t pa = 0;
    UASSERT(mica_resource_create(root, MICA_RESOURCE_DMA, 0, 1ull << 32,
                                 &dma) == OK);
    UASSERT(mica_vmo_create_contiguous(dma, 48 * KiB, &v, &pa) == OK);
    UEXPECT(pa != 0 && pa % (64 * KiB) == 0);   /* aligned to its block */
    uint64_t addr = 0;
    UASSERT(mica_vm_map(mica_process_self(), v, 0, 48 * KiB,
                        MICA_VM_READ | MICA_VM_WRITE, &addr) == OK);
    volatile uint8_t *b = (volatile uint8_t *)addr;
    bool zero = true;
    for (uint64_t i = 0; i < 48 * KiB; i++)
        zero &= b[i] == 0;
    UEXPECT(zero);
    for (uint64_t i = 0; i < 48 * KiB; i++)
        b[i] = (uint8_t)i;
    UEXPECT(b[4095] == 0xff && b[48 * KiB - 1] == 0xff);
    /* its RAM is not to be had as a physical vmo */
    mica_handle_t phys;
    UEXPECT(mica_vmo_create_physical(root, pa, 4096, MICA_CACHE_UNCACHED,
                                     &phys) == ERR_ACCESS_DENIED);
    UEXPECT(mica_vm_unmap(mica_process_self(), addr, 48 * KiB) == OK);
    mica_handle_close(v);
    /* errors */
    UEXPECT(mica_vmo_create_contiguous(dma, 0, &v, &pa) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_vmo_create_contiguous(dma, 4 * MiB + 1, &v, &pa) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(mica_vmo_create_contiguous(dma, 4096, &v, (uint64_t *)8) ==
            ERR_FAULT);
    UEXPECT(mica_vmo_create_contiguous(dma, 4096, (mica_handle_t *)8, &pa) ==
            ERR_FAULT);
    UASSERT(mica_resource_create(root, MICA_RESOURCE_IRQ, 0, 16, &irq) == OK);
    UEXPECT(mica_vmo_create_contiguous(irq, 4096, &v, &pa) ==
            ERR_ACCESS_DENIED);
    /* a device that reaches only the first 64 KiB: nothing fits there */
    UASSERT(mica_resource_create(root, MICA_RESOURCE_DMA, 0, 64 * KiB,
                                 &low) == OK);
    UEXPECT(mica_vmo_create_contiguous(low, 4096, &v, &pa) == ERR_NO_MEMORY);
    mica_handle_close(low);
    mica_handle_close(irq);
    mica_handle_close(dma);
}

UTEST(contiguous_vmo)
{
    struct mica_system_info before, after;
    contiguous_round();         /* the first may grow page tables for good */
    mica_system_info(&before);
    contiguous_round();
    mica_system_info(&after);
    UEXPECT(after.free_pages == before.free_pages);
    UEXPECT(after.live_vmos == before.live_vmos);
}

/* --- MSI --------------------------------------------------------------------------- */

#define LAPIC_PAGE 0xfee00000ull
#define LAPIC_ICR_LOW (0x300 / 4)
#define ICR_SELF (1u << 18)             /* destination shorthand: self */

/* An MSI is a write of its data to the local APIC; a self-IPI with the
 * same vector is what the CPU sees of it.  (The test maps its own CPU's
 * local APIC with the root resource, which no driver would hold.) */
UTEST(interrupt_msi)
{
    mica_handle_t root = mica_resource_handle(), h, h2, r, v;
    UEXPECT(mica_interrupt_create(root, MICA_IRQ_MSI_NUMBER,
                                  MICA_IRQ_MSI | MICA_IRQ_EDGE, &h, NULL) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_interrupt_create(root, 5, MICA_IRQ_MSI, &h, NULL) ==
            ERR_OUT_OF_RANGE);
    UASSERT(mica_resource_create(root, MICA_RESOURCE_IRQ, 0, 64, &r) == OK);
    UEXPECT(mica_interrupt_create(r, MICA_IRQ_MSI_NUMBER, MICA_IRQ_MSI, &h,
                                  NULL) == ERR_ACCESS_DENIED);
    mica_handle_close(r);
    UASSERT(mica_interrupt_create(root, MICA_IRQ_MSI_NUMBER, MICA_IRQ_MSI,
                                  &h, NULL) == OK);
    UASSERT(mica_interrupt_create(root, MICA_IRQ_MSI_NUMBER, MICA_IRQ_MSI,
                                  &h2, NULL) == OK);
    struct mica_irq_info a = info_of(h), b = info_of(h2);
    UEXPECT(a.number == MICA_IRQ_MSI_NUMBER && a.level == 0 && a.sinks == 1);
    UEXPECT((a.msi_address & ~0xff000ull) == LAPIC_PAGE);
    UEXPECT(a.msi_data >= 0x30 && a.msi_data < 0xe0);
    UEXPECT(b.msi_data != a.msi_data);
    mica_handle_close(h2);
    /* fire it */
    UASSERT(mica_vmo_create_physical(root, LAPIC_PAGE, 4096,
                                     MICA_CACHE_UNCACHED, &v) == OK);
    uint64_t addr = 0;
    UASSERT(mica_vm_map(mica_process_self(), v, 0, 4096,
                        MICA_VM_READ | MICA_VM_WRITE, &addr) == OK);
    volatile uint32_t *apic = (volatile uint32_t *)addr;
    uint64_t last = 0;
    for (int i = 0; i < 5; i++) {
        apic[LAPIC_ICR_LOW] = ICR_SELF | a.msi_data;
        uint64_t seq = 0;
        UASSERT(mica_interrupt_wait(h, last, now_ns() + 10 * SEC, &seq) ==
                OK);
        UEXPECT(seq == last + 1);
        UEXPECT(mica_interrupt_ack(h, seq) == OK);
        last = seq;
    }
    UEXPECT(info_of(h).raised == 5 && info_of(h).acked == 5);
    mica_vm_unmap(mica_process_self(), addr, 4096);
    mica_handle_close(v);
    mica_handle_close(h);
    /* vectors come back: far more objects over time than vectors */
    for (int i = 0; i < 300; i++) {
        UASSERT(mica_interrupt_create(root, MICA_IRQ_MSI_NUMBER,
                                      MICA_IRQ_MSI, &h, NULL) == OK);
        mica_handle_close(h);
    }
}
