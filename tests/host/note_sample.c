/*
 * note_sample.c - a program for test_iface_note.c: it links the C idlc
 * generates for tests/idl/demo.idl with --gc-sections and uses two
 * client stubs (ping, add) and the dispatch, so its interface note must
 * list every demo method as served and exactly those two as called.
 */
#include <stdio.h>

#include "demo.h"

int idl_call(mica_handle_t ch, const struct idl_method *m, const void *req,
             void *resp, void *qbuf, uint32_t qcap, void *rbuf, uint32_t rcap)
{
    (void)ch; (void)req; (void)resp; (void)qbuf; (void)qcap; (void)rbuf;
    (void)rcap;
    return m->id ? ERR_NOT_SUPPORTED : OK;
}

void idl_close(mica_handle_t h)
{
    (void)h;
}

int main(int argc, char **argv)
{
    static const struct demo_server s;
    uint64_t sum;
    (void)argv;
    if (argc > 5)
        demo_dispatch(&s, NULL, NULL, NULL);
    printf("%d %d\n", demo_ping(1), demo_add(1, 2, 3, &sum));
    return 0;
}
