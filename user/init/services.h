/*
 * services.h - init starting and watching the programs of the boot
 * manifest.
 */
#ifndef MICA_INIT_SERVICES_H
#define MICA_INIT_SERVICES_H

#include <stddef.h>

#include "mica.h"

/* Start every program of the bootfs's manifest (fs, len: the mapped
 * bootfs), each ready before the next; returns the number of problems
 * (a bad or missing manifest, which starts nothing, counts one; so does
 * each program that could not start or did not get ready). */
int services_start(const void *fs, size_t len);

/* A new connection to the running program of the manifest line `name`:
 * the program receives `token` and one end on its startup channel (as
 * the pci server receives pci= connections), *client gets the other.
 * ERR_NOT_FOUND when no such program runs. */
int services_connect(const char *name, const char *token,
                     mica_handle_t *client);

/* The number of started programs that have ended since, each reported. */
int services_check(void);

/* A new connection to the running program of line `name`, which
 * receives its end with `token` (service_connect): OK, or ERR_NOT_FOUND
 * when no such line runs. */
int services_connect(const char *name, const char *token,
                     mica_handle_t *client);

/* Report each program as it ends; never returns. */
void services_watch(void);

#endif
