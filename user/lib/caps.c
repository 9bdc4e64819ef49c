/*
 * caps.c - receiving the capabilities a program was started with
 * (caps.h).
 *
 * The message is read once and kept: the tokens in one buffer, each
 * NUL-terminated, pointed to in order, and the handles beside them.  A
 * message whose tokens and handles do not pair up is refused whole and
 * its handles closed: a program never guesses which object is which.
 */
#include <string.h>

#include "caps.h"

static struct {
    int status;                         /* 1: not yet read */
    unsigned n;
    char bytes[MICA_CAPS_BYTES_MAX];
    const char *token[MICA_CAPS_MAX];
    mica_handle_t handle[MICA_CAPS_MAX];
} caps = { .status = 1 };

/* Split the bytes into n tokens, each non-empty and NUL-terminated. */
static int split(uint32_t nbytes, uint32_t nhandles)
{
    unsigned n = 0;
    uint32_t start = 0;
    if (nbytes && caps.bytes[nbytes - 1] != 0)
        return ERR_INVALID_ARGS;
    for (uint32_t i = 0; i < nbytes; i++) {
        if (caps.bytes[i] != 0)
            continue;
        if (i == start || n == nhandles)
            return ERR_INVALID_ARGS;
        caps.token[n++] = &caps.bytes[start];
        start = i + 1;
    }
    return n == nhandles ? OK : ERR_INVALID_ARGS;
}

static int receive(void)
{
    mica_handle_t ch = mica_startup_handle();
    if (!ch)
        return ERR_BAD_HANDLE;
    mica_signals_t seen = 0;
    int err = mica_object_wait_one(ch, SIGNAL_READABLE | SIGNAL_PEER_CLOSED,
                                   0, &seen);
    if (err)
        return err;
    struct mica_msg_buf buf = {
        .bytes = caps.bytes, .bytes_cap = sizeof(caps.bytes),
        .handles = caps.handle, .handles_cap = MICA_CAPS_MAX,
    };
    if ((err = mica_channel_read(ch, &buf)))
        return err;
    if ((err = split(buf.actual_bytes, buf.actual_handles))) {
        for (uint32_t i = 0; i < buf.actual_handles; i++)
            mica_handle_close(caps.handle[i]);
        return err;
    }
    caps.n = buf.actual_handles;
    return OK;
}

int mica_caps_init(void)
{
    if (caps.status == 1) {
        int err = receive();
        if (err != ERR_BUFFER_TOO_SMALL && err != ERR_SHOULD_WAIT)
            caps.status = err;
        return err;
    }
    return caps.status;
}

unsigned mica_caps_count(void)
{
    return caps.n;
}

const char *mica_caps_token(unsigned i)
{
    return i < caps.n ? caps.token[i] : NULL;
}

mica_handle_t mica_caps_handle(unsigned i)
{
    return i < caps.n ? caps.handle[i] : 0;
}

static bool key_matches(const char *token, const char *key)
{
    if (strchr(key, '='))
        return strcmp(token, key) == 0;
    size_t kl = strlen(key);
    return strncmp(token, key, kl) == 0 &&
           (token[kl] == '=' || token[kl] == 0);
}

/* The position of the index-th capability with `key`, or -1. */
static int find(const char *key, unsigned index)
{
    mica_caps_init();
    for (unsigned i = 0; i < caps.n; i++)
        if (key_matches(caps.token[i], key) && index-- == 0)
            return (int)i;
    return -1;
}

mica_handle_t mica_cap(const char *key, unsigned index)
{
    int i = find(key, index);
    return i < 0 ? 0 : caps.handle[i];
}

const char *mica_cap_token(const char *key, unsigned index)
{
    int i = find(key, index);
    return i < 0 ? NULL : caps.token[i];
}

int mica_cap_decode(const char *key, unsigned index, struct manifest_cap *c)
{
    const char *t = mica_cap_token(key, index);
    char err[8];
    return t ? manifest_cap_parse(t, c, err, sizeof(err)) : -1;
}

int mica_ready(void)
{
    return mica_channel_write(mica_startup_handle(), MICA_READY_MSG,
                              sizeof(MICA_READY_MSG) - 1, NULL, 0);
}

static int say(const char *what)
{
    return mica_channel_write(mica_startup_handle(), what,
                              (uint32_t)strlen(what), NULL, 0);
}

bool mica_heartbeat(const struct mica_msg_buf *in)
{
    const size_t n = sizeof(MICA_HEARTBEAT_MSG) - 1;
    if (in->actual_handles || in->actual_bytes != n ||
        memcmp(in->bytes, MICA_HEARTBEAT_MSG, n) != 0)
        return false;
    say(MICA_ALIVE_MSG);
    return true;
}

int mica_report_clients(unsigned n)
{
    static int last = 0;            /* a program starts without clients */
    int now = n > 0;
    if (now == last)
        return OK;
    last = now;
    return say(now ? MICA_BUSY_MSG : MICA_IDLE_MSG);
}
