/*
 * mica/ipc.h - channels, calls and ports: the structures the IPC system
 * calls read and write.
 *
 * A message is up to MICA_MSG_MAX_BYTES bytes and MICA_MSG_MAX_HANDLES
 * handles.  Sending describes it with a struct mica_msg; receiving gives
 * a struct mica_msg_buf: the caller fills the buffer fields, the kernel
 * the results.  A receive whose buffer is too small fails with
 * ERR_BUFFER_TOO_SMALL, leaves the message queued and reports the sizes
 * needed in actual_bytes / actual_handles.  docs/ipc.md has the
 * semantics; docs/abi/syscalls.md every call with its rights and errors.
 */
#ifndef MICA_ABI_IPC_H
#define MICA_ABI_IPC_H

#include <stdint.h>

#include "objects.h"
#include "rights.h"
#include "signals.h"

#define MICA_MSG_MAX_BYTES   65536u
#define MICA_MSG_MAX_HANDLES 64u
#define MICA_CHANNEL_MAX_QUEUED 64u     /* messages waiting at one end */
#define MICA_PORT_MAX_PACKETS 256u      /* packets queued on a port */

/* A message to send. */
struct mica_msg {
    const void *bytes;
    const mica_handle_t *handles;
    uint32_t num_bytes;
    uint32_t num_handles;
};

/* What a port delivers besides messages. */
struct mica_packet {
    uint64_t key;           /* chosen by whoever armed or queued it */
    uint32_t type;          /* MICA_PACKET_* */
    int32_t status;
    mica_signals_t signals; /* SIGNAL: the signals seen (trigger included) */
    uint32_t reserved;
    uint64_t data[4];       /* USER: the sender's words; TIMER: [0] the
                               last deadline passed, [1] expiries counted */
};

#define MICA_PACKET_USER    1u  /* port_queue */
#define MICA_PACKET_SIGNAL  2u  /* object_wait_async */
#define MICA_PACKET_TIMER   3u  /* a timer bound to the port fired */
#define MICA_PACKET_INTERRUPT 4u /* an interrupt bound to the port: data[0] its sequence number */

/* What a handle names and allows (handle_info, and each handle a
 * receive brings when the buffer asks: mica_msg_buf.handle_infos). */
struct mica_handle_info {
    uint32_t type;          /* enum mica_obj_type */
    mica_rights_t rights;
};

/* Where to receive, and what was received. */
struct mica_msg_buf {
    void *bytes;                /* in: the byte buffer */
    mica_handle_t *handles;     /* in: the handle buffer */
    uint32_t bytes_cap;         /* in: its size in bytes */
    uint32_t handles_cap;       /* in: its size in handles */
    struct mica_handle_info *handle_infos;  /* in: NULL, or room for
                                   handles_cap entries, where each handle
                                   received is described (out) */
    /* out */
    uint32_t actual_bytes;      /* received (or needed) */
    uint32_t actual_handles;
    uint64_t key;               /* port_receive: the endpoint's key */
    uint64_t txid;              /* a call's transaction id; 0: no reply wanted */
    uint32_t kind;              /* MICA_RECV_MESSAGE or MICA_RECV_PACKET */
    int32_t reply_status;       /* reply_receive: what became of the reply */
    struct mica_packet packet;  /* kind == MICA_RECV_PACKET */
};

#define MICA_RECV_MESSAGE 1u
#define MICA_RECV_PACKET  2u

#endif
