from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("casemgmt", "0017_idempotency_keys")]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["organisation", "id"], name="case_organisation_id_idx"),
        ),
    ]
