/*
 * service.h - starting a program of the boot manifest with exactly the
 * capabilities its line lists.
 *
 * The starter (init, or a test standing in for it) holds a resource
 * that covers everything the line names.  For each capability it makes
 * one object: an ioport object (not enabled: that is the program's to
 * do), an interrupt object, an uncached physical vmo, a narrower
 * resource, or a channel to the pci server.  It writes them, with their
 * tokens, as the first message of a new startup channel (caps.h), and
 * starts the program with the other end of that channel, with the log
 * capability only if the line says `log`, its standard streams on a
 * channel to the console server if it says `stdio=NAME`, and with no
 * resource: a program holds nothing beyond its line.
 */
#ifndef MICA_USER_SERVICE_H
#define MICA_USER_SERVICE_H

#include <stddef.h>

#include "manifest.h"
#include "mica.h"

struct service {
    const struct manifest_entry *entry;
    mica_handle_t proc;         /* basic, read, write, manage */
    mica_handle_t chan;         /* the starter's end of the startup channel */
    bool ready;                 /* it said so */
};

/* The programs already running that a line may connect to, and where
 * its serve= endpoints come from. */
struct service_set {
    struct service *s;
    unsigned n;
    /* A new handle to the listening endpoint of e's capability `cap`
     * (serve=NAME), which the starter keeps across restarts; NULL, or 0
     * returned: the line cannot start (ERR_NOT_FOUND). */
    mica_handle_t (*listen)(const struct manifest_entry *e, unsigned cap);
};

/* The running program of the line called `name`, or NULL. */
struct service *service_find(const struct service_set *set,
                             const char *name);

/* Start entry `e` from the bootfs image (fs, len) with its capabilities,
 * made from `resource`; `running` (may be NULL) holds the programs its
 * pci=, svc and stdio= connect to: the pci server, as the line named
 * "pci", the name service, as "svc", and the console server stdio=
 * names; and gives its serve= endpoints.  With stdio=, the program's
 * fds 0-2 reach that server (process_set_stdio) from its first
 * instruction.  OK and *out, or an error with *why saying what failed
 * (a token, or what of the program): nothing of the attempt is left
 * then. */
int service_start(const struct manifest_entry *e, const void *fs, size_t len,
                  mica_handle_t resource, const struct service_set *running,
                  struct service *out, const char **why);

/* Wait until the program says it is ready (OK), dies or closes its
 * channel first (ERR_PEER_CLOSED), or the deadline passes
 * (ERR_TIMED_OUT; 0: no deadline).  Messages other than the ready one
 * are dropped: nothing else is asked of a program on that channel. */
int service_wait_ready(struct service *s, uint64_t deadline);

/* A new channel to the server `srv`: its end goes to the server with
 * `token` (pci=..., stdio=...) on the startup channel, the other to
 * *client. */
int service_connect(struct service *srv, const char *token,
                    mica_handle_t *client);

/* Kill the program (if it still runs), wait for it, close its handles. */
void service_stop(struct service *s);

/* Send a caps message (caps.h): n tokens and their handles, which move. */
int service_send_caps(mica_handle_t ch, const char *const tokens[],
                      const mica_handle_t handles[], unsigned n);

#endif
