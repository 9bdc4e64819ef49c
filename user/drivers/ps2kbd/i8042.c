/*
 * i8042.c - the keyboard controller's set-up (i8042.h).
 */
#include "i8042.h"

#define CFG_KBD_IRQ   0x01
#define CFG_KBD_CLOCK 0x10      /* set: the keyboard's clock is off */
#define CFG_TRANSLATE 0x40

#define SPINS 1000000

static bool wait_input_empty(void)
{
    for (int i = 0; i < SPINS; i++)
        if (!(i8042_inb(I8042_STATUS) & I8042_IBF))
            return true;
    return false;
}

static bool command(uint8_t c)
{
    if (!wait_input_empty())
        return false;
    i8042_outb(I8042_CMD, c);
    return true;
}

static bool write_data(uint8_t v)
{
    if (!wait_input_empty())
        return false;
    i8042_outb(I8042_DATA, v);
    return true;
}

static bool read_data(uint8_t *v)
{
    for (int i = 0; i < SPINS; i++) {
        if (i8042_inb(I8042_STATUS) & I8042_OBF) {
            *v = i8042_inb(I8042_DATA);
            return true;
        }
    }
    return false;
}

static void flush(void)
{
    for (int i = 0; i < 64 && (i8042_inb(I8042_STATUS) & I8042_OBF); i++)
        i8042_inb(I8042_DATA);
}

bool i8042_init(const char **why)
{
    uint8_t cfg;
    if (i8042_inb(I8042_STATUS) == 0xff) {
        *why = "no controller (status reads 0xff)";
        return false;
    }
    if (!command(0xad)) {               /* keyboard off while we work */
        *why = "the controller takes no command";
        return false;
    }
    flush();
    if (!command(0x20) || !read_data(&cfg)) {
        *why = "the configuration byte cannot be read";
        return false;
    }
    cfg = (uint8_t)((cfg | CFG_KBD_IRQ | CFG_TRANSLATE) & ~CFG_KBD_CLOCK);
    if (!command(0x60) || !write_data(cfg)) {
        *why = "the configuration byte cannot be written";
        return false;
    }
    flush();
    if (!command(0xae)) {               /* keyboard on */
        *why = "the keyboard cannot be enabled";
        return false;
    }
    return true;
}
