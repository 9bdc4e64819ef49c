/*
 * keymap.h - scan code set 1 bytes to key events (idl/kbd.idl), with no
 * device and no system call in it (tested on the host:
 * tests/host/test_ps2kbd.c).
 *
 * The decoder follows the prefixes (0xE0: an extended key; 0xE1: the
 * Pause key's six bytes, one press and no release), keeps the
 * modifiers (held Shift, Ctrl and Alt keys; Caps Lock and Num Lock
 * toggled on their presses) and gives each press its character in the
 * US layout: letters with Shift xor Caps Lock, Ctrl+letter its control
 * code, Enter '\n', Backspace '\b', Tab '\t', Esc 0x1b, the keypad's
 * digits and point with Num Lock on.  The fake shifts some keyboards
 * send around extended keys (E0 2A, E0 AA, E0 36, E0 B6) and the bytes
 * that are not key data (0x00 and 0xFF: errors; 0xFA, 0xFE, 0xEE:
 * answers to commands) make no event.
 */
#ifndef MICA_PS2KBD_KEYMAP_H
#define MICA_PS2KBD_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "kbd.h"            /* the protocol (idl/kbd.idl) */

struct kbd_state {
    uint8_t prefix;             /* 0, 0xE0 or 0xE1 */
    uint8_t e1_left;            /* bytes of the Pause sequence still due */
    uint16_t mods;              /* KBD_MOD_* */
};

void kbd_state_init(struct kbd_state *s);

/* One byte from the keyboard; true with *ev filled when it ends a key
 * event. */
bool kbd_decode(struct kbd_state *s, uint8_t byte, struct kbd_event *ev);

/* Whether byte is key data at all (see above). */
bool kbd_is_key_data(uint8_t byte);

#endif
