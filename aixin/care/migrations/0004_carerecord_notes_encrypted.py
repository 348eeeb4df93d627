# Schema, step 1 of 3: a column for the sealed notes of a care record.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("care", "0003_care_record_period_cover_index")]

    operations = [
        migrations.AddField(
            model_name="carerecord",
            name="notes_encrypted",
            field=models.TextField(blank=True, default=""),
            preserve_default=False,
        ),
    ]
