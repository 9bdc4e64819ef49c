/*
 * i8042.h - the PC's keyboard controller, for the keyboard driver.
 *
 * Ports: 0x60 data, 0x64 status (read) and command (write).  The
 * driver disables the keyboard while it sets the controller's
 * configuration byte (keyboard interrupt on, keyboard clock on,
 * translation to scan code set 1 on; the mouse's bits as the firmware
 * left them), empties the output buffer, and enables the keyboard
 * again.  Every wait on the controller is bounded.
 */
#ifndef MICA_PS2KBD_I8042_H
#define MICA_PS2KBD_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define I8042_DATA   0x60
#define I8042_STATUS 0x64
#define I8042_CMD    0x64

#define I8042_OBF    0x01       /* status: a byte waits in the output buffer */
#define I8042_IBF    0x02       /* status: the controller has not taken ours */
#define I8042_AUX    0x20       /* status: the byte is the mouse's */

/* Set the controller up; false (with *why) when it does not answer. */
bool i8042_init(const char **why);

static inline void i8042_outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t i8042_inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#endif
