"""Pseudonymise the closed cases a manager confirmed in the retention review.

Runs under the database OWNER role (the owner's DATABASE_URL): the application role may only insert
into and read the history tables, which this command rewrites. It never touches the access log or
the disclosure log (ids only). Idempotent: a case is pseudonymised once, then marked.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from casemgmt import retention

INSUFFICIENT_PRIVILEGE = "42501"


class Command(BaseCommand):
    help = "Pseudonymise the closed cases confirmed in the retention review (run as the database owner)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List the confirmed cases, change nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        reviews = list(retention.confirmed_reviews().select_related("case__participant"))
        total = len(reviews)
        if not total:
            self.stdout.write("No confirmed cases to pseudonymise.")
            return
        self.stdout.write(f"{total} confirmed case(s) to pseudonymise{' (dry run)' if dry_run else ''}.")
        done = skipped = 0
        for n, review in enumerate(reviews, start=1):
            code = review.case.participant.case_code
            if dry_run:
                self.stdout.write(f"[{n}/{total}] {code}: would be pseudonymised")
                continue
            try:
                changed = retention.pseudonymise(review=review)
            except DatabaseError as error:
                if getattr(getattr(error, "__cause__", None), "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
                    raise CommandError(
                        "Permission denied while pseudonymising "
                        f"{code}: apply_retention must run under the database owner role "
                        "(set DATABASE_URL to the owner's connection); the application role may not rewrite "
                        f"history tables. Nothing of {code} was changed. Database said: {error}"
                    ) from error
                raise
            if changed:
                done += 1
                self.stdout.write(f"[{n}/{total}] {code}: pseudonymised")
            else:
                skipped += 1
                self.stdout.write(f"[{n}/{total}] {code}: skipped (no longer confirmed or re-opened)")
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(f"Done: {done} pseudonymised, {skipped} skipped."))
