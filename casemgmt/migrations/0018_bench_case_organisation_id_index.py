from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("casemgmt", "0016_field_encryption")]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["organisation", "id"], name="case_organisation_id_idx"),
        ),
    ]
