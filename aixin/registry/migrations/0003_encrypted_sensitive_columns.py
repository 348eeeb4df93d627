# Schema, step 1 of 3 (issue 6, encryption at rest): the encrypted columns next to the plaintext
# ones. 0004 fills them, 0005 drops the plaintext columns.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0002_import_provenance'),
    ]

    operations = [
        migrations.AddField(
            model_name='child',
            name='address_encrypted',
            field=models.TextField(blank=True, default=''),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='child',
            name='notes_encrypted',
            field=models.TextField(blank=True, default=''),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='parentcondition',
            name='disability_grade_encrypted',
            field=models.TextField(blank=True, default=''),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='parentcondition',
            name='disability_category_encrypted',
            field=models.TextField(blank=True, default=''),
            preserve_default=False,
        ),
    ]
