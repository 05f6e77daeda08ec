"""Reference data in Django's cache: loaded once per generation, reloaded everywhere after a
change, including by a process that read the rows while the change was being committed."""

from __future__ import annotations

from mutualis.core.reference_data import ReferenceData


def test_it_loads_once_per_generation(db):
    loads: list[int] = []
    data = ReferenceData("test:once", lambda: loads.append(1) or (len(loads),))
    assert data.get() == data.get() == (1,)
    data.changed()
    assert data.get() == (2,)
    assert len(loads) == 2


def test_a_value_read_before_the_commit_does_not_outlive_it(django_capture_on_commit_callbacks, db):
    rows = ["before"]
    writer = ReferenceData("test:race", lambda: tuple(rows))
    other = ReferenceData("test:race", lambda: tuple(rows))  # another process, the same cache
    assert other.get() == ("before",)
    with django_capture_on_commit_callbacks(execute=True):
        writer.changed()
        # Another process reloads now, from the rows it sees: not yet the change.
        seen_meanwhile = ReferenceData("test:race", lambda: ("before",)).get()
        rows[0] = "after"
    assert seen_meanwhile == ("before",)
    assert other.get() == writer.get() == ("after",)
