/*
 * test_interrupts.c - in-system tests of resources and interrupt objects:
 * carving resources, every error of every call, and the protocol as far
 * as a quiet line shows it (waits that time out, answers refused when
 * nothing is in service, counters, waiters released when the object
 * goes, port binding).  Interrupts raised by real devices are tested
 * with the devices' drivers.
 *
 * init gives this suite a copy of the root resource (user/init/suites.c).
 */
#include <stdint.h>
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
    UEXPECT(info.gsi == 21 && info.level == 1 && info.sinks == 2 &&
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
    UEXPECT(info.gsi == QUIET_GSI && info.seq == 0 && info.raised == 0 &&
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
