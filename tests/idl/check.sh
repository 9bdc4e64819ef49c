#!/bin/sh
# check.sh IDLC OUTDIR - idlc's own tests, run by `make host-test`:
#   golden/  the C generated for demo.idl, byte for byte
#   demo.ids every id and signature of demo.idl (ids must never drift)
#   variants/ one method changed in one way per file: every id differs,
#            but for renamed_type.idl, which must keep base.idl's
#   errors/  each file's first line is the error idlc must report
# Any difference fails; `make idl-golden` rewrites golden/ and demo.ids
# after a deliberate change.
set -u
IDLC=$1
OUT=$2
D=$(dirname "$0")     # run from the top of the tree: paths show in output
fail=0
mkdir -p "$OUT"

"$IDLC" c "$D/demo.idl" "$OUT" || fail=1
for f in demo.h demo.c; do
    if ! diff -u "$D/golden/$f" "$OUT/$f"; then
        echo "idlc: $f differs from tests/idl/golden/$f"; fail=1
    fi
done
"$IDLC" ids "$D/demo.idl" > "$OUT/demo.ids" || fail=1
diff -u "$D/demo.ids" "$OUT/demo.ids" || { echo "idlc: the ids of demo.idl changed"; fail=1; }

: > "$OUT/variants"
for f in "$D"/variants/*.idl; do
    id=$("$IDLC" ids "$f" | cut -d' ' -f1) || fail=1
    echo "$id ${f##*/}" >> "$OUT/variants"
done
base=$(grep ' base.idl$' "$OUT/variants" | cut -d' ' -f1)
renamed=$(grep ' renamed_type.idl$' "$OUT/variants" | cut -d' ' -f1)
[ "$base" = "$renamed" ] || { echo "idlc: renaming a type changed the id"; fail=1; }
dups=$(grep -v ' renamed_type.idl$' "$OUT/variants" | cut -d' ' -f1 | sort | uniq -d)
[ -z "$dups" ] || { echo "idlc: variants with one id: $dups"; fail=1; }

for f in "$D"/errors/*.idl; do
    want="$f:$(head -1 "$f" | sed 's|^// expect: ||')"
    got=$("$IDLC" c "$f" "$OUT" 2>&1 >/dev/null)
    status=$?
    if [ "$status" != 1 ] || [ "$got" != "$want" ]; then
        echo "idlc: $f: status $status, said: $got"
        echo "      expected: $want"; fail=1
    fi
done

n=$(ls "$D"/variants/*.idl "$D"/errors/*.idl | wc -l)
if [ $fail = 0 ]; then echo "idlc tests: passed (golden, ids, $n variants and errors)"; fi
exit $fail
