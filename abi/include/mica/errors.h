/*
 * mica/errors.h - the one table of Mica status codes.
 *
 * Shared by the kernel and user space.  Functions return a status (0 for
 * success, a negative ERR_* otherwise) and give results through
 * out-parameters.  The X-macro yields the enum and the names/messages
 * from the same lines, so they cannot drift apart.  Linux errno values
 * for these codes live in mica/linux_errno.h (used only by the Linux ABI).
 */
#ifndef MICA_ABI_ERRORS_H
#define MICA_ABI_ERRORS_H

/*        name                 value  message */
#define MICA_ERRORS(X)                                                      \
    X(OK,                    0,  "success")                                 \
    X(ERR_INTERNAL,         -1,  "internal error")                          \
    X(ERR_NOT_SUPPORTED,    -2,  "operation not supported")                 \
    X(ERR_NO_RESOURCES,     -3,  "resource limit reached")                  \
    X(ERR_NO_MEMORY,        -4,  "out of memory")                           \
    X(ERR_INVALID_ARGS,    -10,  "invalid argument")                        \
    X(ERR_BAD_SYSCALL,     -11,  "no such system call")                     \
    X(ERR_OUT_OF_RANGE,    -12,  "argument out of range")                   \
    X(ERR_BUFFER_TOO_SMALL,-13,  "buffer too small")                        \
    X(ERR_BAD_STATE,       -20,  "object in the wrong state")               \
    X(ERR_TIMED_OUT,       -21,  "deadline passed")                         \
    X(ERR_SHOULD_WAIT,     -22,  "would block; wait and retry")             \
    X(ERR_CANCELED,        -23,  "operation canceled")                      \
    X(ERR_PEER_CLOSED,     -24,  "peer closed")                             \
    X(ERR_NOT_FOUND,       -25,  "not found")                               \
    X(ERR_ALREADY_EXISTS,  -26,  "already exists")                          \
    X(ERR_INTERRUPTED,     -27,  "interrupted")                             \
    X(ERR_BAD_HANDLE,      -30,  "bad handle")                              \
    X(ERR_WRONG_TYPE,      -31,  "handle names an object of another type")  \
    X(ERR_ACCESS_DENIED,   -32,  "handle lacks a needed right")             \
    X(ERR_FAULT,           -40,  "bad user address")                        \
    X(ERR_IO,              -41,  "I/O error")                               \
    X(ERR_BAD_FORMAT,      -42,  "malformed data")

enum mica_status {
#define MICA_ERR_ENUM(name, value, msg) name = value,
    MICA_ERRORS(MICA_ERR_ENUM)
#undef MICA_ERR_ENUM
};

#endif
