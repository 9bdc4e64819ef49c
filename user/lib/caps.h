/*
 * caps.h - what a program started from the boot manifest was given.
 *
 * init starts such a program with a startup channel (AT_MICA_STARTUP,
 * mica_startup_handle()).  The first message on it is the program's
 * capabilities: its bytes are the capability tokens of the program's
 * manifest line, as written there, each followed by a NUL; its handles
 * are the objects, one for each token, in the same order.  `log` is not
 * a handle and is not in the message (the process may write the log or
 * not).  So a driver whose line says
 *
 *     uart bin/uart log ioport=0x3f8+8 irq=isa:4
 *
 * finds its port range with mica_cap("ioport", 0) and its interrupt with
 * mica_cap("irq", 0), and decodes a token, to learn the base port, with
 * mica_cap_decode.  docs/services.md has the whole convention.
 *
 * The startup channel stays open after that message.  A program tells
 * its starter it is up with mica_ready() (init starts the next program
 * of the manifest only then), and its starter may send more messages
 * later: the pci server receives its clients' connections there.
 */
#ifndef MICA_USER_CAPS_H
#define MICA_USER_CAPS_H

#include "manifest.h"
#include "mica.h"

#define MICA_CAPS_MAX MANIFEST_MAX_CAPS
/* The bytes of the caps message, at most: every token and its NUL. */
#define MICA_CAPS_BYTES_MAX (MICA_CAPS_MAX * MANIFEST_TOKEN_MAX)

/* The message a program sends on its startup channel when it is ready. */
#define MICA_READY_MSG "ready"

/* Receive the caps message, waiting for it if need be.  OK (also when
 * called again), or: ERR_BAD_HANDLE (no startup channel), ERR_PEER_CLOSED
 * (the starter went away without sending it), ERR_BUFFER_TOO_SMALL (more
 * than MICA_CAPS_MAX handles or MICA_CAPS_BYTES_MAX bytes: not a caps
 * message; it stays queued), ERR_INVALID_ARGS (the tokens and the
 * handles do not pair up: every handle that came is closed). */
int mica_caps_init(void);

/* Every capability, in manifest order (after mica_caps_init). */
unsigned mica_caps_count(void);
const char *mica_caps_token(unsigned i);        /* NULL past the end */
mica_handle_t mica_caps_handle(unsigned i);     /* 0 past the end */

/* The index-th capability whose key (the token up to '=') is `key`, or
 * whose whole token is `key` when key has a '='; 0 / NULL when there is
 * none.  Calls mica_caps_init first. */
mica_handle_t mica_cap(const char *key, unsigned index);
const char *mica_cap_token(const char *key, unsigned index);

/* The same capability's token decoded (manifest.h): 0, or -1 when there
 * is no such capability or its token does not parse. */
int mica_cap_decode(const char *key, unsigned index, struct manifest_cap *c);

/* Tell the starter the program is up (MICA_READY_MSG on the startup
 * channel).  OK or channel_write's error. */
int mica_ready(void);

/* init's heartbeat (a line with heartbeat=): the bytes MICA_HEARTBEAT_MSG
 * on the startup channel, no handles; the program answers with
 * MICA_ALIVE_MSG there before the next one comes, or init takes it for
 * hung, kills it and starts it again (docs/services.md). */
#define MICA_HEARTBEAT_MSG "heartbeat"
#define MICA_ALIVE_MSG     "alive"

/* Whether the message `in`, read from the startup channel, is a
 * heartbeat; if so it is answered. */
bool mica_heartbeat(const struct mica_msg_buf *in);

/* A server says whether it has clients: MICA_BUSY_MSG on its startup
 * channel when it gets its first, MICA_IDLE_MSG when its last goes.  An
 * on-demand server is stopped once it has been idle for its idle time.
 * Call with the number of clients whenever it changes; only the
 * changes between none and some are sent.  OK or channel_write's
 * error. */
#define MICA_BUSY_MSG "busy"
#define MICA_IDLE_MSG "idle"
int mica_report_clients(unsigned n);

#endif
