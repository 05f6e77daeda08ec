"""The full-text indexes, one per engine: on PostgreSQL a GIN index over the French vector column;
on SQLite an FTS5 table (accents folded, no French stemming: SQLite has none), kept in sync by
the services that write articles (`knowledge/search.py`)."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

POSTGRESQL = "CREATE INDEX knowledge_article_search_gin ON knowledge_article USING gin (search_vector)"
SQLITE = (
    "CREATE VIRTUAL TABLE knowledge_article_fts USING fts5("
    "title, body, tokenize = 'unicode61 remove_diacritics 2')"
)


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS knowledge_article_search_gin")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS knowledge_article_fts")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_articles")]

    operations = [migrations.RunPython(create, drop)]
