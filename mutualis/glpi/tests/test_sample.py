"""The generated GLPI database holds every case that catches importers."""

from mutualis.glpi.sample import history


def test_it_loads_glpis_tables(glpi_db):
    connection = history.connect(glpi_db)
    with connection.cursor() as cursor:
        cursor.execute("SHOW TABLES")
        tables = {row[0] for row in cursor.fetchall()}
    connection.close()
    assert "glpi_tickets" in tables and "glpi_itilfollowups" in tables and len(tables) == 18
