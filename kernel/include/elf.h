/*
 * elf.h - validate an ELF64 executable and describe what to map.
 *
 * elf_parse() reads nothing but the file it is given and touches no
 * address space: the loader maps what it reports (struct elf_image) into
 * vmos.  See core/elf.c for the rules a file must satisfy.
 */
#ifndef MICA_ELF_H
#define MICA_ELF_H

#include "types.h"

#define ELF_MAX_SEGS  16        /* PT_LOAD entries with memory in them */
#define ELF_MAX_PHDRS 64        /* program headers of any type */

#define ELF_PROT_R 1u
#define ELF_PROT_W 2u
#define ELF_PROT_X 4u

/* One PT_LOAD: memory [vaddr, vaddr+memsz), of which the first filesz
 * bytes come from file [offset, offset+filesz) and the rest are zero. */
struct elf_segment {
    uint64_t vaddr, memsz, filesz, offset;
    uint32_t prot;              /* ELF_PROT_*; never W and X together */
};

struct elf_image {
    uint64_t entry;             /* inside an executable segment */
    uint64_t phdr_vaddr;        /* where the program headers are mapped */
    uint16_t phnum, phentsize;  /* for AT_PHNUM / AT_PHENT */
    unsigned nsegs;
    struct elf_segment seg[ELF_MAX_SEGS];   /* ascending, no page shared */
    uint64_t lo, hi;            /* page-aligned span of all segments */
    uint64_t tls_vaddr, tls_filesz, tls_memsz, tls_align;  /* 0: no PT_TLS */
    uint64_t stack_prot;        /* ELF_PROT_R | ELF_PROT_W */
};

/*
 * Validate the ELF64 executable file[0, len) and describe it in *out.
 * Every segment ends at or below user_limit (exclusive, page-aligned).
 * Returns 0; ERR_INVALID_ARGS if file or out is NULL; ERR_BAD_FORMAT for
 * a malformed file; ERR_NOT_SUPPORTED for a well-formed file Mica does not
 * run (not x86_64, 32-bit, big-endian, position-independent, dynamically
 * linked, W+X, too many segments).  If why is not NULL, *why is set to a
 * short static reason ("ok" on success).  On failure *out holds nothing
 * useful.  user_limit must be page-aligned (else ERR_INVALID_ARGS).
 */
int elf_parse(const void *file, size_t len, uint64_t user_limit,
              struct elf_image *out, const char **why);

#endif
