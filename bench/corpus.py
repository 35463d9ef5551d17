"""Benchmark: how long each file of the test corpus takes, and its answer.

The corpus (tests/corpus.py: real-world and hostile files, zip bombs, far
cells, 10 MB cells ...) is written to a temporary folder; each file then goes
through `vnimport preview FILE --type customer_invoice` in its own process, as
a nightly job would run it. Prints the slowest files, the peak memory and the
exit codes; the acceptance is "no traceback, none takes more than a few
seconds".

    python bench/corpus.py [--top 10]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import corpus  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--top", type=int, default=10, help="how many of the slowest files to list")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = corpus.write_all(Path(tmp))
        results = []
        for name, path in files.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "importer", "preview", str(path), "-t", "customer_invoice"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            crashed = "Traceback" in proc.stderr or "internal error" in proc.stderr
            results.append((seconds, name, proc.returncode, crashed, max(peak, before)))
    results.sort(reverse=True)
    print(f"{'file':40} {'seconds':>8} {'exit':>5}")
    for seconds, name, code, crashed, _ in results[: args.top]:
        print(f"{name:40} {seconds:8.2f} {code:5d}{'  TRACEBACK' if crashed else ''}")
    codes = Counter(code for _, _, code, _, _ in results)
    print(f"\n{len(results)} files; exit codes {dict(sorted(codes.items()))}; ", end="")
    print(f"tracebacks: {sum(1 for r in results if r[3])}; ", end="")
    print(f"slowest {results[0][0]:.2f} s; total {sum(r[0] for r in results):.1f} s; ", end="")
    print(f"largest peak RSS of a run {max(r[4] for r in results) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
