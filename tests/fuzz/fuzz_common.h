/*
 * fuzz_common.h - what the fuzz target and its seed writer share: the
 * handles an input's first byte stands for, and host definitions of the
 * two runtime calls the generated demo.c refers to (idl_call, idl_close):
 * the fuzzer only decodes, so it links them but never reaches them.
 */
#ifndef MICA_FUZZ_COMMON_H
#define MICA_FUZZ_COMMON_H

#include "demo.h"

/* Bits 0-1: how many handles (0-2, 3 is 2); bit 2: the first is an
 * event rather than a vmo; bit 3: it lacks RIGHT_WRITE; bits 4-5: the
 * second's type (channel, event, vmo, grant). */
static inline uint32_t fuzz_handles(uint8_t sel, mica_handle_t *hs,
                                    struct mica_handle_info *info)
{
    static const uint32_t types[4] = { OBJ_CHANNEL, OBJ_EVENT, OBJ_VMO,
                                       OBJ_GRANT };
    uint32_t n = (sel & 3) == 3 ? 2 : sel & 3;
    info[0] = (struct mica_handle_info){
        sel & 4 ? OBJ_EVENT : OBJ_VMO,
        RIGHTS_ALL & ~(sel & 8 ? RIGHT_WRITE : 0) };
    info[1] = (struct mica_handle_info){ types[(sel >> 4) & 3], RIGHTS_ALL };
    hs[0] = 0x101;
    hs[1] = 0x202;
    return n;
}

int idl_call(mica_handle_t ch, const struct idl_method *m, const void *req,
             void *resp, void *qbuf, uint32_t qcap, void *rbuf, uint32_t rcap)
{
    (void)ch; (void)m; (void)req; (void)resp; (void)qbuf; (void)qcap;
    (void)rbuf; (void)rcap;
    return ERR_NOT_SUPPORTED;
}

void idl_close(mica_handle_t h)
{
    (void)h;
}

#endif
