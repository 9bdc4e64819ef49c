/*
 * test_irq_line.c - host tests of the interrupt protocol (irq_line.c)
 * against a fake interrupt controller.
 *
 * The fake keeps what the hardware would: whether the line is masked,
 * whether a level source is asserted (an asserted, unmasked level line
 * interrupts again at once), and the one timer; and it records every
 * notification and report the line makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "irq_line.h"
#include "mica/errors.h"

#define MS 1000000ull

struct fake {
    struct irq_line line;
    bool hw_masked;
    bool asserted;              /* a level source holds the line */
    uint64_t timer;             /* armed deadline, 0: none */
    unsigned notified[4];       /* per sink index */
    unsigned released[4];
    unsigned unhandled, late[4];
    uint64_t last_unhandled_seq;
    struct irq_sink sinks[4];
    unsigned masks, unmasks;
};

static struct fake F;

static unsigned index_of(struct irq_sink *s)
{
    return (unsigned)(s - F.sinks);
}

static void f_mask(struct irq_line *l)
{
    (void)l;
    F.hw_masked = true;
    F.masks++;
}

static void f_unmask(struct irq_line *l)
{
    (void)l;
    F.hw_masked = false;
    F.unmasks++;
}

static void f_notify(struct irq_line *l, struct irq_sink *s)
{
    (void)l;
    F.notified[index_of(s)]++;
}

static void f_release(struct irq_line *l, struct irq_sink *s)
{
    (void)l;
    assert_false(s->owes);
    F.released[index_of(s)]++;
}

static void f_unhandled(struct irq_line *l, uint64_t seq)
{
    (void)l;
    F.unhandled++;
    F.last_unhandled_seq = seq;
}

static void f_late(struct irq_line *l, struct irq_sink *s, uint64_t seq)
{
    (void)l;
    (void)seq;
    F.late[index_of(s)]++;
}

static void f_arm(struct irq_line *l, uint64_t deadline)
{
    (void)l;
    F.timer = deadline;
}

static const struct irq_line_ops fake_ops = {
    .mask = f_mask, .unmask = f_unmask, .notify = f_notify,
    .release = f_release,
    .report_unhandled = f_unhandled, .report_late = f_late, .arm = f_arm,
};

static void setup(enum irq_trigger trig)
{
    memset(&F, 0, sizeof(F));
    F.hw_masked = true;
    irq_line_init(&F.line, trig, &fake_ops);
}

/* The hardware: a level source that is asserted interrupts whenever the
 * line is unmasked; an edge arrives only when fired. */
static void settle_level(uint64_t now)
{
    for (int guard = 0; guard < 10; guard++) {
        if (!F.asserted || F.hw_masked)
            return;
        irq_line_raise(&F.line, now);
    }
    fail_msg("level line keeps interrupting");
}

static void edge(uint64_t now)
{
    if (!F.hw_masked)
        irq_line_raise(&F.line, now);
}

static uint64_t pending(unsigned i, uint64_t last)
{
    uint64_t seq = 0;
    return irq_sink_pending(&F.sinks[i], last, &seq) ? seq : 0;
}

static void test_edge_basic_and_replay(void **st)
{
    (void)st;
    setup(IRQ_EDGE);
    edge(0);                            /* masked, no sink: lost */
    assert_int_equal(F.line.seq, 0);
    irq_line_raise(&F.line, 0);         /* arrives anyway: spurious */
    assert_int_equal(F.line.count.spurious, 1);
    assert_false(irq_sink_attach(&F.line, &F.sinks[0]));
    assert_false(F.hw_masked);
    assert_int_equal(pending(0, 0), 0);
    edge(1);
    assert_int_equal(F.notified[0], 1);
    assert_int_equal(pending(0, 0), 1);
    assert_int_equal(pending(0, 1), 0);
    assert_false(F.hw_masked);          /* edge lines stay unmasked */
    edge(2);                            /* during service: kept */
    edge(3);                            /* merged with the kept one */
    assert_int_equal(F.line.seq, 1);
    assert_int_equal(irq_sink_ack(&F.sinks[0], 1, 4), 0);
    /* the kept edge is replayed as a new service */
    assert_int_equal(F.line.seq, 2);
    assert_int_equal(pending(0, 1), 2);
    assert_int_equal(irq_sink_ack(&F.sinks[0], 2, 5), 0);
    assert_int_equal(F.line.state, IRQ_IDLE);
    assert_int_equal(F.line.count.raised, 2);
    assert_int_equal(F.line.count.acked, 2);
    /* one timer served both services; firing on an idle line it only
     * disarms */
    assert_int_equal(F.timer, 1 + IRQ_LATE_NS);
    irq_line_timer(&F.line, F.timer);
    assert_int_equal(F.line.count.late, 0);
    assert_int_equal(F.line.timer_at, 0);
}

