"""Creates the open default assessment template; see casemgmt/default_template.py."""

from django.db import migrations

from casemgmt.default_template import ensure_default_template


def create(apps, schema_editor):
    ensure_default_template(apps)


class Migration(migrations.Migration):
    dependencies = [("casemgmt", "0002_casefile")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
