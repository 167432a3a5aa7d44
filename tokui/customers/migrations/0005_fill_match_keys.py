"""Fill the duplicate-detection keys of cards and addresses saved before 0004.

Data only (the columns come with 0004). The folding is copied here rather than imported
from the models, so this migration keeps doing what it did when the models change.
"""

import re
import unicodedata

from django.db import migrations

BATCH = 2000
_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—−", "-"))


def _search_key(text):
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_KATAKANA_TO_HIRAGANA)
    return re.sub(r"\s+", "", folded)


def _address_key(postal_code, line1):
    postal = re.sub(r"\D+", "", unicodedata.normalize("NFKC", postal_code or ""))
    if not postal or not line1:
        return ""
    return f"{postal} {_search_key(line1).translate(_DASHES)}"[:250]


def _fill(queryset, field, compute):
    batch = []
    for row in queryset.iterator(chunk_size=BATCH):
        setattr(row, field, compute(row))
        batch.append(row)
        if len(batch) >= BATCH:
            queryset.model.objects.bulk_update(batch, [field])
            batch = []
    if batch:
        queryset.model.objects.bulk_update(batch, [field])


def fill_keys(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Address = apps.get_model("customers", "Address")
    _fill(
        Customer.objects.only("pk", "name").order_by("pk"),
        "name_key",
        lambda c: _search_key(c.name)[:200],
    )
    _fill(
        Address.objects.only("pk", "postal_code", "line1").order_by("pk"),
        "match_key",
        lambda a: _address_key(a.postal_code, a.line1),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_customermerge_match_keys"),
    ]

    operations = [
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
    ]
