/*
 * console.c - the kernel log's sinks on a PC: QEMU's debug port (0xE9)
 * and the first serial port (COM1, a 16550 UART).
 *
 * The debug port is detected by reading it back (QEMU's debugcon and
 * Bochs return 0xE9).  COM1 is programmed for 115200 8N1 with FIFOs and
 * written by polling.  Both sinks are written under the log lock only.
 *
 * COM1 changes hands with its ports: the moment any process may use one
 * of them (ioport_enable, through arch_io_allow), the kernel says so in
 * the log and stops writing there, so its polled writes never mix with
 * a user-space driver's (the console driver, user/drivers/uart); the
 * log goes on in the ring and at the debug port.  When the last such
 * process has died, COM1 is programmed again and the log comes back to
 * it.  A panic writes to COM1 whoever holds it.  `users` counts the
 * processes, under claim_lock; com1_released is read by the log's
 * writers under the log lock, and log_sync() after setting it waits out
 * a write already under way.
 */
#include "arch.h"
#include "arch/x86_64/console.h"
#include "arch/x86_64/cpu.h"
#include "log.h"
#include "panic.h"
#include "process.h"
#include "spinlock.h"

#define COM1 0x3F8
#define DEBUGCON 0xE9

static bool have_debugcon;
static bool have_com1;
static volatile bool com1_released;
static spinlock_t claim_lock = SPINLOCK_INIT;
static unsigned users;              /* processes that may use COM1's ports */

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

bool console_ports_in(const uint8_t *map)
{
    return map[COM1 / 8] != 0xFF;       /* 0x3F8-0x3FF: one byte */
}

void console_claim(const struct process *p)
{
    irqflags_t f = spin_lock_irqsave(&claim_lock);
    bool first = users++ == 0;
    spin_unlock_irqrestore(&claim_lock, f);
    if (!first || !have_com1)
        return;
    kprintf("console: COM1 is '%s''s (pid %u) from now on; the log goes on"
            " at the debug port\n", p->name, p->pid);
    f = spin_lock_irqsave(&claim_lock);
    if (users > 0)
        com1_released = true;
    spin_unlock_irqrestore(&claim_lock, f);
    log_sync();
}

void console_unclaim(const struct process *p)
{
    irqflags_t f = spin_lock_irqsave(&claim_lock);
    bool last = --users == 0;
    if (last && com1_released) {
        com1_probe();                   /* nobody writes it meanwhile */
        com1_released = false;
    }
    spin_unlock_irqrestore(&claim_lock, f);
    if (last && have_com1)
        kprintf("console: COM1 is the log's again ('%s', pid %u, has "
                "ended)\n", p->name, p->pid);
}

bool console_com1_in_use(void)
{
    return have_com1 && !com1_released;
}
