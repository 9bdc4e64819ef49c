/*
 * main.c - idlc, the compiler of Mica's interface definitions.
 *
 *   idlc c FILE.idl OUTDIR      OUTDIR/NAME.h and OUTDIR/NAME.c, where
 *                               NAME is the protocol's name
 *   idlc ids FILE.idl           each method's id and signature
 *   idlc note PROGRAM OUT       PROGRAM's interface note, to OUT
 *
 * docs/idl.md describes the language and what is generated.  Exit
 * status 0, or 1 after an error (FILE:LINE:COLUMN: message), or 2 for
 * a wrong command line.
 */
#include <inttypes.h>
#include <string.h>

#include "idlc.h"

static struct protocol *load(const char *file)
{
    struct protocol *p = parse(file);
    check(p);
    sign(p);
    return p;
}

static FILE *create(const char *dir, const char *name, const char *ext,
                    char *path, size_t len)
{
    snprintf(path, len, "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "w");
    if (!f)
        fatal("%s: cannot write", path);
    return f;
}

static void finish(FILE *f, const char *path)
{
    if (ferror(f) || fclose(f))
        fatal("%s: write error", path);
}

static int gen_c(const char *file, const char *dir)
{
    struct protocol *p = load(file);
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    size_t n = strlen(p->name);
    if (strncmp(base, p->name, n) != 0 || strcmp(base + n, ".idl") != 0)
        fatal("%s: the protocol %s belongs in %s.idl", file, p->name,
              p->name);
    char hpath[4096], cpath[4096], hname[256];
    snprintf(hname, sizeof(hname), "%s.h", p->name);
    FILE *h = create(dir, p->name, "h", hpath, sizeof(hpath));
    gen_header(p, h);
    finish(h, hpath);
    FILE *c = create(dir, p->name, "c", cpath, sizeof(cpath));
    gen_source(p, hname, c);
    finish(c, cpath);
    return 0;
}

static int ids(const char *file)
{
    struct protocol *p = load(file);
    for (int i = 0; i < p->nmethods; i++)
        printf("0x%016" PRIx64 " %s\n", p->methods[i].id, p->methods[i].sig);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "c") == 0)
        return gen_c(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "ids") == 0)
        return ids(argv[2]);
    if (argc == 4 && strcmp(argv[1], "note") == 0)
        return note_main(argv[2], argv[3]);
    fprintf(stderr, "usage: idlc c FILE.idl OUTDIR\n"
                    "       idlc ids FILE.idl\n"
                    "       idlc note PROGRAM OUT\n");
    return 2;
}
