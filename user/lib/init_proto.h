/*
 * init_proto.h - init's own protocol: what init tells about the
 * programs it supervises, and, for the test suites, killing one.
 *
 * init hands a channel of this protocol to the suites that test it
 * (their capability `init`, user/init/suites.c); no program of the
 * manifest gets one.  Every request is a channel_call of one struct
 * init_request; the reply is one struct init_reply and no handles.
 * `status` is OK or the error (docs/services.md, "init's protocol").
 */
#ifndef MICA_USER_INIT_PROTO_H
#define MICA_USER_INIT_PROTO_H

#include <stdint.h>

#include <mica/iface_note.h>

#define INIT_OP_STATUS 1        /* name -> the program's state */
#define INIT_OP_KILL   2        /* name, code: kill it, as a crash */

/* init_reply.state */
#define INIT_STATE_REFUSED  1   /* not started: a call nothing serves */
#define INIT_STATE_FAILED   2   /* could not start, or ended for good */
#define INIT_STATE_STOPPED  3   /* on-demand, waiting for a connection */
#define INIT_STATE_STARTING 4   /* started, not yet ready */
#define INIT_STATE_RUNNING  5   /* ready */
#define INIT_STATE_WAITING  6   /* ended; restarted at restart_at */

struct init_request {
    uint32_t op;                /* INIT_OP_* */
    int32_t code;               /* KILL: the exit status it gets */
    char name[32];              /* a manifest line, NUL-terminated */
};

struct init_reply {
    int32_t status;
    uint32_t state;             /* INIT_STATE_* */
    uint32_t pid;               /* running or starting: its pid */
    uint32_t restarts;          /* times init started it again */
    int32_t last_exit;          /* the status its last instance ended with */
    uint32_t missed;            /* heartbeats it failed to answer */
    uint64_t started_at;        /* clock_get of its last start */
    uint64_t ready_at;          /* ... of its last ready */
    uint64_t ended_at;          /* ... of its last instance's end */
    uint64_t restart_at;        /* WAITING: when it starts again */
    char detail[MICA_IFACE_NAME_MAX];   /* REFUSED: the method it calls */
};

#endif
