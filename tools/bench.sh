#!/bin/sh
# bench.sh - run Mica's micro-benchmarks and the Linux comparison (make bench).
#
#     bench.sh KERNEL INIT BOOTFS LINUX_INITRAMFS
#
# Boots Mica, then Debian's stock Linux (bench/linux/boot.sh), one after
# the other on the same QEMU machine: TCG with -icount shift=0,sleep=off,
# where the TSC counts executed guest instructions (each iteration of a
# rep-prefixed instruction counts once), summed over the vCPUs (a halted
# one adds nothing).  So every figure is instructions per operation;
# Mica's are identical from run to run, Linux's nearly.  Prints the "bench NAME instructions=N"
# lines of both systems, then a table of Mica/Linux ratios computed from
# those lines ("n/a" where either figure is missing).  Logs go to
# build/bench/mica.log and linux.log (docs/benchmarks.md).
#
# Not a test: it never fails on a figure, only when a boot fails or
# times out, or when there is no Linux kernel to boot.
set -eu
QEMU=${QEMU:-qemu-system-x86_64}
KERNEL=$1 INIT=$2 BOOTFS=$3 LINUX_INITRAMFS=$4
MICA_TIMEOUT=${MICA_BENCH_TIMEOUT:-90}

# The one machine both systems run on.
BENCH_QEMU_OPTS="-M q35 -accel tcg -cpu max -m 256M -smp 2 -no-reboot \
-display none -monitor none -icount shift=0,sleep=off \
-device isa-debug-exit,iobase=0xf4,iosize=0x04"
export QEMU BENCH_QEMU_OPTS

mkdir -p build/bench
results=build/bench/results.txt
: > "$results"
failed=0

# Mica's machine also has a disk at 00:04.0, where the boot manifest's
# virtio-blk driver finds it, for the block benchmark: QEMU's null block
# driver answering after 0.1 ms of host time, so a read waits for the
# device with every CPU halted, as it would for a real disk
# (docs/benchmarks.md).
MICA_DISK="-drive driver=null-co,size=4M,read-zeroes=on,latency-ns=100000,\
if=none,id=disk -device virtio-blk-pci,drive=disk,disable-legacy=on,addr=04.0"

# Mica exits through isa-debug-exit: status 33 is success.
# The figures are read from the debug port, which carries the whole
# kernel log: COM1 carries it only until the console driver takes the
# port, and then shows it late or not at all if the machine stops first.
boot_mica() {
    log=build/bench/mica.log
    status=0
    # shellcheck disable=SC2086
    timeout "$MICA_TIMEOUT" "$QEMU" $BENCH_QEMU_OPTS $MICA_DISK \
        -serial "file:build/bench/mica.serial.log" -debugcon "file:$log" \
        -kernel "$KERNEL" -initrd "$INIT init,$BOOTFS bootfs" \
        -append "bench=all" || status=$?
    grep -a '^bench ' "$log" | tee -a "$results" || true
    if [ "$status" = 124 ]; then
        echo "bench: the Mica boot timed out after $MICA_TIMEOUT s; see $log"
        return 1
    fi
    if [ "$status" != 33 ]; then
        echo "bench: the Mica boot failed (QEMU status $status); see $log"
        return 1
    fi
}

# Debian's Linux: bench/linux/boot.sh judges the boot.
boot_linux() {
    out=build/bench/linux.out
    status=0
    bench/linux/boot.sh "$LINUX_INITRAMFS" build/bench/linux.log > "$out" ||
        status=$?
    cat "$out"
    grep '^bench ' "$out" >> "$results" || true
    return "$status"
}

# Mica figure, Linux figure: ratio Mica/Linux, or n/a.
ratio_table() {
    awk '
    { sub(/\r$/, "") }
    /^bench / { split($3, kv, "="); fig[$2] = kv[2] }
    function row(m, l,   r) {
        r = (m in fig && l in fig && fig[l] > 0) ? \
            sprintf("%.2f", fig[m] / fig[l]) : "n/a"
        printf "  %-25s %-29s %7s %7s %6s\n", m, l, \
            (m in fig ? fig[m] : "n/a"), (l in fig ? fig[l] : "n/a"), r
    }
    END {
        print "bench: Mica/Linux, instructions per operation" \
              " (below 1.00: Mica executes fewer)"
        printf "  %-25s %-29s %7s %7s %6s\n", \
            "Mica", "Linux", "Mica", "Linux", "ratio"
        row("call_rt_same_cpu", "linux_pipe_round_trip")
        row("call_rt_same_cpu", "linux_unix_socket_round_trip")
        row("null_syscall", "linux_null_syscall")
        row("futex_round_trip", "linux_futex_round_trip")
        row("thread_switch_yield_pair", "linux_sched_yield_pair")
    }' "$results"
}

boot_mica || failed=1
boot_linux || failed=1
ratio_table
exit $failed
