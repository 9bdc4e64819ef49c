/*
 * keymap.c - scan code set 1 bytes to key events (keymap.h).
 */
#include <string.h>

#include "keymap.h"

/* Characters of the plain keys 0x00-0x39, without and with Shift. */
static const char plain[0x3a] =
    "\0\x1b" "1234567890-=\b"
    "\tqwertyuiop[]\n"
    "\0asdfghjkl;'`"
    "\0\\zxcvbnm,./\0"
    "*\0 ";
static const char shifted[0x3a] =
    "\0\x1b" "!@#$%^&*()_+\b"
    "\tQWERTYUIOP{}\n"
    "\0ASDFGHJKL:\"~"
    "\0|ZXCVBNM<>?\0"
    "*\0 ";
/* The keypad 0x47-0x53 with Num Lock on; '-' and '+' always. */
static const char keypad[0x0d] = "789-456+1230.";

void kbd_state_init(struct kbd_state *s)
{
    memset(s, 0, sizeof(*s));
}

bool kbd_is_key_data(uint8_t b)
{
    return b != 0x00 && b != 0xff && b != 0xfa && b != 0xfe && b != 0xee;
}

static uint16_t held_bit(uint16_t code)
{
    switch (code) {
    case KBD_KEY_LSHIFT: return KBD_MOD_LSHIFT;
    case KBD_KEY_RSHIFT: return KBD_MOD_RSHIFT;
    case KBD_KEY_LCTRL:  return KBD_MOD_LCTRL;
    case KBD_KEY_RCTRL:  return KBD_MOD_RCTRL;
    case KBD_KEY_LALT:   return KBD_MOD_LALT;
    case KBD_KEY_RALT:   return KBD_MOD_RALT;
    default:             return 0;
    }
}

static void track_mods(struct kbd_state *s, uint16_t code, bool pressed)
{
    uint16_t bit = held_bit(code);
    if (bit)
        s->mods = (uint16_t)(pressed ? s->mods | bit : s->mods & ~bit);
    else if (pressed && code == KBD_KEY_CAPSLOCK)
        s->mods ^= KBD_MOD_CAPS;
    else if (pressed && code == KBD_KEY_NUMLOCK)
        s->mods ^= KBD_MOD_NUM;
}

static uint8_t ascii_of(uint16_t code, uint16_t mods)
{
    if (code == KBD_KEY_KP_ENTER)
        return '\n';
    if (code == KBD_KEY_KP_SLASH)
        return '/';
    if (code >= 0x47 && code <= 0x53) {
        char c = keypad[code - 0x47];
        return (mods & KBD_MOD_NUM) || c == '-' || c == '+' ? (uint8_t)c : 0;
    }
    if (code >= sizeof(plain))
        return 0;
    char c = plain[code];
    bool letter = c >= 'a' && c <= 'z';
    if ((mods & KBD_MOD_CTRL) && letter)
        return (uint8_t)(c & 0x1f);
    bool shift = (mods & KBD_MOD_SHIFT) != 0;
    if (letter && (mods & KBD_MOD_CAPS))
        shift = !shift;
    return (uint8_t)(shift ? shifted[code] : c);
}

/* E0 2A, E0 AA, E0 36, E0 B6: shift games around extended keys. */
static bool fake_shift(uint16_t code)
{
    return code == (0x100 | KBD_KEY_LSHIFT) ||
           code == (0x100 | KBD_KEY_RSHIFT);
}

bool kbd_decode(struct kbd_state *s, uint8_t b, struct kbd_event *ev)
{
    if (!kbd_is_key_data(b))
        return false;
    if (s->e1_left) {                   /* E1 1D 45 E1 9D C5 */
        if (--s->e1_left)
            return false;
        *ev = (struct kbd_event){ .code = KBD_KEY_PAUSE, .pressed = 1,
                                  .mods = s->mods };
        return true;
    }
    if (b == 0xe0) {
        s->prefix = 0xe0;
        return false;
    }
    if (b == 0xe1) {
        s->prefix = 0;
        s->e1_left = 5;
        return false;
    }
    uint16_t code = (uint16_t)((s->prefix == 0xe0 ? 0x100 : 0) | (b & 0x7f));
    bool pressed = !(b & 0x80);
    s->prefix = 0;
    if (fake_shift(code))
        return false;
    track_mods(s, code, pressed);
    *ev = (struct kbd_event){
        .code = code, .pressed = pressed,
        .ascii = pressed ? ascii_of(code, s->mods) : 0, .mods = s->mods,
    };
    return true;
}
