"""Append the disclosure chain's head to AUDIT_HEAD_FILE (daily, by beat and by the maintenance service)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from casemgmt import disclosure_chain


class Command(BaseCommand):
    help = "Append the disclosure log's last id and hash to the head file kept outside the database."

    def add_arguments(self, parser):
        parser.add_argument("--head-file", type=Path, help="default: settings.AUDIT_HEAD_FILE")

    def handle(self, *args, head_file=None, **options):
        head = disclosure_chain.anchor_head(path=head_file)
        self.stdout.write(
            f"Recorded head: row {head.last_id} at {head.at} in {head_file or disclosure_chain.head_file()}"
        )