static void test_level_masked_in_service(void **st)
{
    (void)st;
    setup(IRQ_LEVEL);
    irq_sink_attach(&F.line, &F.sinks[0]);
    F.asserted = true;
    settle_level(0);
    assert_int_equal(F.line.seq, 1);
    assert_true(F.hw_masked);
    irq_line_raise(&F.line, 1);         /* cannot happen while masked */
    assert_int_equal(F.line.count.spurious, 1);
    assert_int_equal(F.line.seq, 1);
    F.asserted = false;                 /* the driver cleared the device */
    assert_int_equal(irq_sink_ack(&F.sinks[0], 1, 2), 0);
    assert_false(F.hw_masked);
    settle_level(2);
    assert_int_equal(F.line.seq, 1);
    /* not cleared before the ACK: it interrupts again at once */
    F.asserted = true;
    settle_level(3);
    assert_int_equal(F.line.seq, 2);
    assert_int_equal(irq_sink_ack(&F.sinks[0], 2, 4), 0);
    settle_level(4);
    assert_int_equal(F.line.seq, 3);
    assert_true(F.hw_masked);
}

static void test_stale_and_repeated_answers(void **st)
{
    (void)st;
    setup(IRQ_EDGE);
    irq_sink_attach(&F.line, &F.sinks[0]);
    irq_sink_attach(&F.line, &F.sinks[1]);
    edge(0);
    assert_int_equal(irq_sink_ack(&F.sinks[0], 0, 1), ERR_BAD_STATE);
    assert_int_equal(irq_sink_ack(&F.sinks[0], 2, 1), ERR_BAD_STATE);
    assert_int_equal(irq_sink_nak(&F.sinks[0], 1, 1), 0);
    assert_int_equal(irq_sink_nak(&F.sinks[0], 1, 1), ERR_BAD_STATE);
    assert_int_equal(irq_sink_ack(&F.sinks[0], 1, 1), ERR_BAD_STATE);
    assert_int_equal(F.line.state, IRQ_IN_SERVICE);
    assert_int_equal(irq_sink_ack(&F.sinks[1], 1, 1), 0);
    assert_int_equal(irq_sink_ack(&F.sinks[1], 1, 1), ERR_BAD_STATE);
    assert_int_equal(irq_sink_nak(&F.sinks[1], 1, 1), ERR_BAD_STATE);
    /* a detached sink answers nothing */
    irq_sink_detach(&F.sinks[1], 2);
    assert_int_equal(irq_sink_ack(&F.sinks[1], 1, 2), ERR_BAD_STATE);
    assert_int_equal(pending(1, 0), 0);
}

static void test_shared_any_ack_ends_service(void **st)
{
    (void)st;
    setup(IRQ_LEVEL);
    for (int i = 0; i < 3; i++)
        irq_sink_attach(&F.line, &F.sinks[i]);
    F.asserted = true;
    settle_level(0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(F.notified[i], 1);
        assert_int_equal(pending((unsigned)i, 0), 1);
    }
    assert_int_equal(irq_sink_nak(&F.sinks[2], 1, 1), 0);
    F.asserted = false;
    assert_int_equal(irq_sink_ack(&F.sinks[0], 1, 1), 0);
    /* the others owe nothing any more */
    assert_int_equal(pending(1, 0), 0);
    assert_int_equal(irq_sink_ack(&F.sinks[1], 1, 1), ERR_BAD_STATE);
    assert_false(F.hw_masked);
    assert_int_equal(F.line.count.naked, 1);
    assert_int_equal(F.line.count.unhandled, 0);
    /* every sink that was told is released exactly once */
    for (int i = 0; i < 3; i++)
        assert_int_equal(F.released[i], 1);
}

