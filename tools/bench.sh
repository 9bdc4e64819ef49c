#!/bin/sh
# bench.sh - run Mica's micro-benchmarks (make bench).
#
# Boots the system in QEMU TCG with -icount shift=0,sleep=off, where the
# TSC counts executed guest instructions (each iteration of a rep-prefixed
# instruction counts once), so every figure is instructions per operation
# and identical from run to run.  Prints the "bench NAME instructions=N"
# lines; the full log goes to build/bench/mica.log.  Not a test: it never
# fails on a figure, only when the boot itself fails.
set -eu
QEMU=${QEMU:-qemu-system-x86_64}
KERNEL=$1 INIT=$2 BOOTFS=$3
mkdir -p build/bench
log=build/bench/mica.log
status=0
timeout 600 "$QEMU" -M q35 -accel tcg -cpu max -m 256M -smp 1 -no-reboot \
    -display none -monitor none -icount shift=0,sleep=off \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -serial "file:$log" -kernel "$KERNEL" \
    -initrd "$INIT init,$BOOTFS bootfs" -append "bench=all" || status=$?
grep '^bench ' "$log" || true
if [ "$status" != 33 ]; then
    echo "bench: the benchmark boot failed (QEMU status $status); see $log"
    exit 1
fi
