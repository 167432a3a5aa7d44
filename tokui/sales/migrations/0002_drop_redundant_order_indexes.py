"""Drop three indexes that longer ones already cover (issue 4, order import speed).

``sales_orderline.order_id`` is the prefix of the unique (order, line_no),
``sales_orderline.customer_id`` of (customer, date), ``sales_order.customer_id`` of
(customer, -date). Each costs every imported line an index insert and serves no query the
longer index does not. Reversible: migrating back recreates them.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_customer_trash"),
        ("sales", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="customers.customer",
                verbose_name="customer",
            ),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="order_lines",
                to="customers.customer",
            ),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="order",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lines",
                to="sales.order",
                verbose_name="order",
            ),
        ),
    ]