static void test_all_nak_backoff_doubles(void **st)
{
    (void)st;
    setup(IRQ_LEVEL);
    irq_sink_attach(&F.line, &F.sinks[0]);
    irq_sink_attach(&F.line, &F.sinks[1]);
    F.asserted = true;                  /* a device nobody claims */
    uint64_t now = 0, want = IRQ_BACKOFF_MIN;
    for (unsigned round = 1; round <= 12; round++) {
        settle_level(now);
        assert_int_equal(F.line.seq, round);
        assert_int_equal(irq_sink_nak(&F.sinks[0], round, now), 0);
        assert_int_equal(F.unhandled, round - 1);
        assert_int_equal(irq_sink_nak(&F.sinks[1], round, now), 0);
        assert_int_equal(F.unhandled, round);
        assert_int_equal(F.last_unhandled_seq, round);
        assert_true(F.hw_masked);
        assert_int_equal(F.line.state, IRQ_BACKOFF);
        assert_int_equal(F.timer, now + want);
        irq_line_timer(&F.line, now + 1);   /* early: nothing */
        assert_true(F.hw_masked);
        now = F.timer;
        irq_line_timer(&F.line, now);       /* the kick */
        want = want * 2 > IRQ_BACKOFF_MAX ? IRQ_BACKOFF_MAX : want * 2;
    }
    /* once an ACK ends a service, the back-off starts over */
    settle_level(now);
    F.asserted = false;
    assert_int_equal(irq_sink_ack(&F.sinks[1], F.line.seq, now), 0);
    F.asserted = true;
    settle_level(now);
    irq_sink_nak(&F.sinks[0], F.line.seq, now);
    irq_sink_nak(&F.sinks[1], F.line.seq, now);
    assert_int_equal(F.timer, now + IRQ_BACKOFF_MIN);
    assert_int_equal(F.line.count.unhandled, 13);
}

static void test_death_naks_on_behalf(void **st)
{
    (void)st;
    setup(IRQ_LEVEL);
    irq_sink_attach(&F.line, &F.sinks[0]);
    irq_sink_attach(&F.line, &F.sinks[1]);
    F.asserted = true;
    settle_level(0);
    /* sink 0 NAKs, sink 1 dies owing: all NAKed */
    irq_sink_nak(&F.sinks[0], 1, 0);
    irq_sink_detach(&F.sinks[1], 1);
    assert_int_equal(F.unhandled, 1);
    assert_int_equal(F.line.count.naked, 2);
    assert_int_equal(F.line.state, IRQ_BACKOFF);
    /* the kick: sink 0 alone gets the next service and ACKs */
    irq_line_timer(&F.line, F.timer);
    settle_level(F.timer);
    assert_int_equal(F.line.seq, 2);
    assert_int_equal(F.notified[1], 1);
    F.asserted = false;
    assert_int_equal(irq_sink_ack(&F.sinks[0], 2, 5), 0);
    /* the last sink dies in service: the line is masked and quiet */
    F.asserted = true;
    settle_level(6);
    irq_sink_detach(&F.sinks[0], 7);
    assert_true(F.hw_masked);
    assert_int_equal(F.line.state, IRQ_IDLE);
    assert_int_equal(F.timer, 0);
    assert_int_equal(F.line.nsinks, 0);
    /* a new holder finds the line and gets the interrupt */
    assert_false(irq_sink_attach(&F.line, &F.sinks[2]));
    settle_level(8);
    assert_int_equal(pending(2, 0), 4);
}

static void test_attach_during_service_is_pending(void **st)
{
    (void)st;
    setup(IRQ_EDGE);
    irq_sink_attach(&F.line, &F.sinks[0]);
    edge(0);
    assert_true(irq_sink_attach(&F.line, &F.sinks[1]));
    assert_int_equal(pending(1, 0), 1);
    irq_sink_nak(&F.sinks[0], 1, 1);
    assert_int_equal(F.line.state, IRQ_IN_SERVICE);   /* sink 1 owes */
    assert_int_equal(irq_sink_ack(&F.sinks[1], 1, 1), 0);
    assert_int_equal(F.line.state, IRQ_IDLE);
}

