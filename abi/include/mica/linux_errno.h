/*
 * mica/linux_errno.h - Linux errno values, and the one mapping from Mica
 * status codes to them.  Used only by the Linux ABI layers (the kernel's
 * Linux file and the POSIX server).
 */
#ifndef MICA_ABI_LINUX_ERRNO_H
#define MICA_ABI_LINUX_ERRNO_H

#include "mica/errors.h"

#define LX_EPERM   1
#define LX_ENOENT  2
#define LX_ESRCH   3
#define LX_EINTR   4
#define LX_EIO     5
#define LX_EBADF   9
#define LX_EAGAIN  11
#define LX_ENOMEM  12
#define LX_EACCES  13
#define LX_EFAULT  14
#define LX_EBUSY   16
#define LX_EEXIST  17
#define LX_EINVAL  22
#define LX_ENOTTY  25
#define LX_ERANGE  34
#define LX_EDEADLK 35
#define LX_ENOSYS  38
#define LX_ENOTSUP 95
#define LX_ETIMEDOUT 110
#define LX_ECANCELED 125
#define LX_EPIPE   32

static inline int linux_errno(int status)
{
    switch (status) {
    case OK:                    return 0;
    case ERR_NOT_SUPPORTED:     return LX_ENOTSUP;
    case ERR_NO_RESOURCES:      return LX_EAGAIN;
    case ERR_NO_MEMORY:         return LX_ENOMEM;
    case ERR_INVALID_ARGS:      return LX_EINVAL;
    case ERR_BAD_SYSCALL:       return LX_ENOSYS;
    case ERR_OUT_OF_RANGE:      return LX_ERANGE;
    case ERR_BUFFER_TOO_SMALL:  return LX_ERANGE;
    case ERR_BAD_STATE:         return LX_EBUSY;
    case ERR_TIMED_OUT:         return LX_ETIMEDOUT;
    case ERR_SHOULD_WAIT:       return LX_EAGAIN;
    case ERR_CANCELED:          return LX_ECANCELED;
    case ERR_PEER_CLOSED:       return LX_EPIPE;
    case ERR_NOT_FOUND:         return LX_ENOENT;
    case ERR_ALREADY_EXISTS:    return LX_EEXIST;
    case ERR_INTERRUPTED:       return LX_EINTR;
    case ERR_BAD_HANDLE:        return LX_EBADF;
    case ERR_WRONG_TYPE:        return LX_EBADF;
    case ERR_ACCESS_DENIED:     return LX_EACCES;
    case ERR_FAULT:             return LX_EFAULT;
    case ERR_IO:                return LX_EIO;
    default:                    return LX_EINVAL;
    }
}

#endif
