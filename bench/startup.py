"""Start-up CPU of the management commands cron runs (issue 10 §9): user+system seconds per run.

    .venv/bin/python bench/startup.py [--runs 5] [--command "import_orders --help"]

Runs ``manage.py <command>`` in a fresh process with production-shaped settings (DEBUG off, PostgreSQL
if DATABASE_URL says so, a Redis broker) and prints the CPU of each run, the median and the best.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Measured on the shared 2-core development machine (user + system seconds, `import_orders --help`).
RECORDED = [
    ("849cc4f, .pyc files present (median of 5)", "0.53"),
    ("849cc4f, no .pyc at all (PYTHONPYCACHEPREFIX empty)", "1.9-2.0"),
    ("issue 10's figure (another machine)", "2.4-2.6"),
]


def production_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(DEBUG="0", SECRET_KEY="bench-only-secret-key", EMAIL_URL="dummymail://",
               CREDENTIALS_KEY="yq5xQOZ4mJ3Eo1vQ8b0Q2d3q1m7WQ6Yk3r0fWc8xLZs=")
    env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    return env


def cpu_of_one_run(command: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "manage.py", *command], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--command", default="import_orders --help")
    args = parser.parse_args()
    env = production_env()
    command = args.command.split()
    cpu_of_one_run(command, env)  # warm: .pyc files written, page cache filled
    runs = [cpu_of_one_run(command, env) for _ in range(args.runs)]
    print(f"manage.py {args.command}: CPU seconds (user + system)")
    print(f"{'run':>6} | {'CPU s':>6}")
    for n, seconds in enumerate(runs, 1):
        print(f"{n:>6} | {seconds:6.2f}")
    print(f"{'median':>6} | {statistics.median(runs):6.2f}")
    print(f"{'best':>6} | {min(runs):6.2f}")
    print("\nrecorded figures:")
    for label, figure in RECORDED:
        print(f"  {label:<50} {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
