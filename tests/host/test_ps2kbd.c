/*
 * test_ps2kbd.c - host tests of the keyboard driver's decoder
 * (user/drivers/ps2kbd/keymap.c): plain and extended keys, presses and
 * releases, the modifiers and locks, characters in the US layout, the
 * Pause key's sequence, the fake shifts and bytes that are not keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "keymap.h"

static struct kbd_state S;

/* Feed bytes; the events they made go to ev, their count back. */
static unsigned feed(const uint8_t *b, unsigned n, struct kbd_event *ev)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (kbd_decode(&S, b[i], &ev[k]))
            k++;
    return k;
}

/* Press and release `code` (a plain key): the press's character. */
static uint8_t tap(uint8_t code)
{
    struct kbd_event ev[2];
    uint8_t b[2] = { code, (uint8_t)(code | 0x80) };
    assert_int_equal(feed(b, 2, ev), 2);
    assert_int_equal(ev[0].pressed, 1);
    assert_int_equal(ev[1].pressed, 0);
    assert_int_equal(ev[1].ascii, 0);        /* releases carry none */
    return ev[0].ascii;
}

static void test_plain_keys(void **state)
{
    (void)state;
    kbd_state_init(&S);
    assert_int_equal(tap(0x1e), 'a');
    assert_int_equal(tap(0x02), '1');
    assert_int_equal(tap(0x0b), '0');
    assert_int_equal(tap(0x39), ' ');
    assert_int_equal(tap(KBD_KEY_ENTER), '\n');
    assert_int_equal(tap(KBD_KEY_BACKSPACE), '\b');
    assert_int_equal(tap(KBD_KEY_TAB), '\t');
    assert_int_equal(tap(KBD_KEY_ESC), 0x1b);
    assert_int_equal(tap(0x29), '`');
    assert_int_equal(tap(0x2b), '\\');
    assert_int_equal(tap(KBD_KEY_F1), 0);
    assert_int_equal(tap(0x37), '*');        /* the keypad's */
    assert_int_equal(tap(0x4a), '-');
    assert_int_equal(tap(0x47), 0);          /* keypad 7, Num Lock off */
}

static void test_modifiers(void **state)
{
    (void)state;
    struct kbd_event ev[4];
    kbd_state_init(&S);
    uint8_t shift[] = { 0x2a };
    assert_int_equal(feed(shift, 1, ev), 1);
    assert_int_equal(ev[0].code, KBD_KEY_LSHIFT);
    assert_int_equal(ev[0].mods, KBD_MOD_LSHIFT);
    assert_int_equal(tap(0x1e), 'A');
    assert_int_equal(tap(0x02), '!');
    assert_int_equal(tap(0x28), '"');
    uint8_t unshift[] = { 0xaa, 0x36 };      /* left up, right down */
    assert_int_equal(feed(unshift, 2, ev), 2);
    assert_int_equal(ev[0].mods, 0);
    assert_int_equal(ev[1].mods, KBD_MOD_RSHIFT);
    assert_int_equal(tap(0x10), 'Q');
    uint8_t rup[] = { 0xb6 };
    feed(rup, 1, ev);
    /* Caps Lock: letters only, and Shift undoes it */
    assert_int_equal(tap(KBD_KEY_CAPSLOCK), 0);
    assert_int_equal(S.mods, KBD_MOD_CAPS);
    assert_int_equal(tap(0x1e), 'A');
    assert_int_equal(tap(0x02), '1');
    feed(shift, 1, ev);
    assert_int_equal(tap(0x1e), 'a');
    uint8_t lup[] = { 0xaa };
    feed(lup, 1, ev);
    assert_int_equal(tap(KBD_KEY_CAPSLOCK), 0);
    assert_int_equal(S.mods, 0);
    /* Ctrl: letters become control codes; the right Ctrl is extended */
    uint8_t rctrl[] = { 0xe0, 0x1d };
    assert_int_equal(feed(rctrl, 2, ev), 1);
    assert_int_equal(ev[0].code, KBD_KEY_RCTRL);
    assert_int_equal(ev[0].mods, KBD_MOD_RCTRL);
    assert_int_equal(tap(0x2e), 3);          /* ^C */
    assert_int_equal(tap(0x02), '1');
    uint8_t rctrl_up[] = { 0xe0, 0x9d, 0x38, 0xe0, 0x38 };
    assert_int_equal(feed(rctrl_up, 5, ev), 3);
    assert_int_equal(ev[0].mods, 0);
    assert_int_equal(ev[2].code, KBD_KEY_RALT);
    assert_int_equal(ev[2].mods, KBD_MOD_LALT | KBD_MOD_RALT);
    assert_int_equal(tap(0x1e), 'a');        /* Alt leaves it */
}

static void test_num_lock(void **state)
{
    (void)state;
    kbd_state_init(&S);
    assert_int_equal(tap(KBD_KEY_NUMLOCK), 0);
    assert_int_equal(S.mods, KBD_MOD_NUM);
    assert_int_equal(tap(0x47), '7');
    assert_int_equal(tap(0x53), '.');
    assert_int_equal(tap(0x4e), '+');
    struct kbd_event ev[2];
    uint8_t kp_enter[] = { 0xe0, 0x1c, 0xe0, 0x35 };
    assert_int_equal(feed(kp_enter, 4, ev), 2);
    assert_int_equal(ev[0].code, KBD_KEY_KP_ENTER);
    assert_int_equal(ev[0].ascii, '\n');
    assert_int_equal(ev[1].code, KBD_KEY_KP_SLASH);
    assert_int_equal(ev[1].ascii, '/');
    /* extended arrows are not the keypad's digits */
    uint8_t up[] = { 0xe0, 0x48, 0xe0, 0xc8 };
    assert_int_equal(feed(up, 4, ev), 2);
    assert_int_equal(ev[0].code, KBD_KEY_UP);
    assert_int_equal(ev[0].ascii, 0);
    assert_int_equal(ev[1].code, KBD_KEY_UP);
    assert_int_equal(ev[1].pressed, 0);
}

static void test_sequences(void **state)
{
    (void)state;
    struct kbd_event ev[4];
    kbd_state_init(&S);
    uint8_t pause[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
    assert_int_equal(feed(pause, 6, ev), 1);
    assert_int_equal(ev[0].code, KBD_KEY_PAUSE);
    assert_int_equal(ev[0].pressed, 1);
    assert_int_equal(S.mods, 0);             /* its Ctrl bytes held nothing */
    uint8_t print[] = { 0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa };
    assert_int_equal(feed(print, 8, ev), 2);
    assert_int_equal(ev[0].code, KBD_KEY_PRINT);
    assert_int_equal(ev[1].code, KBD_KEY_PRINT);
    assert_int_equal(ev[1].pressed, 0);
    assert_int_equal(S.mods, 0);             /* fake shifts are ignored */
    uint8_t answers[] = { 0xfa, 0xfe, 0xee, 0x00, 0xff };
    assert_int_equal(feed(answers, 5, ev), 0);
    assert_false(kbd_is_key_data(0xfa));
    assert_true(kbd_is_key_data(0x1e));
    /* a repeat is another press */
    uint8_t repeat[] = { 0x1e, 0x1e, 0x9e };
    assert_int_equal(feed(repeat, 3, ev), 3);
    assert_int_equal(ev[1].pressed, 1);
    assert_int_equal(ev[1].ascii, 'a');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_keys),
        cmocka_unit_test(test_modifiers),
        cmocka_unit_test(test_num_lock),
        cmocka_unit_test(test_sequences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
