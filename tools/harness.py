#!/usr/bin/env python3
"""harness.py - boot Mica in QEMU and judge the run.

    harness.py boot NAME [--smp N] (--kernel BIN --initrd CPIO | --iso ISO)
                         [--append ARGS] [--timeout S] [--icount]
    harness.py selftest --kernel BIN --initrd CPIO
    harness.py disks PREFIX

`boot` runs QEMU (TCG unless --accel says otherwise) with the serial
console (COM1; COM2 exists too, unconnected, for the interrupt tests'
loopback) and the debug port captured to build/test/NAME.serial.log and
NAME.debug.log, and two virtio-blk disks (below).  It judges the debug
port's log, which carries the whole kernel log from the first line to
the last: COM1 carries it only until the console driver takes the port
over (after that, what the console shows is the driver's).  It passes
the run only if all of these hold:
  - QEMU exited with status 33, the isa-debug-exit success code (a triple
    fault under -no-reboot exits 0; a panic exits 35);
  - the log has a KTAP plan line "1..N" with N > 0, and exactly N results,
    numbered 1..N, none of them "not ok";
  - the final marker line "mica: done" came after the last result;
  - no panic report, and no timeout;
  - once init is up, it refused the test manifest's client of an old
    protocol with the message naming the method (docs/services.md);
  - the disk holds what it should (below).
On failure it prints why and the tail of the log (the backtrace, for a
crash).  `selftest` proves the harness itself catches failures: a
deliberate page fault (with a symbolized backtrace), a triple fault, a
panic, a hang (timeout) and a boot whose self-tests are not selected must
all be judged failed, and so must a boot whose disk does not hold what
the harness expects.

The disks.  Before each boot the harness writes two raw images, each
512-byte sector s filled with the pattern of its seed (disk_pattern:
64 little-endian words, word w = seed ^ s * K1 ^ w * K2 mod 2^64; the
suite user/tests/test_blk.c computes the same, from blk_pattern.h):
  - NAME.disk.img, 4 MiB, seed SEED_A, at PCI 00:04.0, where the boot
    manifest's `disk` driver serves it (user/manifest);
  - NAME.scratch.img, 1 MiB, seed SEED_SCRATCH, read-only, at 00:05.0
    and without MSI-X (so its drivers take the legacy interrupt), whose
    last sector gives an I/O error, for the drivers the suite starts,
    stops and kills itself.
The suite reads the disk and checks every byte, and its test
blk_writes_pattern_b writes sectors 1024-1151 with seed SEED_B.  After
the boot the harness reads the image back: every sector outside
1024-1151 must still hold pattern A (nothing may write there), and when
the log shows blk_writes_pattern_b passed, 1024-1151 must hold pattern
B.  `disks PREFIX` writes PREFIX.disk.img and PREFIX.scratch.img the
same way unless they exist (a disk keeps what a run wrote; delete it for
a fresh one) and prints QEMU's arguments for them, for make run, make
gdb and make bench.
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import time

SUCCESS_STATUS = 33
MARKER = "mica: done"
INIT_UP = "init: Mica user space is up"
REFUSAL = ("init: refusing to start echo-old: bin/echoold calls echo.Echo "
           "(id 0xe1c0a11d0000001), which no program of the manifest serves")
OUT_DIR = os.path.join("build", "test")

# The disks: keep in step with user/tests/blk_pattern.h.
SECTOR = 512
DISK_SECTORS = 8192                     # 4 MiB
SCRATCH_SECTORS = 2048                  # 1 MiB
SEED_A = 0x4d6963612d413031             # what the host writes
SEED_B = 0x4d6963612d423032             # what the system writes
SEED_SCRATCH = 0x4d6963612d533033
B_FIRST, B_COUNT = 1024, 128            # where it writes
B_TEST = "blk_writes_pattern_b"         # the test that writes it
K1, K2 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f
MASK = (1 << 64) - 1


def disk_pattern(seed, first, count):
    """The bytes of sectors [first, first + count) of pattern `seed`."""
    words = []
    for s in range(first, first + count):
        base = seed ^ (s * K1 & MASK)
        words.extend(base ^ (w * K2 & MASK) for w in range(SECTOR // 8))
    return struct.pack("<%dQ" % len(words), *words)


def make_disks(prefix, keep=False):
    """Write PREFIX.disk.img and PREFIX.scratch.img (with keep, only
    those missing); return their paths."""
    disk, scratch = prefix + ".disk.img", prefix + ".scratch.img"
    for path, seed, n in ((disk, SEED_A, DISK_SECTORS),
                          (scratch, SEED_SCRATCH, SCRATCH_SECTORS)):
        if not (keep and os.path.exists(path)):
            with open(path, "wb") as f:
                f.write(disk_pattern(seed, 0, n))
    return disk, scratch


def disk_args(disk, scratch):
    """QEMU's arguments for the two disks (modern virtio-blk, fixed slots).
    The scratch disk's last sector cannot be read: QEMU's blkdebug layer
    fails every read that touches it with EIO, which the device reports
    as an I/O error."""
    bad = {"driver": "raw", "node-name": "scratch", "read-only": True,
           "file": {"driver": "blkdebug", "read-only": True,
                    "inject-error": [{"event": "read_aio", "errno": 5,
                                      "sector": SCRATCH_SECTORS - 1}],
                    "image": {"driver": "file", "filename": scratch,
                              "read-only": True}}}
    return ["-drive", "file=%s,if=none,id=disk,format=raw" % disk,
            "-device", "virtio-blk-pci,drive=disk,disable-legacy=on,addr=04.0",
            "-blockdev", json.dumps(bad, separators=(",", ":")),
            "-device", "virtio-blk-pci,drive=scratch,disable-legacy=on,"
            "addr=05.0,vectors=0"]


def first_difference(got, want, first):
    """The first sector where got and want differ, counted from `first`."""
    for i in range(0, len(want), SECTOR):
        if got[i:i + SECTOR] != want[i:i + SECTOR]:
            return first + i // SECTOR
    return None


def check_disk(path, log, seed_b):
    """Reasons the disk image after the boot is not what it should be."""
    try:
        with open(path, "rb") as f:
            img = f.read()
    except OSError as e:
        return ["disk: cannot read %s: %s" % (path, e)]
    if len(img) != DISK_SECTORS * SECTOR:
        return ["disk: %s is %d bytes, not %d" %
                (path, len(img), DISK_SECTORS * SECTOR)]
    reasons = []
    lo, hi = B_FIRST * SECTOR, (B_FIRST + B_COUNT) * SECTOR
    for first, count in ((0, B_FIRST),
                         (B_FIRST + B_COUNT, DISK_SECTORS - B_FIRST - B_COUNT)):
        bad = first_difference(img[first * SECTOR:(first + count) * SECTOR],
                               disk_pattern(SEED_A, first, count), first)
        if bad is not None:
            reasons.append("disk: sector %d no longer holds the host's "
                           "pattern A (nothing may write outside %d-%d)" %
                           (bad, B_FIRST, B_FIRST + B_COUNT - 1))
            break
    wrote = re.search(r"^\s+ok \d+ %s$" % B_TEST, log, re.M)
    if wrote:
        bad = first_difference(img[lo:hi],
                               disk_pattern(seed_b, B_FIRST, B_COUNT), B_FIRST)
        if bad is not None:
            reasons.append("disk: %s passed, but sector %d does not hold "
                           "pattern B on the host" % (B_TEST, bad))
    return reasons


def qemu_command(args, name, disks):
    serial = os.path.join(OUT_DIR, name + ".serial.log")
    debug = os.path.join(OUT_DIR, name + ".debug.log")
    cmd = [args.qemu, "-M", "q35", "-accel", args.accel, "-cpu", "max",
           "-m", args.mem, "-smp", str(args.smp), "-no-reboot",
           "-display", "none", "-monitor", "none",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-serial", "file:" + serial, "-serial", "null",
           "-debugcon", "file:" + debug] + disk_args(*disks)
    if args.icount:
        cmd += ["-icount", "shift=0,sleep=off"]
    if args.iso:
        cmd += ["-cdrom", args.iso, "-boot", "d"]
    else:
        cmd += ["-kernel", args.kernel, "-append", args.append or ""]
        mods = []
        if args.init:
            mods.append(args.init + " init")
        if args.initrd:
            mods.append(args.initrd + " bootfs")
        if mods:
            cmd += ["-initrd", ",".join(mods)]
    return cmd, debug


def run_qemu(cmd, timeout):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, False, out.decode(errors="replace"), \
            time.monotonic() - start
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return None, True, out.decode(errors="replace"), \
            time.monotonic() - start


def judge(log, status, timed_out):
    """Return (passed, reasons, counts) for one boot's kernel log."""
    reasons = []
    lines = [l.rstrip("\r") for l in log.split("\n")]
    if timed_out:
        reasons.append("timed out")
    elif status != SUCCESS_STATUS:
        what = {0: "exit status 0: a triple fault or reset (-no-reboot)",
                35: "exit status 35: the kernel reported failure"}
        reasons.append(what.get(status, "QEMU exit status %s" % status))
    if any("KERNEL PANIC" in l or l.startswith("*** ") for l in lines):
        reasons.append("kernel panic or exception report in the log")
    plan = None
    skipped = 0
    results = []
    marker_at = None
    last_result_at = -1
    for i, l in enumerate(lines):
        m = re.match(r"^1\.\.(\d+)$", l)
        if m and plan is None:
            plan = int(m.group(1))
        m = re.match(r"^(not ok|ok) (\d+) (\S+)", l)
        if m and "# SKIP" in l:
            skipped += 1
        if m:
            results.append((m.group(1) == "ok", int(m.group(2)), m.group(3)))
            last_result_at = i
        if l == MARKER:
            marker_at = i
    if plan is None:
        reasons.append("no KTAP plan line")
    elif plan == 0 or skipped == plan:
        reasons.append("the plan selects no test")
    elif len(results) != plan or \
            [n for _, n, _ in results] != list(range(1, plan + 1)):
        reasons.append("plan says %d tests, %d results seen" %
                       (plan, len(results)))
    failed = [name for ok, _, name in results if not ok]
    if failed:
        reasons.append("failed: " + ", ".join(failed))
    if marker_at is None or marker_at < last_result_at:
        reasons.append("no final marker line '%s'" % MARKER)
    # init reads the test manifest on test boots and must refuse its
    # client of an old protocol, naming the method (docs/services.md)
    if INIT_UP in log and REFUSAL not in log:
        reasons.append("init did not refuse echo-old ('%s')" % REFUSAL)
    passed = sum(1 for ok, _, _ in results if ok)
    return not reasons, reasons, (passed, len(failed))


