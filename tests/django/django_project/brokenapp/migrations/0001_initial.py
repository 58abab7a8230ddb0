# ruff: noqa: RUF012  (Django's class-level lists: Meta options, migrations, admin)
# Hand-written: the mistakes pgpart.E002 and pgpart.E005 catch.

from django.db import migrations, models

import pgpart.django.operations


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        # pgpart.E002: a partitioned model created by a plain CreateModel.
        migrations.CreateModel(
            name="PlainCreated",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("ts", models.DateTimeField()),
            ],
        ),
        # pgpart.E005: created RANGE (ts); the model now declares RANGE (ts2).
        pgpart.django.operations.CreatePartitionedModel(
            name="Repartitioned",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("ts", models.DateTimeField()),
                ("ts2", models.DateTimeField()),
            ],
            partitioning={"interval": "1 day", "key": "ts", "method": "range"},
        ),
    ]
