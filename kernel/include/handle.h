/*
 * handle.h - handle tables: what a thread can name, and with which rights.
 *
 * A handle value is 32 bits: a slot index in the low `index_bits` bits
 * and the slot's generation above them,
 *
 *      31                    index_bits                 0
 *     +-------------------------+-------------------------+
 *     |       generation        |          index          |
 *     +-------------------------+-------------------------+
 *
 * where index_bits is the fewest bits that can index `max_handles`
 * slots (fixed when the table is created), so a table gives every bit
 * it does not need for indices to generations: a table of 1,024 handles
 * has 22 generation bits, the largest table (HANDLE_MAX_LIMIT) 12.
 * Generations run 1 .. 2^(32-index_bits)-1 and skip 0 when they wrap,
 * so no handle is ever 0 (HANDLE_INVALID).  A slot's generation moves on
 * every time a handle leaves it (close, replace, transfer), so a stale
 * value fails with ERR_BAD_HANDLE; free slots are reused oldest first,
 * so a value can only come back after every free slot has been cycled
 * through and its own slot's generation has wrapped.
 *
 * Ownership: a handle holds one reference to its object and counts in
 * the object's `handles`.  A handle in flight inside a message keeps
 * both (the message owns the reference); installing it in a table moves
 * them into the table.  A table is itself an object (OBJ_HANDLE_TABLE):
 * whoever uses it holds a reference to it.
 *
 * Transfer (channel messages) is two-phase on both sides, so a message
 * write or read that fails moves nothing:
 *
 *   sender:   handle_take_begin(t, hs, n, need, objs, rights)
 *               checks every handle (all or nothing) and marks them
 *               leaving: from now on they look closed to everyone else;
 *             then either handle_take_commit(t, hs, n): the handles are
 *               gone and the caller owns objs[] (reference + handle
 *               count each), or handle_take_abort(t, hs, n): they are
 *               back, unchanged.
 *   receiver: handle_reserve(t, n, hs) reserves n slots and gives their
 *               values (all or nothing: ERR_NO_RESOURCES/ERR_NO_MEMORY),
 *             then either handle_commit(t, hs, objs, rights, n), which
 *               cannot fail and consumes objs[], or handle_unreserve.
 *
 * handle_take and handle_put are the one-handle forms.  handle_discard
 * drops an in-flight handle (a message destroyed unread).
 *
 * Locking: the table lock guards only the table.  Objects are destroyed
 * and last_handle callbacks run after it is released.  The entry array
 * is grown (doubling, charged to the table's account) with the lock
 * dropped; growth never moves a slot's index or generation.
 */
#ifndef MICA_HANDLE_H
#define MICA_HANDLE_H

#include <mica/objects.h>
#include <mica/rights.h>

#include "kmem.h"
#include "object.h"
#include "spinlock.h"

#define HANDLE_MAX_LIMIT (1u << 20)     /* largest max_handles */
#define HANDLE_TABLE_MIN 16u            /* slots of a table's first array */

struct handle_entry {
    struct object *obj;         /* USED, TAKING: the handle's reference */
    mica_rights_t rights;
    uint32_t gen;               /* never 0 */
    uint32_t next;              /* FREE: next free slot */
    uint32_t state;             /* HE_* in handle.c */
};

struct handle_table {
    struct object obj;          /* OBJ_HANDLE_TABLE */
    spinlock_t lock;            /* guards everything below */
    struct handle_entry *entries;
    uint32_t cap;               /* slots in entries[] */
    uint32_t count;             /* slots not free */
    uint32_t limit;             /* max_handles */
    uint32_t index_bits;
    uint32_t free_head, free_tail;      /* FIFO of free slots */
    bool dead;                  /* handle_table_close_all has run */
    struct kmem_account *acct;  /* charged for the table; outlives it */
};

/* A new, empty table holding up to `max_handles` (1..HANDLE_MAX_LIMIT)
 * handles, charged to `acct`, with one reference for the caller.
 * Errors: ERR_INVALID_ARGS (max_handles), ERR_NO_MEMORY. */
int handle_table_create(struct kmem_account *acct, uint32_t max_handles,
                        struct handle_table **out);

/* Install a new handle to `o` with `rights` (within RIGHTS_ALL).  Moves
 * one reference of `o` from the caller into the table on success.
 * Errors: ERR_NO_RESOURCES (table full), ERR_NO_MEMORY (growing it),
 * ERR_BAD_STATE (table closed). */
