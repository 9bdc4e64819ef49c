#!/usr/bin/env python3
"""trace_calls.py - where the instructions of one IPC round trip go.

    tools/trace_calls.py [--skip N] [--steps N]

Boots the benchmark boot (bench=all, one CPU, -icount) halted under
QEMU's gdb stub, lets `call_rt_same_cpu` warm up (the first N entries of
sys_channel_call are skipped), then single-steps the guest, recording
every instruction address, and prints the instructions between two
consecutive entries of sys_channel_call -- one whole call and reply,
client and server, kernel and user -- counted per function, kernel
symbols from build/kernel.elf and user ones from build/user/init.  Not a
benchmark (single-stepping perturbs timers, not the instruction path);
`make bench` gives the figure, this says where it goes.
"""
import argparse
import bisect
import collections
import os
import subprocess
import sys
import tempfile
import time

GDB_SCRIPT = """
import gdb
gdb.execute("set pagination off")
gdb.execute("set architecture i386:x86-64")
gdb.execute("target remote localhost:{port}")
gdb.execute("hbreak sys_channel_call")
gdb.execute("ignore 1 {skip}")
gdb.execute("continue")
gdb.execute("delete")
with open("{out}", "w") as out:
    for i in range({steps}):
        pc = int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff
        out.write("%x\\n" % pc)
        gdb.execute("stepi", to_string=True)
gdb.execute("kill")
"""


def symbols(elf):
    syms = []
    nm = subprocess.run(["nm", "-n", elf], capture_output=True, text=True)
    for line in nm.stdout.splitlines():
        p = line.split()
        if len(p) >= 3 and p[1] in "tTwW":
            syms.append((int(p[0], 16), p[2]))
    return syms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip", type=int, default=400)
    ap.add_argument("--steps", type=int, default=7000)
    ap.add_argument("--port", type=int, default=1234)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    pcs_file = os.path.join(tmp, "pcs.txt")
    script = os.path.join(tmp, "trace.py")
    with open(script, "w") as f:
        f.write(GDB_SCRIPT.format(port=args.port, skip=args.skip,
                                  steps=args.steps, out=pcs_file))
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-cpu", "max",
         "-m", "256M", "-smp", "1", "-no-reboot", "-display", "none",
         "-monitor", "none", "-icount", "shift=0,sleep=off",
         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
         "-serial", "null", "-kernel", "build/mica.bin",
         "-initrd", "build/user/init init,build/bootfs.cpio bootfs",
         "-append", "bench=all", "-gdb", "tcp::%d" % args.port, "-S"],
        stderr=subprocess.DEVNULL)
    time.sleep(1)
    subprocess.run(["gdb", "-q", "-batch", "-x", script, "build/kernel.elf"],
                   capture_output=True, timeout=600)
    qemu.kill()
    kern, user = symbols("build/kernel.elf"), symbols("build/user/init")

    def name(pc):
        table = kern if pc >= 0xffff800000000000 else user
        i = bisect.bisect_right([a for a, _ in table], pc) - 1
        return ("" if table is kern else "user:") + \
            (table[i][1] if i >= 0 else "?")

    pcs = [int(l, 16) for l in open(pcs_file)]
    entry = [a for a, n in kern if n == "sys_channel_call"][0]
    starts = [i for i, p in enumerate(pcs) if p == entry]
    if len(starts) < 2:
        sys.exit("trace_calls: fewer than two calls traced; raise --steps")
    seg = pcs[starts[0]:starts[1]]
    print("one round trip: %d instructions" % len(seg))
    for fn, n in collections.Counter(name(p) for p in seg).most_common():
        print("%6d  %s" % (n, fn))


if __name__ == "__main__":
    main()
