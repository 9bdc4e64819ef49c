/*
 * userboot.c - starting the first user process, init.
 *
 * The kernel's only program loader: it reads the `init` boot module as an
 * ELF executable (elf.c validates every header), copies each segment into
 * a fresh vmo mapped with the segment's rights, builds the System V
 * initial stack (ustack.c) so musl's crt1.o starts it unmodified, and
 * gives it three handles, named in the auxiliary vector: its own process
 * (AT_MICA_PROCESS), the bootfs archive as a read-only vmo
 * (AT_MICA_STARTUP) and the root resource (AT_MICA_RESOURCE), from which
 * every device capability is carved.  Every later program is loaded by
 * user space.
 */
#include "bootinfo.h"
#include "clock.h"
#include "elf.h"
#include "handle.h"
#include "lib.h"
#include "log.h"
#include "mica/auxv.h"
#include "mica/errors.h"
#include "mica/rights.h"
#include "physmem.h"
#include "process.h"
#include "resource.h"
#include "slab.h"
#include "userboot.h"
#include "ustack.h"

#define STACK_SIZE   (256u << 10)
#define STACK_BUILD  (16u << 10)        /* room for argv, envp, auxv */
#define STACK_TOP    (USER_TOP - PAGE_SIZE)

static int load_segment(struct process *p, const uint8_t *file,
                        const struct elf_segment *s)
{
    vaddr_t start = ALIGN_DOWN(s->vaddr, PAGE_SIZE);
    vaddr_t end = ALIGN_UP(s->vaddr + s->memsz, PAGE_SIZE);
    struct vmo *v;
    int err = vmo_create(end - start, &p->acct, &v);
    if (err)
        return err;
    err = vmo_write(v, s->vaddr - start, file + s->offset, s->filesz);
    uint32_t prot = VM_READ | ((s->prot & ELF_PROT_W) ? VM_WRITE : 0) |
                    ((s->prot & ELF_PROT_X) ? VM_EXEC : 0);
    vaddr_t got;
    if (!err)
        err = aspace_map(p->aspace, v, 0, end - start, start,
                         prot | VM_FIXED, &got);
    object_unref(&v->obj);
    return err;
}

static int map_stack(struct process *p, const uint64_t *auxv,
                     const char *const argv[], uint64_t *sp)
{
    static const char *const envp[] = { NULL };
    struct vmo *v;
    int err = vmo_create(STACK_SIZE, &p->acct, &v);
    if (err)
        return err;
    void *buf = kzalloc(STACK_BUILD);
    uint8_t rnd[16];
    uint64_t t = arch_timestamp();
    for (int i = 0; i < 16; i++) {      /* AT_RANDOM: unpredictable enough */
        t = t * 6364136223846793005ull + 1442695040888963407ull;
        rnd[i] = (uint8_t)(t >> 56);
    }
    err = buf ? ustack_build(buf, STACK_BUILD, STACK_TOP, argv, envp, auxv,
                             rnd, sp) : ERR_NO_MEMORY;
    if (!err)
        err = vmo_write(v, STACK_SIZE - STACK_BUILD, buf, STACK_BUILD);
    vaddr_t got;
    if (!err)
        err = aspace_map(p->aspace, v, 0, STACK_SIZE, STACK_TOP - STACK_SIZE,
                         VM_READ | VM_WRITE | VM_FIXED, &got);
    kfree(buf);
    object_unref(&v->obj);
    return err;
}

/* The bootfs module, copied into a vmo init may read and map. */
static int bootfs_handle(struct process *p, mica_handle_t *h)
{
    const struct boot_module *m = bootinfo_module("bootfs");
    if (!m || m->end <= m->start)
        return ERR_NOT_FOUND;
    struct vmo *v;
    int err = vmo_create(m->end - m->start, &p->acct, &v);
    if (err)
        return err;
    if ((err = vmo_write(v, 0, phys_to_virt(m->start), m->end - m->start))) {
        object_unref(&v->obj);
        return err;
    }
    return handle_add(p->handles, &v->obj,
                      RIGHTS_BASIC | RIGHT_READ | RIGHT_MAP, h);
}

/* init holds the root resource (resource.h). */
static int root_resource_handle(struct process *p, mica_handle_t *h)
{
    struct resource *r;
    int err = resource_root(&p->acct, &r);
    if (err)
        return err;
    err = handle_add(p->handles, &r->obj, RIGHTS_BASIC | RIGHT_MANAGE, h);
    if (err)
        object_unref(&r->obj);
    return err;
}

static int setup(struct process *p, const struct elf_image *img,
                 const uint8_t *file, const char *const argv[], uint64_t *sp)
{
    int err = 0;
    for (unsigned i = 0; i < img->nsegs && !err; i++)
        err = load_segment(p, file, &img->seg[i]);
    mica_handle_t self = 0, bootfs = 0, root = 0;
    if (!err) {
        object_ref(&p->obj);            /* the handle's reference */
        err = handle_add(p->handles, &p->obj,
                         RIGHTS_BASIC | RIGHTS_IO | RIGHT_MANAGE, &self);
        if (err)
            object_unref(&p->obj);
    }
    if (!err && bootfs_handle(p, &bootfs))
        bootfs = 0;                     /* init runs without one */
    if (!err)
        err = root_resource_handle(p, &root);
    uint64_t auxv[] = {
        AT_PHDR, img->phdr_vaddr, AT_PHENT, img->phentsize,
        AT_PHNUM, img->phnum, AT_PAGESZ, PAGE_SIZE, AT_ENTRY, img->entry,
        AT_UID, 0, AT_EUID, 0, AT_GID, 0, AT_EGID, 0, AT_SECURE, 0,
        AT_CLKTCK, 100, AT_HWCAP, 0, AT_MICA_STARTUP, bootfs,
        AT_MICA_PROCESS, self, AT_MICA_RESOURCE, root, AT_NULL, 0,
    };
    if (!err)
        err = map_stack(p, auxv, argv, sp);
    return err;
}

int userboot_start(const char *const argv[], struct process **out)
{
    const struct boot_module *m = bootinfo_module("init");
    if (!m)
        return ERR_NOT_FOUND;
    const uint8_t *file = phys_to_virt(m->start);
    struct elf_image img;
    const char *why = "";
    int err = elf_parse(file, m->end - m->start, USER_TOP, &img, &why);
    if (err) {
        kprintf("userboot: init is not a usable ELF file: %s\n", why);
        return err;
    }
    struct process *p;
    if ((err = process_create("init", PROCESS_KMEM_DEFAULT, &p)))
        return err;
    p->log_cap = true;
    uint64_t sp = 0;
    struct thread *t = NULL;
    err = setup(p, &img, file, argv, &sp);
    if (!err)
        err = process_thread_create(p, "init", &t);
    if (!err)
        err = process_thread_start(t, img.entry, sp, 0, 0);
    if (t)
        object_unref(&t->obj);
    if (err) {
        process_kill(p, err);
        object_unref(&p->obj);
        return err;
    }
    *out = p;
    return 0;
}
