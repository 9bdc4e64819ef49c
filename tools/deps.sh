#!/bin/sh
# deps.sh - install the Debian packages Mica's build and tests need.
#
# linux-image-amd64 is Debian's stock kernel, booted by `make bench` for
# the Linux comparison (bench/linux/); clang and libclang-rt-14-dev
# (libFuzzer) fuzz the IDL's decoder (make fuzz, and briefly make test).
#
# Checks each package with dpkg and installs only the missing ones, so a
# second run is quick and offline.  Runs as root (or through sudo) on a
# Debian 12 machine; `apt-get update` is done once, only when something is
# missing.
set -eu

PKGS="gcc binutils make libc6-dev qemu-system-x86 musl-tools musl-dev cpio \
grub-pc-bin grub-common xorriso mtools libcmocka-dev python3 gdb clang \
libclang-rt-14-dev \
linux-image-amd64"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "deps: need root to install:$missing" >&2; exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "deps: done"
