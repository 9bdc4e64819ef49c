/*
 * console.h - the kernel log's PC sinks (debug port 0xE9, COM1).
 */
#ifndef MICA_X86_64_CONSOLE_H
#define MICA_X86_64_CONSOLE_H

/* Detect the debug port and program COM1; call before the first log. */
void console_init(void);

#endif
