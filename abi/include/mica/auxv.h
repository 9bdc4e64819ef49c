/*
 * mica/auxv.h - Mica's own entries in the ELF auxiliary vector.
 *
 * The kernel starts every program with the System V x86_64 initial stack
 * (argc, argv, envp, auxv) that Linux uses, so musl's crt1.o runs
 * unmodified.  Besides the standard AT_* entries the vector carries the
 * entries below; a program reads them with getauxval().  Values are chosen
 * far above every number Linux has assigned, so they never collide.
 */
#ifndef MICA_ABI_AUXV_H
#define MICA_ABI_AUXV_H

/*
 * The program's startup handle: a channel endpoint over which its creator
 * sends the rest of what the program needs.  0 (or absent) means none.
 * The value is "MICA" in ASCII.
 */
#define AT_MICA_STARTUP 0x4D494341ul

/*
 * A handle to the program's own process (rights: basic, read, write,
 * manage), for the calls that name an address space or create threads.
 * "MICP" in ASCII.
 */
#define AT_MICA_PROCESS 0x4D494350ul

/*
 * A resource handle (mica/device.h): init gets the root resource, from
 * which every interrupt, I/O port and physical memory capability is
 * carved; other programs get one only if their creator gives it.  "MICR"
 * in ASCII.
 */
#define AT_MICA_RESOURCE 0x4D494352ul

#endif
