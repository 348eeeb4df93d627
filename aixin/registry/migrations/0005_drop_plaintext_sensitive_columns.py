# Schema, step 3 of 3: drop the plaintext columns encrypted by 0004. Reversing adds them back
# empty, and reversing 0004 then decrypts into them.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0004_encrypt_sensitive_values'),
    ]

    operations = [
        migrations.RemoveField(model_name='child', name='address'),
        migrations.RemoveField(model_name='child', name='notes'),
        migrations.RemoveField(model_name='parentcondition', name='disability_grade'),
        migrations.RemoveField(model_name='parentcondition', name='disability_category'),
    ]
