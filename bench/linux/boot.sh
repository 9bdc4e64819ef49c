#!/bin/sh
# boot.sh - boot Debian's stock kernel with the benchmark initramfs and
# print its "bench linux_NAME instructions=N" lines (make bench).
#
#     boot.sh INITRAMFS LOG
#
# The kernel is the newest /boot/vmlinuz-* (package linux-image-amd64,
# which tools/deps.sh installs), run with the distribution's own
# configuration and default mitigations.  QEMU gets $BENCH_QEMU_OPTS, the
# machine tools/bench.sh also gives Mica, so both count instructions the
# same way.  The command line adds only the serial console, `quiet`,
# panic=-1 (a panic ends QEMU at once under -no-reboot) and maxcpus=1:
# /init brings CPU 1 online itself (see linuxbench.c for why).
#
# /init powers the machine off after its last line, "linuxbench: done";
# the boot succeeded only if that line is in the log.  Exit status: 0
# when it did, 1 when the boot failed or timed out, 2 when there is no
# readable kernel.
set -eu
QEMU=${QEMU:-qemu-system-x86_64}
TIMEOUT=${LINUX_BENCH_TIMEOUT:-180}
: "${BENCH_QEMU_OPTS:?set by tools/bench.sh}"
initramfs=$1 log=$2

kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
if [ -z "$kernel" ]; then
    echo "bench: no /boot/vmlinuz-*: install linux-image-amd64 (tools/deps.sh)"
    exit 2
fi
if [ ! -r "$kernel" ]; then
    echo "bench: $kernel is not readable by $(id -un); the Linux" \
         "comparison needs it: run make bench as root"
    exit 2
fi
rm -f "$log" "$log.txt"
status=0
# shellcheck disable=SC2086
timeout "$TIMEOUT" "$QEMU" $BENCH_QEMU_OPTS -serial "file:$log" \
    -kernel "$kernel" -initrd "$initramfs" \
    -append "console=ttyS0 quiet panic=-1 maxcpus=1" || status=$?
# The console ends lines with CR LF.
[ -f "$log" ] || : > "$log"
tr -d '\r' < "$log" > "$log.txt"
online=$(sed -n 's/^linuxbench: CPUs online: //p' "$log.txt")
echo "bench: linux ${kernel#/boot/vmlinuz-}, CPUs online: ${online:-?}"
grep -a -e '^bench ' -e '^linuxbench: warning' "$log.txt" || true
if [ "$status" = 124 ]; then
    echo "bench: the Linux boot timed out after $TIMEOUT s; see $log"
    exit 1
fi
if [ "$status" != 0 ] || ! grep -q -a '^linuxbench: done' "$log.txt"; then
    echo "bench: the Linux boot failed (QEMU status $status); see $log"
    exit 1
fi
