/*
 * suites.h - init's runner of the in-system test suites.
 */
#ifndef MICA_INIT_SUITES_H
#define MICA_INIT_SUITES_H

/* Run every suite in the bootfs with the selection; returns the number
 * that failed, or -1 when no suite had anything selected. */
int suites_run(const char *selection);

#endif
