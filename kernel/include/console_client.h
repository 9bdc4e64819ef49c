/*
 * console_client.h - a process's standard streams on a console channel.
 *
 * A process given a console channel (process_set_stdio) has its Linux
 * fds 0, 1 and 2 connected to the console server at the other end: the
 * kernel speaks the console protocol (idl/console.idl) as a client, on
 * the calling thread.  This is the kernel's stand-in for the personality
 * server's file descriptors (DESIGN.md section 8), as the log is for
 * processes with the log capability.
 */
#ifndef MICA_CONSOLE_CLIENT_H
#define MICA_CONSOLE_CLIENT_H

#include "types.h"

struct channel;
struct process;

/* The most bytes one read asks the server for. */
#define CONSOLE_CLIENT_READ_MAX 1024u

/* Make ep (whose only handle the caller has taken out of its table; the
 * binding keeps it) p's console, replacing any before it; ep NULL
 * removes it.  Errors: ERR_PEER_CLOSED (ep's other end has closed),
 * ERR_BAD_STATE (ep has another handle, or its peer is held by the
 * kernel; or p has died).  On an error ep stays the caller's. */
int console_client_bind(struct process *p, struct channel *ep);

/* p has died: its console goes, for good. */
void console_client_gone(struct process *p);

/* The current process's console, referenced, or NULL. */
struct channel *console_client_get(void);

/* A piece of the caller's memory to write. */
struct console_span {
    uint64_t addr, len;
};

/* Write the n spans (in order) through ep, packed into calls of at most
 * CONSOLE_DATA_MAX bytes, so that what one writev gives arrives
 * whole when it fits; *done gets the count the server took.  0 when it
 * took all, else the status that stopped it (the server's, one a
 * write may carry: ERR_INVALID_ARGS, ERR_NOT_SUPPORTED; or ERR_FAULT,
 * ERR_NO_MEMORY, ERR_PEER_CLOSED, ERR_CANCELED, ERR_IO: a reply that is
 * not a well-formed one to the call, or takes more than was sent). */
int console_client_write(struct channel *ep, const struct console_span *s,
                         unsigned n, uint64_t *done);

/* One read call for at most `len` bytes (cut to CONSOLE_CLIENT_READ_MAX),
 * whose bytes go to out(ctx, data, n) (which may fail with its status);
 * *got is their count, 0 at the end of file (the server said so, or is
 * gone).  Errors: the server's status (one a read may carry), out's,
 * ERR_NO_MEMORY, ERR_CANCELED, ERR_IO (a reply that is not a
 * well-formed one to the call, or brings more than was asked for). */
int console_client_read(struct channel *ep, uint32_t len,
                        int (*out)(void *ctx, const void *data, uint32_t n),
                        void *ctx, uint32_t *got);

#endif
