/*
 * mica/signals.h - the observable state bits of objects.
 *
 * Each object has 32 signal bits; wait calls and ports observe them.
 * Bits 0-15 are defined per object type below; 16-23 are user signals
 * any holder with RIGHT_SIGNAL may set and clear on objects that allow it.
 */
#ifndef MICA_ABI_SIGNALS_H
#define MICA_ABI_SIGNALS_H

#include <stdint.h>

typedef uint32_t mica_signals_t;

#define SIGNAL_READABLE     (1u << 0)
#define SIGNAL_WRITABLE     (1u << 1)
#define SIGNAL_PEER_CLOSED  (1u << 2)
#define SIGNAL_SIGNALED     (1u << 3)
#define SIGNAL_TERMINATED   (1u << 4)   /* process or thread has ended */
#define SIGNAL_SUSPENDED    (1u << 5)   /* thread parked by thread_suspend */
#define SIGNAL_HANDLE_CLOSED (1u << 15) /* wait result: the waited handle was closed */

#define SIGNAL_USER0        (1u << 16)
#define SIGNAL_USER_ALL     (0xFFu << 16)

#endif