int handle_add(struct handle_table *t, struct object *o, mica_rights_t rights,
               mica_handle_t *out);

/* The one way from a handle to an object.  Gives a new reference in
 * *out (the caller unrefs it).  `type` OBJ_NONE accepts any type.
 * Errors, checked in this order: ERR_BAD_HANDLE (0, never issued, stale,
 * closed), ERR_WRONG_TYPE, ERR_ACCESS_DENIED (lacks a right in `need`). */
int handle_get(struct handle_table *t, mica_handle_t h, uint32_t type,
               mica_rights_t need, struct object **out);

/* handle_get that also gives the handle's rights (rights may be NULL). */
int handle_get_rights(struct handle_table *t, mica_handle_t h, uint32_t type,
                      mica_rights_t need, struct object **out,
                      mica_rights_t *rights);

/* Close a handle: its reference is dropped, and last_handle runs if it
 * was the object's last handle.  Error: ERR_BAD_HANDLE. */
int handle_close(struct handle_table *t, mica_handle_t h);

/* A second handle to the same object with `rights` (a subset of h's, or
 * RIGHT_SAME_RIGHTS).  Errors, in order: ERR_BAD_HANDLE, ERR_ACCESS_DENIED
 * (h lacks RIGHT_DUPLICATE), ERR_INVALID_ARGS (rights not a subset),
 * ERR_NO_RESOURCES, ERR_NO_MEMORY, ERR_BAD_STATE. */
int handle_duplicate(struct handle_table *t, mica_handle_t h,
                     mica_rights_t rights, mica_handle_t *out);

/* Atomically close h and give a new handle to its object with `rights`
 * (subset or RIGHT_SAME_RIGHTS; needs no right).  Never allocates.  On
 * failure h is unchanged.  Errors: ERR_BAD_HANDLE, ERR_INVALID_ARGS. */
int handle_replace(struct handle_table *t, mica_handle_t h,
                   mica_rights_t rights, mica_handle_t *out);

/* Transfer, sending side (see above).  begin: every hs[i] must be a
 * distinct open handle holding all of `need`; objs[i] and rights[i] get
 * its object (borrowed until commit) and rights.  Errors: ERR_BAD_HANDLE
 * (also for a value repeated in hs), ERR_ACCESS_DENIED; nothing changes. */
int handle_take_begin(struct handle_table *t, const mica_handle_t *hs,
                      uint32_t n, mica_rights_t need, struct object **objs,
                      mica_rights_t *rights);
void handle_take_commit(struct handle_table *t, const mica_handle_t *hs,
                        uint32_t n);
void handle_take_abort(struct handle_table *t, const mica_handle_t *hs,
                       uint32_t n);

/* Transfer, receiving side (see above).  reserve errors: ERR_NO_RESOURCES,
 * ERR_NO_MEMORY, ERR_BAD_STATE; nothing reserved.  commit consumes each
 * objs[i] (its reference and in-flight handle); if the table was closed
 * meanwhile it closes them instead. */
int handle_reserve(struct handle_table *t, uint32_t n, mica_handle_t *hs);
void handle_commit(struct handle_table *t, const mica_handle_t *hs,
                   struct object *const *objs, const mica_rights_t *rights,
                   uint32_t n);
void handle_unreserve(struct handle_table *t, const mica_handle_t *hs,
                      uint32_t n);

/* One handle out of the table for transfer: begin + commit. */
int handle_take(struct handle_table *t, mica_handle_t h, mica_rights_t need,
                struct object **o, mica_rights_t *rights);

/* Install one in-flight handle: reserve + commit.  On failure the caller
 * still owns `o` (reference and in-flight handle). */
int handle_put(struct handle_table *t, struct object *o, mica_rights_t rights,
               mica_handle_t *out);

/* Drop an in-flight handle nobody will receive. */
void handle_discard(struct object *o);

/* Process death: close every handle; later adds fail with ERR_BAD_STATE.
 * Handles mid-transfer are finished by their transfer's commit/abort. */
void handle_table_close_all(struct handle_table *t);

/* Handles open (or reserved, or leaving) in `t`. */
uint32_t handle_table_count(struct handle_table *t);

#endif
