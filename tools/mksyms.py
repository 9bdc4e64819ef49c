#!/usr/bin/env python3
"""mksyms.py - make the kernel's embedded symbol table (section .ksyms).

Reads `nm -n` output of the first link on stdin and writes an assembly
file defining `ksyms_kernel` (see kernel/include/ksyms.h): a count, the
string-table offset, (address, name offset) pairs sorted by address with
an end sentinel at the end of text, then the NUL-terminated names.
With --empty, writes the table with no symbols (for the first link).
"""
import sys


def main():
    syms = []
    text_end = None
    if "--empty" not in sys.argv:
        for line in sys.stdin:
            parts = line.split()
            if len(parts) != 3:
                continue
            addr, kind, name = int(parts[0], 16), parts[1], parts[2]
            if name == "_text_end":
                text_end = addr
            if kind in "tT" and not name.startswith(".") and not name.startswith("_text"):
                syms.append((addr, name))
    syms = sorted(set(syms))
    if syms and text_end is not None:
        syms.append((text_end, ""))
    strings = bytearray()
    entries = []
    for addr, name in syms:
        entries.append((addr, len(strings)))
        strings += name.encode() + b"\0"
    header = 16
    strings_off = header + 16 * len(entries)
    out = ['    .section .ksyms, "a"', "    .balign 8",
           "    .global ksyms_kernel", "ksyms_kernel:",
           f"    .quad {len(entries)}", f"    .quad {strings_off}"]
    for addr, off in entries:
        out.append(f"    .quad 0x{addr:x}, {off}")
    for i in range(0, len(strings), 16):
        chunk = strings[i:i + 16]
        out.append("    .byte " + ",".join(str(b) for b in chunk))
    out.append("    .byte 0")
    print("\n".join(out))


if __name__ == "__main__":
    main()
