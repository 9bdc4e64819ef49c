/*
 * event.h - events: objects that are nothing but signals.
 *
 * An event (OBJ_EVENT) has SIGNAL_SIGNALED and the user signals
 * (SIGNAL_USER_ALL), all clear when it is created, and nothing else.
 * Holders with RIGHT_SIGNAL set and clear them with object_signal, the
 * only object type whose SIGNAL_SIGNALED user space may change; others
 * wait for them with object_wait_one, object_wait_many or an observer
 * (object_wait_async).
 */
#ifndef MICA_EVENT_H
#define MICA_EVENT_H

#include "kmem.h"
#include "object.h"

/* The signals object_signal may change on an event. */
#define EVENT_SIGNALS (SIGNAL_SIGNALED | SIGNAL_USER_ALL)

/* A new event charged to acct, with one reference for the caller:
 * 0 or ERR_NO_MEMORY. */
int event_create(struct kmem_account *acct, struct object **out);

#endif
