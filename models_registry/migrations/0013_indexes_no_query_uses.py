# Indexes that no query uses (issue 19), measured on the 1.1M-row scale set (benchmarks/scale.py):
# - organization_id's varchar_pattern_ops twin (9.6 MB), which Django adds to an indexed CharField
#   and which serves only LIKE 'prefix%': no query runs one on an organization id. The plain btree
#   stays, declared by name (the admin's organization filter and the moves read by it alone).
# - is_system's own btree (7.8 MB): every read of the system models alone is served as well by one
#   of their partial indexes (tens of rows: aimodel_system_by_name, the unique slug's), and "not a
#   system model" alone is nearly every row, read in full whatever the index.
# - the history table's copies of both: history is read by object id, never by organization.
# Applying it to that set took 2 s (the plain index is built again under its name).
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('models_registry', '0012_search_indexes_per_part'),
        ('prompts', '0006_indexes_no_query_uses'),
    ]

    operations = [
        migrations.AlterField(
            model_name='aimodel',
            name='is_system',
            field=models.BooleanField(default=False, help_text='Whether this is a company-provided base model.'),
        ),
        migrations.AlterField(
            model_name='aimodel',
            name='organization_id',
            field=models.CharField(blank=True, help_text='Stytch organization id owning a user model; empty for system models.', max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='historicalaimodel',
            name='is_system',
            field=models.BooleanField(default=False, help_text='Whether this is a company-provided base model.'),
        ),
        migrations.AlterField(
            model_name='historicalaimodel',
            name='organization_id',
            field=models.CharField(blank=True, help_text='Stytch organization id owning a user model; empty for system models.', max_length=128, null=True),
        ),
        migrations.AddIndex(
            model_name='aimodel',
            index=models.Index(fields=['organization_id'], name='aimodel_organization'),
        ),
    ]
