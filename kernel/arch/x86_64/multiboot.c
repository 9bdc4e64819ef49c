/*
 * multiboot.c - reading the Multiboot 1 information.
 *
 * Runs before paging_init, while the first GiB is reachable at
 * KERNEL_VMA, so the loader's structures (always below 1 GiB in practice;
 * anything above is refused with a message) are read through
 * phys_to_virt.  Everything needed later is copied out: the command line,
 * the memory map, the modules' addresses and names.  The pages that hold
 * the kernel image and the modules are reserved; the loader's own
 * structures are dead once this returns.
 */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/multiboot.h"
#include "bootinfo.h"
#include "cmdline.h"
#include "lib.h"
#include "log.h"
#include "panic.h"
#include "physmem.h"

#define MB_BOOT_MAGIC 0x2BADB002
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS    (1u << 3)
#define MB_INFO_MMAP    (1u << 6)
#define MB_INFO_LOADER  (1u << 9)
#define REACHABLE       (1ull << 30)

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr, config_table, boot_loader_name;
} __packed;

struct mb_mod {
    uint32_t start, end, string, reserved;
} __packed;

struct mb_mmap {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;
} __packed;

extern char _image_start_phys[], _image_end_phys[];

static const void *mb_ptr(uint64_t phys, uint64_t len)
{
    if (phys + len > REACHABLE || phys + len < phys)
        return NULL;
    return phys_to_virt(phys);
}

static void copy_string(char *dst, size_t size, uint32_t phys)
{
    const char *s = mb_ptr(phys, 1);
    size_t i = 0;
    while (s && i + 1 < size && mb_ptr(phys + i, 1) && s[i]) {
        dst[i] = s[i];
        i++;
    }
    dst[i] = '\0';
}

static void read_mmap(const struct mb_info *mb)
{
    uint64_t p = mb->mmap_addr, end = p + mb->mmap_length;
    while (p + sizeof(struct mb_mmap) <= end) {
        const struct mb_mmap *e = mb_ptr(p, sizeof(*e));
        if (!e)
            break;
        if (e->type == 1 || e->type == 3 || e->type == 4)
            memmap_add(&bootinfo.ram, e->addr, e->addr + e->len);
        if (e->type == 1)
            memmap_add(&bootinfo.free, e->addr, e->addr + e->len);
        p += e->size + 4;
    }
}

static void read_modules(const struct mb_info *mb)
{
    const struct mb_mod *m = mb_ptr(mb->mods_addr,
                                    (uint64_t)mb->mods_count * sizeof(*m));
    for (uint32_t i = 0; m && i < mb->mods_count; i++) {
        if (bootinfo.nmods == BOOT_MODULES_MAX) {
            kprintf("boot: more than %d modules; the rest are ignored\n",
                    BOOT_MODULES_MAX);
            break;
        }
        struct boot_module *bm = &bootinfo.mods[bootinfo.nmods++];
        bm->start = m[i].start;
        bm->end = m[i].end;
        copy_string(bm->name, sizeof(bm->name), m[i].string);
    }
}

void multiboot_parse(uint32_t magic, uint32_t info_phys)
{
    if (magic != MB_BOOT_MAGIC)
        panic("boot: not started by a Multiboot loader (magic %#x)", magic);
    const struct mb_info *mb = mb_ptr(info_phys, sizeof(*mb));
    if (!mb || !(mb->flags & MB_INFO_MMAP))
        panic("boot: the loader gave no memory map");
    char cmd[CMDLINE_MAX];
    cmd[0] = '\0';
    if (mb->flags & MB_INFO_CMDLINE)
        copy_string(cmd, sizeof(cmd), mb->cmdline);
    cmdline_parse(&kernel_cmdline, cmd);
    if (mb->flags & MB_INFO_LOADER)
        copy_string(bootinfo.loader, sizeof(bootinfo.loader),
                    mb->boot_loader_name);
    read_mmap(mb);
    if (mb->flags & MB_INFO_MODS)
        read_modules(mb);

    memmap_reserve(&bootinfo.free, 0, 0x100000);
    memmap_reserve(&bootinfo.free, (paddr_t)_image_start_phys,
                   (paddr_t)_image_end_phys);
    for (unsigned i = 0; i < bootinfo.nmods; i++)
        memmap_reserve(&bootinfo.free, bootinfo.mods[i].start,
                       bootinfo.mods[i].end);
}
