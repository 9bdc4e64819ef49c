/*
 * echo_proto.h - the echo protocol of the supervision tests: a server
 * (echosrv.c) and clients built against two versions of it.
 *
 * A request is a channel_call of a u32 op and up to 256 bytes; ECHO and
 * REVERSE reply with the bytes (reversed for REVERSE), HANG makes the
 * server stop answering anything, its heartbeats included.  The ids
 * stand for the signatures, as idlc's hashes will: ECHO_ID_ECHO_V1 is
 * echo.Echo as version 1 had it (a reply of a u32 length only), which
 * no server serves any more; version 2 added REVERSE, which an older
 * client does not call and does not need.
 */
#ifndef MICA_TESTS_ECHO_PROTO_H
#define MICA_TESTS_ECHO_PROTO_H

#include <mica/iface_note.h>

#define ECHO_OP_ECHO    1
#define ECHO_OP_HANG    2
#define ECHO_OP_REVERSE 3

#define ECHO_ID_ECHO_V1 0x0e1c0a11d0000001ull  /* echo.Echo, version 1 */
#define ECHO_ID_ECHO    0x0e1c0a11d0000002ull  /* echo.Echo, version 2 */
#define ECHO_ID_HANG    0x0e1c0a11d0000003ull
#define ECHO_ID_REVERSE 0x0e1c0a11d0000004ull  /* added in version 2 */
#define ECHO_ID_SHOUT   0x0e1c0a11d0000005ull  /* version 3: no server */

#define ECHO_MAX 256

#endif
