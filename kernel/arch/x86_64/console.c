/*
 * console.c - the kernel log's sinks on a PC: QEMU's debug port (0xE9)
 * and the first serial port (COM1, a 16550 UART).
 *
 * The debug port is detected by reading it back (QEMU's debugcon and
 * Bochs return 0xE9).  COM1 is programmed for 115200 8N1 with FIFOs and
 * written by polling; the kernel stops writing to it when a user-space
 * console driver takes it over, except on panic.  Both sinks are written
 * under the log lock only.
 */
#include "arch.h"
#include "arch/x86_64/console.h"
#include "arch/x86_64/cpu.h"
#include "panic.h"

#define COM1 0x3F8
#define DEBUGCON 0xE9

static bool have_debugcon;
static bool have_com1;
static bool com1_released;

static bool com1_probe(void)
{
    outb(COM1 + 1, 0x00);           /* no interrupts */
    outb(COM1 + 3, 0x80);           /* DLAB */
    outb(COM1 + 0, 0x01);           /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);           /* 8N1 */
    outb(COM1 + 2, 0xC7);           /* FIFO on, cleared, 14-byte trigger */
    outb(COM1 + 4, 0x03);           /* DTR, RTS */
    outb(COM1 + 7, 0x5A);           /* scratch register round trip */
    return inb(COM1 + 7) == 0x5A;
}

void console_init(void)
{
    have_debugcon = inb(DEBUGCON) == DEBUGCON;
    have_com1 = com1_probe();
}

static void com1_putc(char c)
{
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        arch_cpu_relax();
    outb(COM1, (uint8_t)c);
}

void arch_log_write(const char *s, size_t n)
{
    bool serial = have_com1 && (!com1_released || panicking());
    for (size_t i = 0; i < n; i++) {
        if (have_debugcon)
            outb(DEBUGCON, (uint8_t)s[i]);
        if (serial) {
            if (s[i] == '\n')
                com1_putc('\r');
            com1_putc(s[i]);
        }
    }
}

void arch_log_release_console(void)
{
    com1_released = true;
}
