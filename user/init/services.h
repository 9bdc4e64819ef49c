/*
 * services.h - init starting and supervising the programs of the boot
 * manifest (docs/services.md).
 */
#ifndef MICA_INIT_SERVICES_H
#define MICA_INIT_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "mica.h"

/* Read the bootfs's manifest (fs, len: the mapped bootfs; with
 * `testing`, its test-manifest too), check the programs' interfaces and
 * start every program that passes and is not on-demand, each ready
 * before the next; returns the number of problems (a bad or missing
 * manifest, which starts nothing, counts one; so does each program of
 * the boot manifest that was refused, could not start or did not get
 * ready). */
int services_start(const void *fs, size_t len, bool testing);

/* Supervise the programs from a thread of init's own (restarts,
 * heartbeats, on-demand starts and stops, init's protocol); returns at
 * once. */
void services_supervise(void);

/* Supervise them from this thread; never returns. */
void services_watch(void);

/* The number of programs of the boot manifest that ended and were not
 * started again, each reported. */
int services_check(void);

/* A new connection to the running program of line `name`, which
 * receives its end with `token` (service_connect): OK, or ERR_NOT_FOUND
 * when no such line runs. */
int services_connect(const char *name, const char *token,
                     mica_handle_t *client);

/* A new channel of init's protocol (init_proto.h) into *client: OK,
 * ERR_NO_RESOURCES when 8 are open, or the kernel's error. */
int services_control(mica_handle_t *client);

#endif
