"""Make reports, report entries and case events append-only in the database itself (as
aixin/audit does for audit events): not even a raw SQL UPDATE or DELETE from the application's
connection can alter what was reported or what was done.

TRUNCATE is not guarded here (unlike the audit log): pytest-django's transactional tests flush
every table with TRUNCATE on PostgreSQL, and a statement-level trigger would fire even on an
empty table and break every such test in the suite."""

from django.db import migrations

TABLES = ("cases_report", "cases_reportentry", "cases_caseevent")


def _sqlite_up(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;""",
    ]


def _sqlite_down(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]


PG_FUNCTION = """CREATE OR REPLACE FUNCTION cases_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only'; END;
    $$ LANGUAGE plpgsql;"""


def _pg_up(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION cases_append_only();"""
    ]


def _pg_down(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};"]


SQLITE_UP = [sql for t in TABLES for sql in _sqlite_up(t)]
SQLITE_DOWN = [sql for t in TABLES for sql in _sqlite_down(t)]
PG_UP = [PG_FUNCTION, *(sql for t in TABLES for sql in _pg_up(t))]
PG_DOWN = [*(sql for t in TABLES for sql in _pg_down(t)), "DROP FUNCTION IF EXISTS cases_append_only();"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": PG_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}),
        )
    ]
