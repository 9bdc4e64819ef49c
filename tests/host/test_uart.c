/*
 * test_uart.c - host tests of the console's line discipline
 * (user/drivers/uart/ldisc.c): output with and without CR NL, a full
 * transmit ring, raw and line input, editing, echo, the end of file,
 * records, full rings, and changing modes with input waiting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "console.h"

#include "ldisc.h"

#define ECHO CONSOLE_ECHO
#define LINE CONSOLE_LINE
#define CRLF CONSOLE_CRLF

static struct ldisc L;

static void input(const char *s)
{
    while (*s)
        ldisc_input(&L, (uint8_t)*s++);
}

/* Everything queued for the device, as a string. */
static const char *sent(void)
{
    static char buf[LDISC_TX_SIZE + 1];
    uint32_t n = ldisc_tx_take(&L, (uint8_t *)buf, LDISC_TX_SIZE);
    buf[n] = 0;
    return buf;
}

/* What one read of at most max bytes returns, taken; "<eof>" or
 * "<none>" when that is what it is. */
static const char *read_once(uint32_t max)
{
    static char buf[LDISC_RX_SIZE + 1];
    uint32_t n;
    bool eof;
    if (!ldisc_peek(&L, (uint8_t *)buf, max, &n, &eof))
        return "<none>";
    ldisc_consume(&L, n, eof);
    if (eof)
        return "<eof>";
    buf[n] = 0;
    return buf;
}

static void test_output(void **state)
{
    (void)state;
    ldisc_init(&L, 0);
    assert_int_equal(ldisc_write(&L, "a\nb", 3, false), 3);
    assert_string_equal(sent(), "a\nb");
    assert_int_equal(ldisc_write(&L, "a\nb", 3, true), 3);  /* forced */
    assert_string_equal(sent(), "a\r\nb");
    ldisc_set_mode(&L, CRLF);
    assert_int_equal(ldisc_write(&L, "\n\n", 2, false), 2);
    assert_string_equal(sent(), "\r\n\r\n");
    assert_int_equal(L.tx_bytes, 3 + 4 + 4);
    assert_false(ldisc_tx_pending(&L));
}

/* A full ring takes what fits; a CR NL goes whole or not at all. */
static void test_output_full(void **state)
{
    (void)state;
    static char big[LDISC_TX_SIZE];
    memset(big, 'x', sizeof(big));
    ldisc_init(&L, CRLF);
    assert_int_equal(ldisc_write(&L, big, LDISC_TX_SIZE - 1, false),
                     LDISC_TX_SIZE - 1);
    assert_int_equal(ldisc_tx_room(&L), 1);
    assert_int_equal(ldisc_write(&L, "\n", 1, false), 0);
    assert_int_equal(ldisc_write(&L, "yz", 2, false), 1);
    assert_int_equal(ldisc_tx_room(&L), 0);
    uint8_t two[2];
    assert_int_equal(ldisc_tx_take(&L, two, 2), 2);
    assert_int_equal(ldisc_write(&L, "\n", 1, false), 1);
    assert_int_equal(ldisc_tx_room(&L), 0);
}

static void test_raw_input(void **state)
{
    (void)state;
    ldisc_init(&L, 0);
    assert_false(ldisc_readable(&L));
    assert_string_equal(read_once(10), "<none>");
    input("ab\r\x7f" "c");                   /* nothing is special */
    assert_true(ldisc_readable(&L));
    assert_string_equal(read_once(2), "ab");
    assert_string_equal(read_once(10), "\r\x7f" "c");
    assert_string_equal(sent(), "");         /* no echo */
    ldisc_set_mode(&L, ECHO);
    input("hi");
    assert_string_equal(sent(), "hi");
    assert_string_equal(read_once(10), "hi");
    assert_int_equal(L.rx_bytes, 7);
}

static void test_line_editing(void **state)
{
    (void)state;
    ldisc_init(&L, ECHO | LINE | CRLF);
    input("ab");
    assert_false(ldisc_readable(&L));        /* no line yet */
    input("\x7f" "c\b" "d\r");
    assert_string_equal(read_once(64), "ad\n");
    assert_string_equal(sent(), "ab\b \bc\b \bd\r\n");
    input("xyz\x15" "q\n");                  /* ^U kills the line */
    assert_string_equal(sent(), "xyz\b \b\b \b\b \bq\r\n");
    assert_string_equal(read_once(64), "q\n");
    input("\x7f\x15");                       /* nothing to erase */
    assert_string_equal(sent(), "");
}

/* Reads stop at record ends: a line, a ^D-pushed partial line, the end
 * of file (^D on an empty line). */
static void test_records(void **state)
{
    (void)state;
    ldisc_init(&L, LINE);
    input("one\ntwo\n");
    assert_string_equal(read_once(64), "one\n");
    assert_string_equal(read_once(2), "tw");
    assert_string_equal(read_once(64), "o\n");
    input("part\x04");
    assert_string_equal(read_once(64), "part");
    input("\x04" "after\n");
    assert_string_equal(read_once(64), "<eof>");
    assert_string_equal(read_once(64), "after\n");
    assert_string_equal(read_once(64), "<none>");
}

static void test_line_full(void **state)
{
    (void)state;
    ldisc_init(&L, LINE);
    for (int i = 0; i < 300; i++)
        ldisc_input(&L, 'a');
    input("\n");
    const char *got = read_once(LDISC_RX_SIZE);
    assert_int_equal(strlen(got), LDISC_LINE_MAX);   /* 254 and the NL */
    assert_int_equal(got[LDISC_LINE_MAX - 1], '\n');
    assert_int_equal(L.rx_dropped, 300 - (LDISC_LINE_MAX - 1));
}

static void test_rx_full(void **state)
{
    (void)state;
    ldisc_init(&L, 0);
    for (uint32_t i = 0; i < LDISC_RX_SIZE + 5; i++)
        ldisc_input(&L, 'r');
    assert_int_equal(L.rx_dropped, 5);
    ldisc_init(&L, LINE);
    for (uint32_t i = 0; i < LDISC_RECORDS + 3; i++)
        input("\n");                         /* more records than kept */
    assert_int_equal(L.rx_dropped, 3);
    for (uint32_t i = 0; i < LDISC_RECORDS; i++)
        assert_string_equal(read_once(8), "\n");
    assert_string_equal(read_once(8), "<none>");
}

static void test_mode_changes(void **state)
{
    (void)state;
    ldisc_init(&L, LINE);
    input("half");
    ldisc_set_mode(&L, 0);                   /* the partial line goes over */
    assert_string_equal(read_once(64), "half");
    input("raw");
    ldisc_set_mode(&L, LINE);                /* what came is one record */
    assert_true(ldisc_readable(&L));
    assert_string_equal(read_once(64), "raw");
    assert_string_equal(read_once(64), "<none>");
    ldisc_set_mode(&L, 0xffffffff);          /* unknown bits are dropped */
    assert_int_equal(L.mode, ECHO | LINE | CRLF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output),
        cmocka_unit_test(test_output_full),
        cmocka_unit_test(test_raw_input),
        cmocka_unit_test(test_line_editing),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_line_full),
        cmocka_unit_test(test_rx_full),
        cmocka_unit_test(test_mode_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
