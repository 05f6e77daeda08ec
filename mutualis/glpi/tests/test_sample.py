"""The generated GLPI database holds every case that catches importers, and its facts are what it
wrote: the import's tests compare against them."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tomllib
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mutualis.glpi.sample import history

PARIS = ZoneInfo("Europe/Paris")


def query(url: str, sql: str, *args: Any, utc: bool = False) -> list[tuple[Any, ...]]:
    connection = history.connect(url, utc=utc)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())
    finally:
        connection.close()


def one(url: str, sql: str, *args: Any) -> Any:
    return query(url, sql, *args)[0][0]


def test_it_loads_glpis_tables(glpi_db):
    tables = {row[0] for row in query(glpi_db, "SHOW TABLES")}

    assert len(tables) == 18
    assert {"glpi_tickets", "glpi_itilfollowups", "glpi_tickettasks", "glpi_documents_items"} <= tables
    assert one(glpi_db, "SELECT COUNT(*) FROM glpi_tickets") == 0


def test_it_counts_what_it_wrote(glpi_sample):
    url, facts = glpi_sample.url, glpi_sample.facts
    slugs = {int(k): v for k, v in tomllib.loads(history.MAPPING_FILE.read_text())["entities"].items()}
    mapped = ", ".join(str(entity) for entity in slugs)
    importable = f"t.is_deleted = 0 AND t.entities_id IN ({mapped})"
    per_month: dict[str, dict[str, int]] = {slug: {} for slug in slugs.values()}
    for entity, month, count in query(
        url,
        f"SELECT entities_id, DATE_FORMAT(date, '%%Y-%%m'), COUNT(*) FROM glpi_tickets t"
        f" WHERE {importable} GROUP BY 1, 2",
    ):
        per_month[slugs[entity]][month] = count

    assert facts.tickets_written == one(url, "SELECT COUNT(*) FROM glpi_tickets") == 200
    assert facts.tickets_per_month == per_month
    assert facts.tickets_expected == sum(sum(months.values()) for months in per_month.values()) < 200
    assert len(per_month["venissieux"]) > 12  # spread over the two years
    followups = "FROM glpi_itilfollowups f JOIN glpi_tickets t ON t.id = f.items_id"
    followups += f" WHERE f.itemtype = 'Ticket' AND {importable}"
    assert facts.followups_expected == one(url, f"SELECT COUNT(*) {followups}") > 200
    assert facts.private_followups_expected == one(url, f"SELECT COUNT(*) {followups} AND f.is_private = 1") > 0
    tasks = f"FROM glpi_tickettasks k JOIN glpi_tickets t ON t.id = k.tickets_id WHERE {importable}"
    assert facts.tasks_expected == one(url, f"SELECT COUNT(*) {tasks}") > 100
    assert facts.task_seconds_expected == one(url, f"SELECT SUM(k.actiontime) {tasks}")
    assert facts.followups_written + facts.tasks_written == one(
        url, "SELECT (SELECT COUNT(*) FROM glpi_itilfollowups) + (SELECT COUNT(*) FROM glpi_tickettasks)"
    )
    solutions = "FROM glpi_itilsolutions s JOIN glpi_tickets t ON t.id = s.items_id"
    solutions += f" WHERE s.itemtype = 'Ticket' AND {importable}"
    assert facts.solutions_expected == one(url, f"SELECT COUNT(*) {solutions}")
    assert facts.satisfactions_expected == one(
        url,
        f"SELECT COUNT(*) FROM glpi_ticketsatisfactions s JOIN glpi_tickets t ON t.id = s.tickets_id"
        f" WHERE s.date_answered IS NOT NULL AND {importable}",
    )
    documents = one(
        url,
        "SELECT COUNT(DISTINCT i.documents_id) FROM glpi_documents_items i"
        " LEFT JOIN glpi_itilfollowups f ON i.itemtype = 'ITILFollowup' AND f.id = i.items_id AND f.itemtype = 'Ticket'"
        " JOIN glpi_tickets t ON t.id = CASE i.itemtype WHEN 'Ticket' THEN i.items_id ELSE f.items_id END"
        f" WHERE i.itemtype IN ('Ticket', 'ITILFollowup') AND {importable}",
    )
    assert facts.documents_expected == documents > 3


def test_it_writes_both_generations_of_html_and_mixes_them_in_one_ticket(glpi_sample):
    url, facts = glpi_sample.url, glpi_sample.facts
    content = "SELECT content FROM glpi_tickets WHERE id = %s"

    assert one(url, content, facts.html_v9).startswith("&lt;p&gt;Bonjour,&lt;/p&gt;")
    assert "&#60;" not in one(url, content, facts.html_v9)
    assert one(url, content, facts.html_v10).startswith("&#60;p&#62;Bonjour,&#60;/p&#62;")
    assert "&lt;" not in one(url, content, facts.html_v10)
    assert "&lt;p&gt;" in one(url, content, facts.html_mixed)
    answers = [
        row[0]
        for row in query(
            url, "SELECT content FROM glpi_itilfollowups WHERE itemtype = 'Ticket' AND items_id = %s", facts.html_mixed
        )
    ]
    assert answers and all(answer.startswith("&#60;p&#62;") for answer in answers)
    assert "&#60;script&#62;alert(&#39;erreur&#39;);&#60;/script&#62;" in one(url, content, facts.script)
    inline = one(url, content, facts.inline_image)
    assert f"src=&#34;/front/document.send.php?docid={facts.inline_image_document}&#38;itemtype=Ticket" in inline
    assert query(
        url, "SELECT itemtype, items_id FROM glpi_documents_items WHERE documents_id = %s", facts.inline_image_document
    ) == [("Ticket", facts.inline_image)]


def test_it_holds_the_tickets_that_catch_importers(glpi_sample):
    url, facts = glpi_sample.url, glpi_sample.facts
    ticket = "SELECT {} FROM glpi_tickets WHERE id = %s"

    assert len(facts.trashed) >= 2 and all(one(url, ticket.format("is_deleted"), t) == 1 for t in facts.trashed)
    assert facts.root_entity and one(url, ticket.format("entities_id"), facts.root_entity[0]) == 0
    assert facts.unmapped_entity and all(one(url, ticket.format("entities_id"), t) == 4 for t in facts.unmapped_entity)
    assert facts.unmapped_category and all(
        one(url, ticket.format("itilcategories_id"), t) == 9 for t in facts.unmapped_category
    )
    mapping = tomllib.loads(glpi_sample.mapping_path.read_text())
    assert "4" not in mapping["entities"] and "9" not in mapping["categories"]
    # an anonymous requester: no user, an e-mail
    assert query(
        url,
        "SELECT users_id, alternative_email FROM glpi_tickets_users WHERE tickets_id = %s AND type = 1",
        facts.anonymous[0],
    ) == [(0, facts.anonymous_email)]
    # assigned to a group alone
    group_only = facts.group_only[0]
    assert one(url, "SELECT COUNT(*) FROM glpi_groups_tickets WHERE tickets_id = %s AND type = 2", group_only) == 1
    assert one(url, "SELECT COUNT(*) FROM glpi_tickets_users WHERE tickets_id = %s AND type = 2", group_only) == 0
    # a Problem's and a Change's rows carry a ticket's id
    assert sorted(
        query(
            url,
            "SELECT itemtype FROM glpi_itilfollowups WHERE items_id = %s AND itemtype <> 'Ticket'",
            facts.shared_items_id,
        )
    ) == [("Change",), ("Problem",)]
    assert query(
        url,
        "SELECT itemtype FROM glpi_itilsolutions WHERE items_id = %s AND itemtype <> 'Ticket'",
        facts.shared_items_id,
    ) == [("Problem",)]
    # solutions refused then accepted (the ticket reopened), accepted, waiting for approval
    refusals = query(
        url,
        "SELECT status, itilfollowups_id FROM glpi_itilsolutions"
        " WHERE itemtype = 'Ticket' AND items_id = %s ORDER BY id",
        facts.solution_refused,
    )
    assert [status for status, _ in refusals] == [4, 3] and refusals[0][1] is not None
    assert query(
        url,
        "SELECT status FROM glpi_itilsolutions WHERE itemtype = 'Ticket' AND items_id = %s",
        facts.solution_accepted,
    ) == [(3,)]
    assert query(
        url, "SELECT status FROM glpi_itilsolutions WHERE itemtype = 'Ticket' AND items_id = %s", facts.solution_waiting
    ) == [(2,)]
    # the reopened ticket keeps the first solution's delay: shorter than its dates say
    opened, solved, stat = query(url, ticket.format("date, solvedate, solve_delay_stat"), facts.reopened)[0]
    assert stat < (solved - opened).total_seconds() - 86400
    # waited, but GLPI lost the paused time
    waiting, sla_waiting = query(url, ticket.format("waiting_duration, sla_waiting_duration"), facts.lost_waiting[0])[0]
    assert waiting == 0 and sla_waiting > 0
    assert query(url, ticket.format("waiting_duration"), facts.waited[0])[0][0] > 0
    # satisfaction answered and not
    answers = "SELECT satisfaction FROM glpi_ticketsatisfactions WHERE tickets_id = %s"
    assert one(url, answers, facts.satisfaction_answered) in range(0, 6)
    assert one(url, answers, facts.satisfaction_unanswered) is None
    # linked and duplicate tickets
    links = set(query(url, "SELECT tickets_id_1, tickets_id_2, link FROM glpi_tickets_tickets"))
    assert (*facts.linked, 1) in links and (*facts.duplicate, 2) in links
    # users matched by login, by mail only, and one by nothing
    users = dict(query(url, "SELECT u.name, e.email FROM glpi_users u JOIN glpi_useremails e ON e.users_id = u.id"))
    assert set(facts.login_users) | set(facts.mail_users) | set(facts.mapped_users) | {"jmartin"} == set(users)
    assert users["m.durand"] == "dsi-givors@demo.mutualis.test"
    assert (
        one(url, "SELECT COUNT(*) FROM glpi_tickets_users WHERE users_id = 7 AND type = 1")
        == len(facts.jmartin_tickets)
        > 0
    )


def test_it_writes_paris_local_times_through_the_changes_of_time(glpi_sample):
    url, facts = glpi_sample.url, glpi_sample.facts
    spring = query(
        url,
        "SELECT date, takeintoaccountdate, solvedate, solve_delay_stat FROM glpi_tickets WHERE id = %s",
        facts.dst_spring,
    )[0]
    autumn = query(url, "SELECT date, solvedate, solve_delay_stat FROM glpi_tickets WHERE id = %s", facts.dst_autumn)[0]

    assert spring[:3] == (
        dt.datetime(2024, 3, 31, 1, 50),
        dt.datetime(2024, 3, 31, 1, 55),
        dt.datetime(2024, 3, 31, 3, 20),
    )
    assert spring[3] == 30 * 60  # PHP counts the real time: the clocks skipped an hour
    assert autumn[:2] == (dt.datetime(2024, 10, 27, 2, 30), dt.datetime(2024, 10, 27, 3, 40))
    assert autumn[2] == 130 * 60  # 02:30 in summer time, 03:40 in winter time
    # no other time falls in the hour that did not exist
    gap = (dt.datetime(2024, 3, 31, 2), dt.datetime(2024, 3, 31, 3))
    for table, column in (("glpi_tickets", "date_mod"), ("glpi_itilfollowups", "date"), ("glpi_tickettasks", "date")):
        assert one(url, f"SELECT COUNT(*) FROM {table} WHERE {column} >= %s AND {column} < %s", *gap) == 0


def test_it_writes_utc_instants_in_timestamp_columns_when_time_zones_are_on(glpi_sample, glpi_sample_tz):
    types = (
        "SELECT DATA_TYPE FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s"
    )

    assert one(glpi_sample.url, types, "glpi_tickets", "date") == "datetime"
    assert one(glpi_sample_tz.url, types, "glpi_tickets", "date") == "timestamp"
    assert one(glpi_sample_tz.url, types, "glpi_itilfollowups", "date") == "timestamp"
    assert (
        one(glpi_sample_tz.url, "SELECT value FROM glpi_configs WHERE context = 'core' AND name = 'timezone'")
        == "Europe/Paris"
    )
    assert one(glpi_sample.url, "SELECT value FROM glpi_configs WHERE context = 'core' AND name = 'timezone'") is None
    # the same seed writes the same history: the local times of the one are the instants of the other
    local = query(glpi_sample.url, "SELECT id, date, solvedate FROM glpi_tickets ORDER BY id")
    instants = query(glpi_sample_tz.url, "SELECT id, date, solvedate FROM glpi_tickets ORDER BY id", utc=True)

    def utc(value):
        return value and value.replace(tzinfo=PARIS).astimezone(dt.UTC).replace(tzinfo=None)

    assert [(i, utc(d), utc(s)) for i, d, s in local] == instants
    assert glpi_sample_tz.facts.tickets_per_month == glpi_sample.facts.tickets_per_month
    spring = query(
        glpi_sample_tz.url, "SELECT date FROM glpi_tickets WHERE id = %s", glpi_sample_tz.facts.dst_spring, utc=True
    )
    assert spring == [(dt.datetime(2024, 3, 31, 0, 50),)]  # 01:50 in winter time


def test_it_stores_files_in_glpis_layout_one_missing_one_changed(glpi_sample):
    url, facts, files = glpi_sample.url, glpi_sample.facts, glpi_sample.documents_dir
    documents = query(url, "SELECT id, filepath, sha1sum FROM glpi_documents")

    assert len(documents) == len(facts.document_files) > 5
    for number, path, sha1 in documents:
        assert re.fullmatch(r"([A-Z]+)/[0-9a-f]{2}/[0-9a-f]{38}\.\1", path)
        assert path == f"{path.split('/')[0]}/{sha1[:2]}/{sha1[2:]}.{path.split('/')[0]}"
        target = files / path
        if number == facts.document_missing:
            assert not target.exists()
        elif number == facts.document_bad_sha1:
            assert hashlib.sha1(target.read_bytes()).hexdigest() != sha1
        else:
            assert hashlib.sha1(target.read_bytes()).hexdigest() == sha1
    # one document on two tickets, one on a followup
    assert sorted(
        row[0]
        for row in query(
            url,
            "SELECT items_id FROM glpi_documents_items WHERE itemtype = 'Ticket' AND documents_id = %s",
            facts.document_two_tickets,
        )
    ) == sorted(facts.document_two_tickets_on)
    on_followup = query(
        url,
        "SELECT f.items_id FROM glpi_documents_items i JOIN glpi_itilfollowups f ON f.id = i.items_id"
        " WHERE i.itemtype = 'ITILFollowup' AND i.documents_id = %s",
        facts.document_on_followup,
    )
    assert on_followup == [(facts.followup_with_document,)]


def test_it_writes_the_same_history_for_the_same_seed(glpi_sample, glpi_server, tmp_path):
    name = f"glpi_again_{os.getpid()}"
    again = history.create_database(glpi_server, name, replace=True)
    try:
        history.load_schema(again)
        facts = history.generate(again, tickets=200, documents_dir=tmp_path / "again")

        assert facts == glpi_sample.facts
        for table in ("glpi_tickets", "glpi_itilfollowups", "glpi_tickettasks", "glpi_documents"):
            assert (
                query(again, f"CHECKSUM TABLE {table}")[0][1] == query(glpi_sample.url, f"CHECKSUM TABLE {table}")[0][1]
            )
    finally:
        history.drop_database(glpi_server, name)


def test_it_refuses_too_few_tickets_for_the_traps(glpi_db):
    with pytest.raises(ValueError, match="at least"):
        history.generate(glpi_db, tickets=20)
