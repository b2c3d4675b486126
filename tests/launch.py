"""Start one measured command from a small process and report what it cost.

    python -I -S tests/launch.py REPORT_PATH COMMAND [ARGUMENT ...]

Linux charges a new process, as its peak resident set, the memory of the process it was
spawned from: ``ru_maxrss`` keeps the high-water mark of the address space that ``exec``
replaced. A child spawned straight from a test run or the benchmark suite, whose own memory
grows as it goes, would so be charged that size (every small benchmark peer showed the same
67 MiB). This launcher imports nothing but built-in modules, so the floor it leaves is its own
few MiB; it spawns the command, reaps it with ``wait4`` and writes one line to REPORT_PATH:
exit code, wall seconds, CPU seconds (user + system of the command and every descendant it
waited for) and peak resident set in KiB. Used by ``tests/harness.py`` and
``benchmarks/measure.py``.
"""

import os
import sys
import time


def main() -> int:
    report_path, *command = sys.argv[1:]
    started = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started

    code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    with open(report_path, "w", encoding="utf-8") as report:
        report.write(f"{code} {wall:.6f} {cpu:.6f} {usage.ru_maxrss}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
