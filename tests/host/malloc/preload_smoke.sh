#!/bin/sh
# preload_smoke.sh SO - run ordinary programs with Mica's allocator
# preloaded; any crash or abort fails the test.
set -eu
so=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {
    if ! LD_PRELOAD=$so "$@" >"$tmp/out" 2>"$tmp/err"; then
        echo "preload_smoke: FAILED: $*" >&2
        cat "$tmp/err" >&2
        exit 1
    fi
}
run ls -laR /usr/include
seq 200000 | LD_PRELOAD=$so sort -R > "$tmp/shuf"
run sort -n "$tmp/shuf"
run awk '{ a[$1] = $1 "x" } END { for (k in a) n++; print n }' "$tmp/shuf"
if command -v python3 >/dev/null 2>&1; then
    run python3 -c '
import threading
def work():
    d = {}
    for i in range(100000):
        d[i] = str(i) * (i % 7)
    del d
ts = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
'
fi
echo "preload_smoke: ok"