def boot(args, name, quiet=False, seed_b=SEED_B):
    os.makedirs(OUT_DIR, exist_ok=True)
    disks = make_disks(os.path.join(OUT_DIR, name))
    cmd, log_path = qemu_command(args, name, disks)
    status, timed_out, qemu_out, secs = run_qemu(cmd, args.timeout)
    try:
        with open(log_path, errors="replace") as f:
            log = f.read()
    except OSError:
        log = ""
    ok, reasons, (npass, nfail) = judge(log, status, timed_out)
    reasons += check_disk(disks[0], log, seed_b)
    ok = not reasons
    if not quiet:
        verdict = "PASS" if ok else "FAIL"
        print("harness: %-8s %s  (%d passed, %d failed, %.1f s wall)" %
              (name, verdict, npass, nfail, secs))
        if not ok:
            for r in reasons:
                print("harness:   " + r)
            if qemu_out.strip():
                print("harness: QEMU said: " + qemu_out.strip())
            tail = log.strip().split("\n")[-40:]
            print("harness: last lines of %s:" % log_path)
            for l in tail:
                print("    | " + l.rstrip("\r"))
    return ok, reasons, log


def selftest(args):
    """Each case must be judged a failure, for the stated reason."""
    cases = [
        ("fault-pf", "test=all fault=pf", 60,
         ["exit status 35"], ["page fault (#PF)", "Backtrace:",
                              "fault_null_write+", "fault_page+"]),
        ("fault-df", "test=all fault=df", 60,
         ["exit status 35"], ["double fault (#DF)"]),
        ("fault-triple", "test=all fault=triple", 60,
         ["exit status 0"], []),
        ("fault-panic", "test=all fault=panic", 60,
         ["exit status 35"], ["deliberate panic", "Backtrace:"]),
        ("fault-hang", "test=all fault=hang", 8, ["timed out"], []),
        ("no-tests", "test=nosuchtest", 60, ["the plan selects no test"], []),
        # the system writes pattern B; the harness expects another
        ("disk-check", "test=" + B_TEST, 120,
         ["does not hold pattern B"], ["ok 1 " + B_TEST]),
    ]
    bad = 0
    for name, append, timeout, want_reasons, want_log in cases:
        args.append, args.timeout = append, timeout
        args.smp = 4 if name == "fault-panic" else 1   # stops other CPUs
        seed_b = SEED_B ^ 1 if name == "disk-check" else SEED_B
        ok, reasons, log = boot(args, "harness-" + name, quiet=True,
                                seed_b=seed_b)
        problems = []
        if ok:
            problems.append("was judged a pass")
        for w in want_reasons:
            if not any(w in r for r in reasons):
                problems.append("reason '%s' missing (got: %s)" %
                                (w, "; ".join(reasons)))
        for w in want_log:
            if w not in log:
                problems.append("log lacks '%s'" % w)
        print("harness selftest: %-13s %s" %
              (name, "ok (caught: %s)" % "; ".join(reasons)
               if not problems else "WRONG: " + "; ".join(problems)))
        bad += bool(problems)
        if name == "fault-pf":      # show what a crash report looks like
            report = log[log.find("*** "):].strip().split("\n")
            for l in report[:24]:
                print("    | " + l.rstrip("\r"))
    print("harness selftest: %d passed, %d failed" % (len(cases) - bad, bad))
    return bad == 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--accel", default="tcg")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("disks").add_argument("prefix")
    for c in ("boot", "selftest"):
        s = sub.add_parser(c)
        if c == "boot":
            s.add_argument("name")
        s.add_argument("--smp", type=int, default=1)
        s.add_argument("--mem", default="256M")
        s.add_argument("--kernel")
        s.add_argument("--initrd")
        s.add_argument("--init")
        s.add_argument("--iso")
        s.add_argument("--append", default="")
        s.add_argument("--timeout", type=float, default=120)
        s.add_argument("--icount", action="store_true")
    args = p.parse_args()
    if args.cmd == "disks":
        os.makedirs(os.path.dirname(args.prefix) or ".", exist_ok=True)
        print(" ".join(disk_args(*make_disks(args.prefix, keep=True))))
        sys.exit(0)
    if args.cmd == "boot":
        ok, _, _ = boot(args, args.name)
    else:
        ok = selftest(args)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
