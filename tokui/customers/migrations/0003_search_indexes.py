"""Indexes for the customer list's search and sorting, measured with bench/run.py.

Search is a substring match (``LIKE '%…%'``) on ``search_text`` and ``phone_digits``,
which no B-tree can answer, so each database gets what helps it:

- PostgreSQL: trigram GIN indexes (pg_trgm, a trusted extension) answer substring
  searches of three or more characters from the index instead of reading every card.
- SQLite: one covering index in list order (sort key, code) that also holds the
  owner and the searched text. A search or an account manager's list then walks
  this small index, checks the match there and reads only the 50 cards it shows,
  instead of fetching every card along the name order from the table.

The model does not declare these indexes (they are vendor-specific), so
``makemigrations --check`` stays quiet about them.
"""

from django.db import migrations

POSTGRESQL_FORWARD = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_search_text_trgm_idx "
    "ON customers_customer USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_phone_digits_trgm_idx "
    "ON customers_customer USING gin (phone_digits gin_trgm_ops)",
)
# The extension stays: other database objects may use it, and it is harmless.
POSTGRESQL_BACKWARD = (
    "DROP INDEX IF EXISTS customer_phone_digits_trgm_idx",
    "DROP INDEX IF EXISTS customer_search_text_trgm_idx",
)
SQLITE_FORWARD = (
    "CREATE INDEX IF NOT EXISTS customer_list_search_idx "
    "ON customers_customer (sort_key, code, owner_id, search_text, phone_digits)",
)
SQLITE_BACKWARD = ("DROP INDEX IF EXISTS customer_list_search_idx",)


def _run(statements_by_vendor):
    def operation(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD}),
            elidable=False,
        ),
    ]
