/*
 * kbd_proto.h - the protocol of the PS/2 keyboard driver
 * (user/drivers/ps2kbd): key events.
 *
 * A client holds a channel to the driver, made by init or by a test
 * standing in for it (service_connect).  A request is a channel_call
 * whose bytes are one struct kbd_request, with no handles; the reply is
 * one struct kbd_reply (`status` OK or the error), followed for
 * KBD_OP_READ by `count` struct kbd_event and for KBD_OP_INFO by one
 * struct kbd_info.  A message written rather than called is dropped
 * unanswered.  docs/drivers.md lists every error.
 *
 * Key codes are the keyboard's scan code set 1 make codes (what the
 * i8042 delivers with translation on): 0x01-0x7f for plain keys,
 * 0x100 | code for those sent after an 0xE0 prefix (the right-hand
 * Ctrl and Alt, the arrows, the keypad's Enter and /, ...), and
 * KBD_KEY_PAUSE for the one key sent after 0xE1.
 */
#ifndef MICA_USER_KBD_PROTO_H
#define MICA_USER_KBD_PROTO_H

#include <stdint.h>

#include <mica/device.h>

#define KBD_OP_READ 1u          /* max: most events wanted -> events */
#define KBD_OP_INFO 2u          /* -> struct kbd_info */

#define KBD_NOWAIT  1u          /* READ flags: no event yet: ERR_SHOULD_WAIT */

#define KBD_EVENTS_MAX 64u      /* the most one READ returns */

/* Some key codes (the rest: any scan code set 1 table). */
#define KBD_KEY_ESC       0x01
#define KBD_KEY_BACKSPACE 0x0e
#define KBD_KEY_TAB       0x0f
#define KBD_KEY_ENTER     0x1c
#define KBD_KEY_LCTRL     0x1d
#define KBD_KEY_LSHIFT    0x2a
#define KBD_KEY_RSHIFT    0x36
#define KBD_KEY_LALT      0x38
#define KBD_KEY_SPACE     0x39
#define KBD_KEY_CAPSLOCK  0x3a
#define KBD_KEY_F1        0x3b  /* F1-F10: 0x3b-0x44 */
#define KBD_KEY_NUMLOCK   0x45
#define KBD_KEY_F11       0x57
#define KBD_KEY_F12       0x58
#define KBD_KEY_KP_ENTER  0x11c
#define KBD_KEY_RCTRL     0x11d
#define KBD_KEY_KP_SLASH  0x135
#define KBD_KEY_PRINT     0x137
#define KBD_KEY_RALT      0x138
#define KBD_KEY_HOME      0x147
#define KBD_KEY_UP        0x148
#define KBD_KEY_PAGEUP    0x149
#define KBD_KEY_LEFT      0x14b
#define KBD_KEY_RIGHT     0x14d
#define KBD_KEY_END       0x14f
#define KBD_KEY_DOWN      0x150
#define KBD_KEY_PAGEDOWN  0x151
#define KBD_KEY_INSERT    0x152
#define KBD_KEY_DELETE    0x153
#define KBD_KEY_PAUSE     0x245

/* Modifiers (kbd_event.mods): held keys, and lock states. */
#define KBD_MOD_LSHIFT (1u << 0)
#define KBD_MOD_RSHIFT (1u << 1)
#define KBD_MOD_LCTRL  (1u << 2)
#define KBD_MOD_RCTRL  (1u << 3)
#define KBD_MOD_LALT   (1u << 4)
#define KBD_MOD_RALT   (1u << 5)
#define KBD_MOD_CAPS   (1u << 6)    /* Caps Lock is on */
#define KBD_MOD_NUM    (1u << 7)    /* Num Lock is on */
#define KBD_MOD_SHIFT  (KBD_MOD_LSHIFT | KBD_MOD_RSHIFT)
#define KBD_MOD_CTRL   (KBD_MOD_LCTRL | KBD_MOD_RCTRL)
#define KBD_MOD_ALT    (KBD_MOD_LALT | KBD_MOD_RALT)

struct kbd_event {
    uint16_t code;              /* KBD_KEY_*, see above */
    uint8_t pressed;            /* 1: pressed (or repeated), 0: released */
    uint8_t ascii;              /* a press's character (US layout), or 0 */
    uint16_t mods;              /* KBD_MOD_*, after this event */
    uint16_t pad;
};

struct kbd_request {
    uint32_t op;                /* KBD_OP_* */
    uint32_t flags;             /* READ: KBD_NOWAIT */
    uint32_t max;               /* READ: 1 to KBD_EVENTS_MAX */
    uint32_t pad;
};

struct kbd_reply {
    int32_t status;             /* OK or an error */
    uint32_t count;             /* READ: events following */
};

struct kbd_info {
    uint64_t bytes;             /* from the keyboard (keyboard data only) */
    uint64_t events;            /* key events made */
    uint64_t dropped;           /* events lost: the queue was full */
    uint64_t other;             /* bytes that were not key data: the
                                   mouse's, or the keyboard's answers */
    uint64_t interrupts;        /* services the driver answered with ACK */
    uint32_t readers;           /* READ calls waiting */
    uint32_t mods;              /* the modifiers now */
    struct mica_irq_info irq;   /* interrupt_info of the driver's line */
};

#endif
