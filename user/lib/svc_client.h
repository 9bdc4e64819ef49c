/*
 * svc_client.h - a program's side of the name service (svc_proto.h).
 *
 * `svc` is the channel the program's `svc` capability gives it
 * (mica_cap("svc", 0)).  Each call returns OK or the error svc or the
 * kernel gave (docs/services.md, "The name service").
 */
#ifndef MICA_USER_SVC_CLIENT_H
#define MICA_USER_SVC_CLIENT_H

#include <stddef.h>

#include "mica.h"
#include "svc_proto.h"

/* Publish `name`, served methods m[0..n) (sorted by id, no repeats),
 * listening through the channel whose connecting end `connect` is (it
 * moves to svc, whatever the outcome). */
int svc_publish(mica_handle_t svc, const char *name,
                const struct mica_iface_entry *m, unsigned n,
                mica_handle_t connect);

/* Connect to `name`, declaring the methods m[0..n) the caller will call
 * on it: OK and *out, a channel to the server; or an error, with the
 * method the server lacks in missing[0..len) (NUL-terminated, "" when
 * the error is another) for ERR_NOT_SUPPORTED. */
int svc_connect(mica_handle_t svc, const char *name,
                const struct mica_iface_entry *m, unsigned n,
                mica_handle_t *out, char *missing, size_t len);

/* One request as it is, for tests of the protocol's errors: `bytes` and
 * the handles (which move); the reply and the handle it carried (0 for
 * none) in *h.  The call's error, or the reply's status. */
int svc_call(mica_handle_t svc, const void *bytes, uint32_t len,
             const mica_handle_t *handles, uint32_t nhandles,
             struct svc_reply *r, mica_handle_t *h);

#endif
