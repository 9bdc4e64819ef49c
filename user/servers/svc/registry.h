/*
 * registry.h - svc's table of published services.
 */
#ifndef MICA_SVC_REGISTRY_H
#define MICA_SVC_REGISTRY_H

#include "mica.h"
#include "svc_proto.h"

#define REGISTRY_MAX 64         /* services */

/* Check and carry out one request (q, its `len` bytes, the handles that
 * came with it, which are consumed).  The reply into *r, and into *give
 * the handle it carries (CONNECT), or 0. */
void registry_request(const void *q, uint32_t len, const mica_handle_t *h,
                      uint32_t nh, struct svc_reply *r, mica_handle_t *give);

#endif
