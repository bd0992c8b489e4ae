"""The scan after the suite (`make test`): no log line of the run may hold the marker the tests planted
in every personal field (tests/platform/test_log_marker.py).

Usage: python scripts/logscan.py LOG_DIR MARKER [--require-planted]
"""

from __future__ import annotations

import sys
from pathlib import Path

PLANTED = "marker-planted"  # written by the planting test, so a run that never planted is noticed


def scan(log_dir: Path, marker: str) -> list[str]:
    """Every `file:line: text` of the log files that holds the marker (case-insensitive)."""
    hits = []
    needle = marker.lower()
    for path in sorted(log_dir.rglob("*")):
        if not path.is_file() or path.name == PLANTED:
            continue
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if needle in line.lower():
                    hits.append(f"{path.name}:{number}: {line.rstrip()[:300]}")
    return hits


def main(argv: list[str]) -> int:
    log_dir, marker = Path(argv[0]), argv[1]
    files = [p for p in log_dir.rglob("*") if p.is_file() and p.name != PLANTED]
    size = sum(p.stat().st_size for p in files)
    print(f"log scan: {len(files)} files, {size} bytes under {log_dir}", flush=True)
    if "--require-planted" in argv and not (log_dir / PLANTED).exists():
        print("log scan: FAILED: the marker was never planted (tests/platform/test_log_marker.py did not run)")
        return 1
    hits = scan(log_dir, marker)
    for hit in hits:
        print(f"log scan: personal data in the logs: {hit}", flush=True)
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
