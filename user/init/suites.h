/*
 * suites.h - init's runner of the in-system test suites.
 */
#ifndef MICA_INIT_SUITES_H
#define MICA_INIT_SUITES_H

#include <stddef.h>

/* Run every suite in the bootfs (fs, len: mapped) with the selection;
 * returns the number that failed, or -1 when no suite had anything
 * selected. */
int suites_run(const void *fs, size_t len, const char *selection);

#endif
