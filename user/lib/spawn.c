/*
 * spawn.c - the user-space program loader (see spawn.h).
 */
#include <string.h>

#include "elf.h"
#include "spawn.h"
#include "ustack.h"

#define USER_LIMIT   0x00007FFFFFFFF000ull
#define STACK_SIZE   (256u << 10)
#define STACK_BUILD  (16u << 10)
#define STACK_TOP    (USER_LIMIT - 4096)

static int load_segment(mica_handle_t p, const uint8_t *file,
                        const struct elf_segment *s)
{
    uint64_t start = s->vaddr & ~4095ull;
    uint64_t end = (s->vaddr + s->memsz + 4095) & ~4095ull;
    mica_handle_t v;
    int err = mica_vmo_create(end - start, &v);
    if (err)
        return err;
    err = mica_vmo_write(v, file + s->offset, s->vaddr - start, s->filesz);
    uint32_t prot = MICA_VM_READ | MICA_VM_FIXED |
                    ((s->prot & ELF_PROT_W) ? MICA_VM_WRITE : 0) |
                    ((s->prot & ELF_PROT_X) ? MICA_VM_EXEC : 0);
    uint64_t addr = start;
    if (!err)
        err = mica_vm_map(p, v, 0, end - start, prot, &addr);
    mica_handle_close(v);
    return err;
}

static int map_stack(mica_handle_t p, const char *const argv[],
                     const uint64_t *auxv, uint64_t *sp)
{
    static const char *const envp[] = { NULL };
    static uint8_t buf[STACK_BUILD];
    uint8_t rnd[16];
    uint64_t t;
    mica_clock_get(&t);
    for (int i = 0; i < 16; i++) {
        t = t * 6364136223846793005ull + 1442695040888963407ull;
        rnd[i] = (uint8_t)(t >> 56);
    }
    memset(buf, 0, sizeof(buf));
    mica_handle_t v;
    int err = ustack_build(buf, sizeof(buf), STACK_TOP, argv, envp, auxv,
                           rnd, sp);
    if (err || (err = mica_vmo_create(STACK_SIZE, &v)))
        return err;
    err = mica_vmo_write(v, buf, STACK_SIZE - STACK_BUILD, STACK_BUILD);
    uint64_t addr = STACK_TOP - STACK_SIZE;
    if (!err)
        err = mica_vm_map(p, v, 0, STACK_SIZE, MICA_VM_READ | MICA_VM_WRITE |
                          MICA_VM_FIXED, &addr);
    mica_handle_close(v);
    return err;
}

/* Move h into the child, or close it: the caller loses it either way. */
static int give(mica_handle_t h, mica_handle_t p, mica_handle_t *in)
{
    *in = 0;
    if (!h)
        return 0;
    int err = mica_handle_transfer(h, p, RIGHT_SAME_RIGHTS, in);
    if (err)
        mica_handle_close(h);
    return err;
}

/* Give the child its startup handle, its resource (both consumed on
 * every path) and a handle to itself. */
static int give_handles(mica_handle_t p, mica_handle_t startup,
                        mica_handle_t resource, mica_handle_t *self_in,
                        mica_handle_t *start_in, mica_handle_t *res_in)
{
    int err = give(startup, p, start_in);
    int err2 = give(resource, p, res_in);
    mica_handle_t dup;
    *self_in = 0;
    if (err || (err = err2))
        return err;
    if ((err = mica_handle_duplicate(p, RIGHT_SAME_RIGHTS, &dup)))
        return err;
    return give(dup, p, self_in);
}

static int setup(mica_handle_t p, const uint8_t *file,
                 const struct elf_image *img, const char *const argv[],
                 mica_handle_t startup, mica_handle_t resource, uint64_t *sp)
{
    mica_handle_t self_in, start_in, res_in;
    int err = give_handles(p, startup, resource, &self_in, &start_in,
                           &res_in);
    for (unsigned i = 0; i < img->nsegs && !err; i++)
        err = load_segment(p, file, &img->seg[i]);
    uint64_t auxv[] = {
        AT_PHDR, img->phdr_vaddr, AT_PHENT, img->phentsize,
        AT_PHNUM, img->phnum, AT_PAGESZ, 4096, AT_ENTRY, img->entry,
        AT_UID, 0, AT_EUID, 0, AT_GID, 0, AT_EGID, 0, AT_SECURE, 0,
        AT_CLKTCK, 100, AT_HWCAP, 0, AT_MICA_STARTUP, start_in,
        AT_MICA_PROCESS, self_in, AT_MICA_RESOURCE, res_in, AT_NULL, 0,
    };
    if (!err)
        err = map_stack(p, argv, auxv, sp);
    return err;
}

static int create(const char *name, uint32_t flags, mica_handle_t *p)
{
    size_t nlen = strlen(name) > 31 ? 31 : strlen(name);
    if (flags & ~MICA_SPAWN_LOG)
        return ERR_INVALID_ARGS;
    return mica_process_create_flags(name, nlen, p,
                                     (flags & MICA_SPAWN_LOG)
                                         ? MICA_PROCESS_LOG : 0);
}

static void close_all(const struct mica_spawn_args *a)
{
    const mica_handle_t hs[] = { a->startup, a->resource, a->stdio };
    for (unsigned i = 0; i < 3; i++)
        if (hs[i])
            mica_handle_close(hs[i]);
}

int mica_spawn_with(const void *image, size_t len, const char *name,
                    const char *const argv[], const struct mica_spawn_args *a,
                    mica_handle_t *proc, const char **why)
{
    struct elf_image img;
    const char *reason = "ok";
    mica_handle_t p, t;
    int err = elf_parse(image, len, USER_LIMIT, &img, &reason);
    if (why)
        *why = reason;
    if (!err)
        err = create(name, a->flags, &p);
    if (err) {
        close_all(a);
        return err;
    }
    uint64_t sp = 0;
    if (a->stdio && (err = mica_process_set_stdio(p, a->stdio))) {
        mica_handle_close(a->stdio);
        if (why)
            *why = "the console channel";
    }
    int err2 = setup(p, image, &img, argv, a->startup, a->resource, &sp);
    err = err ? err : err2;
    if (!err)
        err = mica_thread_create(p, "main", 4, &t);
    if (!err) {
        err = mica_thread_start(t, img.entry, sp, 0, 0);
        mica_handle_close(t);
    }
    if (err) {
        mica_process_kill(p, err);
        mica_handle_close(p);
        return err;
    }
    *proc = p;
    return 0;
}

int mica_spawn(const void *image, size_t len, const char *name,
               const char *const argv[], mica_handle_t startup,
               mica_handle_t resource, uint32_t flags, mica_handle_t *proc,
               const char **why)
{
    struct mica_spawn_args a = { startup, resource, 0, flags };
    return mica_spawn_with(image, len, name, argv, &a, proc, why);
}
