/*
 * grant.h - grants: a range of a caller's memory lent to a server for
 * the length of one call.
 *
 * A grant (OBJ_GRANT) names [base, base + len) of the address space that
 * made it, with RIGHT_READ and/or RIGHT_WRITE.  It does nothing until it
 * is carried in a channel_call: it is then tied to that call, and
 * grant_read / grant_write work (one copy, bounds checked) until the
 * call ends -- answered, timed out, canceled, or its caller killed,
 * which is also what the granting process's death does.  After that the
 * grant is dead for good; a grant carried again in a later call (a server
 * forwarding it down a chain) stays tied to its first call.
 */
#ifndef MICA_GRANT_H
#define MICA_GRANT_H

#include "object.h"
#include "vm.h"

struct grant {
    struct object obj;          /* OBJ_GRANT */
    struct aspace *as;          /* the granter's, referenced until revoked */
    uint64_t base, len;
    bool attached;              /* tied to a call (once) */
    bool active;                /* that call is pending */
    uint32_t users;             /* copies in progress (ipc_lock) */
    struct kmem_account *acct;
};

/* A grant of [base, base+len) of `as`, charged to acct. */
int grant_create(struct aspace *as, uint64_t base, uint64_t len,
                 struct kmem_account *acct, struct grant **out);

/* If o is a grant not yet tied to a call, tie it to the call being sent
 * (ipc_lock held); true when it was, and the call must revoke it. */
bool grant_attach_locked(struct object *o);

/* The call it was tied to has ended: stop it, waiting for copies in
 * progress (ipc_lock not held). */
void grant_revoke(struct grant *g);

/* Copy len bytes between offset off of the grant and the caller's
 * memory at ubuf (write: into the grant).  Errors: ERR_BAD_STATE (not
 * tied to a pending call), ERR_OUT_OF_RANGE, ERR_FAULT. */
int grant_copy(struct grant *g, uint64_t off, uint64_t ubuf, uint64_t len,
               bool write);

#endif
