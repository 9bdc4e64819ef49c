#!/bin/sh
# mkinitramfs.sh - pack the Linux benchmark program as the /init of an
# initramfs: an uncompressed cpio archive in the kernel's "newc" format.
#
#     mkinitramfs.sh INIT OUT.cpio
#
# The archive holds nothing else; /init mounts devtmpfs and sysfs itself
# if it needs them.  Entries are sorted and owned by root, so the same
# program gives the same archive whoever builds it.
set -eu
init=$1 out=$2
root=$(dirname "$out")/root
rm -rf "$root"
mkdir -p "$root"
cp "$init" "$root/init"
chmod 755 "$root/init"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
