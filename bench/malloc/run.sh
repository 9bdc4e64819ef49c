#!/bin/sh
# run.sh - build the allocator workloads against every allocator and time
# them (see run.py for the table).  Run from the repository root, normally
# as `make bench-malloc`, after `make malloc-libs`.
#
# Installs what it needs and is missing (jemalloc, tcmalloc, musl) the way
# tools/deps.sh does.  Not a test: it never fails on the figures.
#
# Environment: RUNS (default 3), WORKLOADS (default all), ALLOCATORS.
set -eu

PKGS="libjemalloc2 libtcmalloc-minimal4 musl-tools musl-dev python3 time"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "bench-malloc: installing:$missing"
    SUDO=""
    [ "$(id -u)" != 0 ] && SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null ||
        { $SUDO apt-get update -q >/dev/null &&
          $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null; }
fi

SRC=bench/malloc
OUT=build/bench/malloc
LIB=build/host/malloc
MSRC="user/lib/malloc/alloc.c user/lib/malloc/free.c user/lib/malloc/page.c \
user/lib/malloc/segment.c user/lib/malloc/heap.c user/lib/malloc/os_linux.c"
CFLAGS="-std=c11 -O2 -Wall -Wextra -Werror -Wmissing-prototypes -Wvla"
mkdir -p "$OUT"

for w in larson xmalloc mstress cache_scratch churn strbuild; do
    cc $CFLAGS -pthread "$SRC/$w.c" -o "$OUT/$w.glibc"
    cc $CFLAGS -pthread "$SRC/$w.c" "$LIB/libmicamalloc-override.a" \
        -o "$OUT/$w.ours"
    if command -v musl-gcc >/dev/null 2>&1; then
        musl-gcc $CFLAGS -static -pthread "$SRC/$w.c" -o "$OUT/$w.musl"
        musl-gcc $CFLAGS -static -pthread -DMICA_MALLOC_OVERRIDE \
            -Iuser/lib/malloc "$SRC/$w.c" $MSRC -o "$OUT/$w.ours-musl"
    fi
done

exec python3 "$SRC/run.py" "$OUT" "$LIB/libmicamalloc.so"
