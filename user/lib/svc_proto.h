/*
 * svc_proto.h - the protocol of svc, the name service.
 *
 * Servers publish a name with the methods they serve and a listening
 * endpoint; clients connect by name, declaring the methods they call,
 * and get a channel to the server if it serves every one of them
 * (docs/services.md, "The name service").
 *
 * A program reaches svc through the channel its manifest line's `svc`
 * capability gives it.  Every request is a channel_call whose bytes are
 * a struct svc_request followed by `count` struct mica_iface_entry
 * (mica/iface_note.h): the methods the server serves (PUBLISH) or the
 * client calls (CONNECT).  The reply is one struct svc_reply: `status`
 * is OK or the error (docs/services.md lists them), and for
 * ERR_NOT_SUPPORTED `method` names the first declared method the server
 * does not serve, "protocol.method" as the client wrote it.
 *
 * PUBLISH carries one handle, the connecting end of a channel whose
 * other end, the listening endpoint, the server reads.  CONNECT carries
 * none; its reply carries the client's end of a new channel, whose
 * other end svc writes to the listening endpoint as a connection
 * message: the service's name and its NUL, and that one handle.  The
 * listening endpoint is the server's for as long as anyone holds it:
 * init keeps one handle to it and gives it again to the program it
 * restarts, so the name outlives the server's instances.
 */
#ifndef MICA_USER_SVC_PROTO_H
#define MICA_USER_SVC_PROTO_H

#include <stdint.h>

#include <mica/iface_note.h>

#define SVC_NAME_MAX    32      /* a service's name and its NUL */
#define SVC_METHODS_MAX 256     /* entries in one request */

#define SVC_OP_PUBLISH 1        /* name, served methods; handle: connect end */
#define SVC_OP_CONNECT 2        /* name, called methods -> handle: a channel */

struct svc_request {
    uint32_t op;                /* SVC_OP_* */
    uint32_t count;             /* entries after this header */
    char name[SVC_NAME_MAX];    /* the service, NUL-terminated, not empty */
};

struct svc_reply {
    int32_t status;
    uint32_t reserved;                  /* 0 */
    char method[MICA_IFACE_NAME_MAX];   /* ERR_NOT_SUPPORTED: the method */
};

#endif
