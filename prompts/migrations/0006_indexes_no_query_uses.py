# The pattern-ops twin of organization_id's index (see models_registry 0013) on particles and
# compositions, and the history tables' organization indexes, which no query uses.
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('prompts', '0005_indexes_for_the_merged_list'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalpromptcomposition',
            name='organization_id',
            field=models.CharField(blank=True, help_text='Stytch organization id of the owner; empty for a global object.', max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='historicalpromptparticle',
            name='organization_id',
            field=models.CharField(blank=True, help_text='Stytch organization id of the owner; empty for a global object.', max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='promptcomposition',
            name='organization_id',
            field=models.CharField(blank=True, help_text='Stytch organization id of the owner; empty for a global object.', max_length=128, null=True),
        ),
        migrations.AlterField(
            model_name='promptparticle',
            name='organization_id',
            field=models.CharField(blank=True, help_text='Stytch organization id of the owner; empty for a global object.', max_length=128, null=True),
        ),
        migrations.AddIndex(
            model_name='promptcomposition',
            index=models.Index(fields=['organization_id'], name='composition_organization'),
        ),
        migrations.AddIndex(
            model_name='promptparticle',
            index=models.Index(fields=['organization_id'], name='particle_organization'),
        ),
    ]
