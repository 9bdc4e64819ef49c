/*
 * mica/console.h - the console protocol: what a console server (the
 * UART driver, user/drivers/uart) serves on each connection.
 *
 * A request is a channel_call whose bytes are one struct
 * mica_console_msg, followed for MICA_CONSOLE_WRITE by `count` bytes to
 * write; it carries no handles.  The reply is one struct
 * mica_console_msg (`status` OK or an error), followed for
 * MICA_CONSOLE_READ by `count` bytes read and for MICA_CONSOLE_INFO by
 * one struct mica_console_info.  A message written rather than called
 * is dropped unanswered.  docs/drivers.md lists every error.
 *
 * The kernel speaks this protocol itself, as a client, for a process
 * whose standard streams were given a console channel
 * (process_set_stdio): Linux read, write and their vector forms on fds
 * 0, 1 and 2 become READ and WRITE calls on it.
 */
#ifndef MICA_ABI_CONSOLE_H
#define MICA_ABI_CONSOLE_H

#include <stdint.h>

#include <mica/device.h>

/* Operations (struct mica_console_msg.op). */
#define MICA_CONSOLE_WRITE 1u   /* count bytes follow; reply: count taken */
#define MICA_CONSOLE_READ  2u   /* count: most bytes wanted; reply: the bytes */
#define MICA_CONSOLE_MODE  3u   /* flags: the new mode; reply: the old one */
#define MICA_CONSOLE_INFO  4u   /* reply: struct mica_console_info */

/* READ flags. */
#define MICA_CONSOLE_NOWAIT 1u  /* nothing to read: ERR_SHOULD_WAIT */

/* Modes (MODE flags, mica_console_info.mode). */
#define MICA_CONSOLE_ECHO     (1u << 0)  /* input is written back */
#define MICA_CONSOLE_LINE     (1u << 1)  /* reads return whole lines: CR is
                                            NL, BS/DEL erase, ^U kills the
                                            line, ^D on an empty line is
                                            the end of file */
#define MICA_CONSOLE_CRLF     (1u << 2)  /* NL is written as CR NL */
#define MICA_CONSOLE_LOOPBACK (1u << 3)  /* the device's own loopback:
                                            what is written comes back as
                                            input (for tests) */
#define MICA_CONSOLE_MODES    0xfu

/* The most bytes one WRITE carries or one READ returns. */
#define MICA_CONSOLE_DATA_MAX 4096u

struct mica_console_msg {
    uint32_t op;                /* MICA_CONSOLE_*; the same in the reply */
    int32_t status;             /* reply: OK or an error; request: 0 */
    uint32_t count;             /* WRITE, READ: bytes (see above) */
    uint32_t flags;             /* READ: MICA_CONSOLE_NOWAIT; MODE: a mode */
};

struct mica_console_info {
    uint32_t mode;              /* MICA_CONSOLE_* modes */
    uint32_t readers;           /* READ calls waiting for input */
    uint64_t rx_bytes;          /* received from the device */
    uint64_t rx_dropped;        /* received with no room left, or overrun */
    uint64_t tx_bytes;          /* handed to the device */
    uint64_t interrupts;        /* services the driver answered with ACK */
    struct mica_irq_info irq;   /* interrupt_info of the driver's line */
};

#endif
