/*
 * userboot.h - starting init from its boot module.
 */
#ifndef MICA_USERBOOT_H
#define MICA_USERBOOT_H

struct process;

/* Load and start init with `argv` (NULL-terminated); *out gets a
 * reference to its process.  ERR_NOT_FOUND without an init module. */
int userboot_start(const char *const argv[], struct process **out);

#endif
