/*
 * verify.c - interfaces checked before anything starts (verify.h).
 *
 * Every program carries in its ELF note the ids of the methods it
 * serves and of those it calls (mica/iface_note.h); an id is a hash of
 * the method's whole signature, so equal ids mean wire-compatible
 * methods.  The rule (docs/services.md, "Verification"): a program may
 * start only if each id it calls is served by some program of the
 * manifest -- itself included -- with that very id.  A program that
 * serves more than its clients call is fine: adding methods keeps old
 * clients working.  The check looks at ids only; names are for the
 * message, which says which binary calls which method.
 *
 * One refusal does not take its servers' clients down with it: a
 * refused server's methods still count as served, so the message names
 * the program at fault and nothing else.  The notes are read from the
 * bootfs, which is untrusted input (iface_note.c validates it); a
 * malformed note refuses its program.
 */
#include <stdio.h>
#include <string.h>

#include "bootfs.h"
#include "verify.h"

static bool served(const struct manifest *m, const struct verdict *v,
                   uint64_t id)
{
    for (unsigned i = 0; i < m->n; i++)
        if (iface_note_has(&v[i].note.serves, id))
            return true;
    return false;
}

/* The first call of entry i that nothing serves: 1 and *e, or 0. */
static int unserved_call(const struct manifest *m, const struct verdict *v,
                         unsigned i, struct mica_iface_entry *e)
{
    const struct iface_list *calls = &v[i].note.calls;
    for (uint32_t k = 0; k < calls->n; k++) {
        iface_note_entry(calls, k, e);
        if (!served(m, v, e->id))
            return 1;
    }
    return 0;
}

unsigned verify_manifest(const struct manifest *m, const void *fs,
                         size_t len, struct verdict *v)
{
    unsigned refused = 0;
    struct bootfs_entry f;
    memset(v, 0, m->n * sizeof(*v));
    for (unsigned i = 0; i < m->n; i++) {
        if (bootfs_find(fs, len, m->e[i].program, &f) || f.size == 0)
            continue;
        if (iface_note_read(f.data, f.size, &v[i].note)) {
            printf("init: refusing to start %s (%s): its interface note is "
                   "malformed (docs/idl.md)\n", m->e[i].name,
                   m->e[i].program);
            v[i].refused = true;
            refused++;
        }
    }
    for (unsigned i = 0; i < m->n; i++) {
        struct mica_iface_entry e;
        if (v[i].refused || !unserved_call(m, v, i, &e))
            continue;
        printf("init: refusing to start %s: %s calls %s (id %#llx), which "
               "no program of the manifest serves\n", m->e[i].name,
               m->e[i].program, e.name, (unsigned long long)e.id);
        memcpy(v[i].method, e.name, sizeof(v[i].method));
        v[i].refused = true;
        refused++;
    }
    fflush(stdout);
    return refused;
}
