# Schema, step 3 of 3: no clear copy of a care record's notes is kept.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("care", "0005_encrypt_care_notes")]

    operations = [
        migrations.RemoveField(model_name="carerecord", name="notes"),
    ]
