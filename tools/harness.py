#!/usr/bin/env python3
"""harness.py - boot Mica in QEMU and judge the run.

    harness.py boot NAME [--smp N] (--kernel BIN --initrd CPIO | --iso ISO)
                         [--append ARGS] [--timeout S] [--icount]
    harness.py selftest --kernel BIN --initrd CPIO

`boot` runs QEMU (TCG unless --accel says otherwise) with the serial
console (COM1; COM2 exists too, unconnected, for the interrupt tests'
loopback) and the debug port captured to build/test/NAME.serial.log and
NAME.debug.log.  It judges the debug port's log, which carries the whole
kernel log from the first line to the last: COM1 carries it only until
the console driver takes the port over (after that, what the console
shows is the driver's).  It passes the run only if all of these hold:
  - QEMU exited with status 33, the isa-debug-exit success code (a triple
    fault under -no-reboot exits 0; a panic exits 35);
  - the log has a KTAP plan line "1..N" with N > 0, and exactly N results,
    numbered 1..N, none of them "not ok";
  - the final marker line "mica: done" came after the last result;
  - no panic report, and no timeout.
On failure it prints why and the tail of the log (the backtrace, for a
crash).  `selftest` proves the harness itself catches failures: a
deliberate page fault (with a symbolized backtrace), a triple fault, a
panic, a hang (timeout) and a boot whose self-tests are not selected must
all be judged failed.
"""
import argparse
import os
import re
import subprocess
import sys
import time

SUCCESS_STATUS = 33
MARKER = "mica: done"
OUT_DIR = os.path.join("build", "test")


def qemu_command(args, name):
    serial = os.path.join(OUT_DIR, name + ".serial.log")
    debug = os.path.join(OUT_DIR, name + ".debug.log")
    cmd = [args.qemu, "-M", "q35", "-accel", args.accel, "-cpu", "max",
           "-m", args.mem, "-smp", str(args.smp), "-no-reboot",
           "-display", "none", "-monitor", "none",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-serial", "file:" + serial, "-serial", "null",
           "-debugcon", "file:" + debug]
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
    passed = sum(1 for ok, _, _ in results if ok)
    return not reasons, reasons, (passed, len(failed))


def boot(args, name, quiet=False):
    os.makedirs(OUT_DIR, exist_ok=True)
    cmd, log_path = qemu_command(args, name)
    status, timed_out, qemu_out, secs = run_qemu(cmd, args.timeout)
    try:
        with open(log_path, errors="replace") as f:
            log = f.read()
    except OSError:
        log = ""
    ok, reasons, (npass, nfail) = judge(log, status, timed_out)
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
    ]
    bad = 0
    for name, append, timeout, want_reasons, want_log in cases:
        args.append, args.timeout = append, timeout
        args.smp = 4 if name == "fault-panic" else 1   # stops other CPUs
        ok, reasons, log = boot(args, "harness-" + name, quiet=True)
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
    if args.cmd == "boot":
        ok, _, _ = boot(args, args.name)
    else:
        ok = selftest(args)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
