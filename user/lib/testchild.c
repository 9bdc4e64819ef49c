/*
 * testchild.c - tiny child processes for in-system tests (testchild.h).
 */
#include "testchild.h"

static int map_new(mica_handle_t p, uint64_t at, uint64_t size,
                   const uint8_t *bytes, size_t len, uint32_t prot)
{
    mica_handle_t v;
    uint64_t addr = at;
    int err = mica_vmo_create(size, &v);
    if (err)
        return err;
    if (len)
        err = mica_vmo_write(v, bytes, 0, len);
    if (!err)
        err = mica_vm_map(p, v, 0, size, prot | MICA_VM_FIXED, &addr);
    mica_handle_close(v);
    return err;
}

int child_spawn(const uint8_t *code, size_t len, unsigned flags,
                mica_handle_t *proc, mica_handle_t *thread)
{
    mica_handle_t p, t;
    if (len > 4096)
        return ERR_OUT_OF_RANGE;
    int err = mica_process_create("child", 5, &p);
    if (err)
        return err;
    err = map_new(p, CHILD_CODE, 4096, code, len, MICA_VM_READ | MICA_VM_EXEC);
    if (!err)
        err = map_new(p, CHILD_STACK, CHILD_STACK_SIZE, NULL, 0,
                      MICA_VM_READ | MICA_VM_WRITE);
    if (!err && (flags & CHILD_WITH_DATA))
        err = map_new(p, CHILD_DATA_PAGE, 4096, NULL, 0, MICA_VM_READ);
    if (!err)
        err = mica_thread_create(p, "main", 4, &t);
    if (err) {
        mica_handle_close(p);
        return err;
    }
    err = mica_thread_start(t, CHILD_CODE, CHILD_STACK + CHILD_STACK_SIZE, 0, 0);
    if (thread)
        *thread = t;
    else
        mica_handle_close(t);
    *proc = p;
    return err;
}