static void test_late_reported_once(void **st)
{
    (void)st;
    setup(IRQ_LEVEL);
    irq_sink_attach(&F.line, &F.sinks[0]);
    irq_sink_attach(&F.line, &F.sinks[1]);
    F.asserted = true;
    settle_level(100);
    assert_int_equal(F.timer, 100 + IRQ_LATE_NS);
    irq_sink_nak(&F.sinks[0], 1, 200);
    irq_line_timer(&F.line, 100 + IRQ_LATE_NS - 1);  /* not yet */
    assert_int_equal(F.late[1], 0);
    irq_line_timer(&F.line, 100 + IRQ_LATE_NS);
    assert_int_equal(F.late[0], 0);     /* it answered */
    assert_int_equal(F.late[1], 1);
    assert_int_equal(F.line.count.late, 1);
    irq_line_timer(&F.line, 100 + 2 * IRQ_LATE_NS);
    assert_int_equal(F.late[1], 1);     /* once per service */
    /* a late answer is still an answer */
    F.asserted = false;
    assert_int_equal(irq_sink_ack(&F.sinks[1], 1, 3 * IRQ_LATE_NS), 0);
    assert_int_equal(F.line.timer_at, 0);
    /* a stale timer in a later service does nothing */
    F.asserted = true;
    settle_level(4 * IRQ_LATE_NS);
    irq_line_timer(&F.line, 4 * IRQ_LATE_NS + 10);
    assert_int_equal(F.line.count.late, 1);
}

/* A timer armed for one service finds a younger one in service: it
 * waits for that one's own deadline. */
static void test_late_timer_rearms_for_a_later_service(void **st)
{
    (void)st;
    setup(IRQ_EDGE);
    irq_sink_attach(&F.line, &F.sinks[0]);
    edge(0);
    irq_sink_ack(&F.sinks[0], 1, 10);
    edge(IRQ_LATE_NS / 2);              /* service 2, half a second on */
    assert_int_equal(F.timer, IRQ_LATE_NS);     /* still service 1's */
    irq_line_timer(&F.line, IRQ_LATE_NS);
    assert_int_equal(F.line.count.late, 0);
    assert_int_equal(F.timer, IRQ_LATE_NS / 2 + IRQ_LATE_NS);
    irq_line_timer(&F.line, F.timer);
    assert_int_equal(F.line.count.late, 1);
    assert_int_equal(F.late[0], 1);
}

static void test_spurious_without_sinks(void **st)
{
    (void)st;
    setup(IRQ_LEVEL);
    irq_sink_attach(&F.line, &F.sinks[0]);
    irq_sink_detach(&F.sinks[0], 0);
    assert_true(F.hw_masked);
    irq_line_raise(&F.line, 1);
    irq_line_raise(&F.line, 2);
    assert_int_equal(F.line.count.spurious, 2);
    assert_int_equal(F.line.seq, 0);
    irq_sink_detach(&F.sinks[0], 3);    /* twice: nothing */
    assert_int_equal(F.line.nsinks, 0);
}

static void test_edge_kept_through_backoff(void **st)
{
    (void)st;
    setup(IRQ_EDGE);
    irq_sink_attach(&F.line, &F.sinks[0]);
    edge(0);
    irq_line_raise(&F.line, 1);         /* in service: kept */
    irq_sink_nak(&F.sinks[0], 1, 2);
    assert_int_equal(F.line.state, IRQ_BACKOFF);
    assert_int_equal(F.line.seq, 1);
    irq_line_timer(&F.line, F.timer);   /* kick replays it */
    assert_int_equal(F.line.seq, 2);
    assert_int_equal(F.line.state, IRQ_IN_SERVICE);
    assert_false(F.hw_masked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_basic_and_replay),
        cmocka_unit_test(test_level_masked_in_service),
        cmocka_unit_test(test_stale_and_repeated_answers),
        cmocka_unit_test(test_shared_any_ack_ends_service),
        cmocka_unit_test(test_all_nak_backoff_doubles),
        cmocka_unit_test(test_death_naks_on_behalf),
        cmocka_unit_test(test_attach_during_service_is_pending),
        cmocka_unit_test(test_late_reported_once),
        cmocka_unit_test(test_spurious_without_sinks),
        cmocka_unit_test(test_late_timer_rearms_for_a_later_service),
        cmocka_unit_test(test_edge_kept_through_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
