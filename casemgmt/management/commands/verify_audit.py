"""Check the disclosure log's hash chain and the recorded heads; exit 1 on any problem."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from casemgmt import disclosure_chain


class Command(BaseCommand):
    help = "Verify the disclosure log: altered, inserted or removed rows, and a chain cut back behind a recorded head."

    def add_arguments(self, parser):
        parser.add_argument("--head-file", type=Path, help="default: settings.AUDIT_HEAD_FILE")
        parser.add_argument("--chunk-size", type=int, default=5000)

    def handle(self, *args, head_file=None, chunk_size=5000, verbosity=1, **options):
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            share = f" ({100 * done // total}%)" if total else ""
            # stderr, so the report on stdout stays clean for a log collector
            self.stderr.write(f"verify_audit: {done:,} of {total:,} rows{share}, {time.monotonic() - started:.0f}s")

        report = disclosure_chain.verify(
            path=head_file, chunk_size=chunk_size, progress=progress if verbosity >= 1 else None
        )
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        for problem in report.problems:
            self.stdout.write(f"PROBLEM {problem.kind}: {problem.message}")
        summary = (
            f"{report.rows:,} rows, last id {report.last_id}, {report.heads_checked} recorded heads checked, "
            f"{len(report.problems)} problems ({time.monotonic() - started:.1f}s)"
        )
        if not report.ok:
            raise CommandError(f"The disclosure log failed verification: {summary}", returncode=1)
        self.stdout.write(f"The disclosure log is intact: {summary}")
