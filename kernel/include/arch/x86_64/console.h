/*
 * console.h - the kernel log's PC sinks (debug port 0xE9, COM1), and
 * COM1 changing hands.
 */
#ifndef MICA_X86_64_CONSOLE_H
#define MICA_X86_64_CONSOLE_H

#include "types.h"

struct process;

/* Detect the debug port and program COM1; call before the first log. */
void console_init(void);

/* Whether the I/O permission map `map` (a bit set: port denied) allows
 * any of COM1's ports. */
bool console_ports_in(const uint8_t *map);

/* Process p may now use some of COM1's ports (it could not before): the
 * kernel stops writing the log there.  Called with no lock held. */
void console_claim(const struct process *p);

/* Process p, which could use COM1's ports, has died: when it was the
 * last, COM1 is programmed again and the log goes back to it. */
void console_unclaim(const struct process *p);

/* Whether the kernel writes the log to COM1 now (for tests). */
bool console_com1_in_use(void);

#endif
