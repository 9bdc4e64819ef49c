#!/usr/bin/env python3
"""run.py OUT SO - time each workload under each allocator.

Each (workload, allocator) pair runs RUNS times (default 3); we report the
median wall time and the median peak resident set (ru_maxrss of the child,
measured by GNU time), and the ratio to Mica's allocator (LD_PRELOAD build): above
1.00 means the other allocator is slower or larger.  The table is printed
as Markdown and also written to OUT/results.md.
"""
import os
import statistics
import subprocess
import sys
import time

LIBDIR = "/usr/lib/x86_64-linux-gnu"

# workload -> arguments (sized for a few tenths of a second each)
WORKLOADS = {
    "larson": ["4", "20", "200000", "4000"],
    "xmalloc": ["2", "12000"],
    "mstress": ["4", "50", "10"],
    "cache_scratch": ["2", "1000", "8", "10000"],
    "churn": ["30000000", "50000"],
    "strbuild": ["600", "32", "1024"],
}


def allocators(out, so):
    """name -> (binary suffix, LD_PRELOAD or None)"""
    a = {
        "mica": ("glibc", so),
        "mica-static": ("ours", None),
        "glibc": ("glibc", None),
        "jemalloc": ("glibc", LIBDIR + "/libjemalloc.so.2"),
        "tcmalloc": ("glibc", LIBDIR + "/libtcmalloc_minimal.so.4"),
        "musl": ("musl", None),
        "mica-musl": ("ours-musl", None),
    }
    keep = {}
    for name, (suffix, pre) in a.items():
        if pre is not None and not os.path.exists(pre):
            continue
        if not os.path.exists(os.path.join(out, "larson." + suffix)):
            continue
        keep[name] = (suffix, pre)
    wanted = os.environ.get("ALLOCATORS")
    if wanted:
        keep = {k: v for k, v in keep.items() if k in wanted.split(",")}
    return keep


def run_once(cmd, preload, rss_file):
    """Wall time, peak RSS in KiB, exit status of one run.

    The peak RSS comes from /usr/bin/time (GNU time, %M): a child of this
    Python process would inherit Python's own high-water mark across exec,
    hiding any figure below it.
    """
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = preload
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file]
                          + cmd, env=env, stdout=subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return elapsed, rss, proc.returncode


def main():
    out, so = sys.argv[1], os.path.abspath(sys.argv[2])
    runs = int(os.environ.get("RUNS", "3"))
    names = os.environ.get("WORKLOADS")
    work = {k: v for k, v in WORKLOADS.items()
            if not names or k in names.split(",")}
    allocs = allocators(out, so)
    rss_file = os.path.join(out, "rss.txt")
    results = {}
    for w, args in work.items():
        for a, (suffix, pre) in allocs.items():
            times, rss, bad = [], [], 0
            for _ in range(runs):
                t, r, rc = run_once([os.path.join(out, w + "." + suffix)]
                                    + args, pre, rss_file)
                times.append(t)
                rss.append(r)
                bad += rc != 0
            results[(w, a)] = (statistics.median(times),
                               statistics.median(rss), bad)
            print(f"  {w:14} {a:12} {results[(w, a)][0]:7.3f} s "
                  f"{results[(w, a)][1] / 1024:8.1f} MiB"
                  + (f"  ({bad} failed runs)" if bad else ""),
                  file=sys.stderr, flush=True)
    lines = table(work, allocs, results)
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text)


def table(work, allocs, results):
    names = list(allocs)
    head = "| workload | " + " | ".join(names) + " |"
    lines = ["Median wall time in seconds (ratio to mica):", "", head,
             "|---" * (len(names) + 1) + "|"]
    for w in work:
        base = results[(w, "mica")][0] if "mica" in names else None
        cells = []
        for a in names:
            t = results[(w, a)][0]
            cells.append(f"{t:.3f} ({t / base:.2f})" if base else f"{t:.3f}")
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    lines += ["", "Median peak RSS in MiB (ratio to mica):", "", head,
              "|---" * (len(names) + 1) + "|"]
    for w in work:
        base = results[(w, "mica")][1] if "mica" in names else None
        cells = []
        for a in names:
            r = results[(w, a)][1]
            cells.append(f"{r / 1024:.1f} ({r / base:.2f})" if base
                         else f"{r / 1024:.1f}")
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    failed = [f"{w}/{a}" for (w, a), v in results.items() if v[2]]
    if failed:
        lines += ["", "Runs that exited non-zero: " + ", ".join(failed)]
    return lines


if __name__ == "__main__":
    main()
