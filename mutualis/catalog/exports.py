"""The deployment matrix as rows: `domaine,application,<member slugs in name order>,total`."""

from __future__ import annotations

from mutualis.catalog.selectors import Matrix


def matrix_header(matrix: Matrix) -> list[str]:
    return ["domaine", "application", *[m.slug for m in matrix.members], "total"]


def matrix_rows(matrix: Matrix) -> list[list[str | int]]:
    return [
        [domain.name, row.application.name, *["oui" if c else "" for c in row.cells], row.total]
        for domain, row in matrix.rows()
    ]


def matrix_json(matrix: Matrix) -> dict[str, object]:
    return {
        "members": [{"slug": m.slug, "name": m.name} for m in matrix.members],
        "statuses": list(matrix.statuses),
        "rows": [
            {
                "domain": domain.name,
                "application": row.application.name,
                "slug": row.application.slug,
                "members": [m.slug for m, c in zip(matrix.members, row.cells, strict=True) if c],
                "total": row.total,
                "attribution_incomplete": row.application.attribution_incomplete,
            }
            for domain, row in matrix.rows()
        ],
        "column_totals": dict(zip([m.slug for m in matrix.members], matrix.column_totals, strict=True)),
        "total": matrix.total,
    }
