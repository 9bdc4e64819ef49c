/*
 * mica/iface_note.h - the interface note every Mica program carries.
 *
 * A program says in its ELF file which protocol methods it serves and
 * which it calls, so that init can check before starting anything that
 * every method called is served with the identical signature, and the
 * name service can check again on connect (docs/idl.md, docs/services.md).
 *
 * The note lives in the section `.note.mica.iface` (type SHT_NOTE, kept
 * by `strip`).  It holds up to two ELF notes, owner "Mica":
 *   MICA_NOTE_SERVES   the methods the program's server dispatch handles
 *   MICA_NOTE_CALLS    the methods whose client stubs are linked into it
 * Each note's descriptor is an array of struct mica_iface_entry, sorted
 * by id, without repeats.  A program without the section serves and
 * calls nothing.
 *
 * A method's id is a hash of its full structural signature (protocol,
 * method name, parameter and result types, recursively; docs/idl.md):
 * two methods with the same id are wire-compatible.  The name is only
 * for messages: "protocol.method", NUL-padded.
 */
#ifndef MICA_ABI_IFACE_NOTE_H
#define MICA_ABI_IFACE_NOTE_H

#include <stdint.h>

#define MICA_NOTE_SECTION  ".note.mica.iface"
#define MICA_NOTE_OWNER    "Mica"
#define MICA_NOTE_SERVES   0x4d490001u
#define MICA_NOTE_CALLS    0x4d490002u

#define MICA_IFACE_NAME_MAX 56      /* "protocol.method" and its NUL */

struct mica_iface_entry {
    uint64_t id;
    char name[MICA_IFACE_NAME_MAX];
};

#endif
