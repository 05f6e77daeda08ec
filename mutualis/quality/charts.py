"""Small SVG charts rendered on the server with matplotlib (Agg, text kept as text).

Each function returns the <svg> element alone; the page puts it in a <figure> with its caption
and the data table next to it, so the picture is never the only way to read the figures.

A chart is a pure function of its arguments (the salt above makes the bytes repeatable), so each
is kept in Django's cache under a digest of them: drawing the dashboard's three charts took about
0.55 s of the page's 0.7 s on PostgreSQL with the demo's two years of tickets (bench.scale, where
the page missed its 300 ms at p95 under 50 users), and the same figures are asked for again and
again until a ticket moves them. New figures are a new key; nothing needs dropping."""

from __future__ import annotations

import functools
import hashlib
import io
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib
from django.core import signing

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, scalable, light
matplotlib.rcParams["svg.hashsalt"] = "mutualis"  # same figures, same bytes (archived reports)
matplotlib.rcParams["font.size"] = 8

from matplotlib.figure import Figure  # noqa: E402 (after the backend is chosen)

BLUE, ORANGE, GREY, RED = "#000091", "#c9541a", "#666666", "#ce0500"
SIZE = (6.4, 2.4)
CACHE_SECONDS = 24 * 3600
# Part of the cache key: bump it when a chart's drawing changes, so a deploy never serves the old one.
DRAWING_VERSION = 1


_DRAWINGS: dict[str, Callable[..., str]] = {}


def _digest(arguments: Mapping[str, Any]) -> str:
    # default=str: lazily translated labels become the text of the active language.
    return hashlib.sha256(json.dumps(arguments, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def _key(name: str, digest: str) -> str:
    return f"quality:chart:{name}:v{DRAWING_VERSION}:{matplotlib.__version__}:{digest}"


def _cached(draw: Callable[..., str]) -> Callable[..., str]:
    """The chart from the cache when the same arguments were drawn before, else drawn and kept."""
    _DRAWINGS[draw.__name__] = draw

    @functools.wraps(draw)
    def cached(**arguments: Any) -> str:
        from django.core.cache import cache

        key = _key(draw.__name__, _digest(arguments))
        svg: str | None = cache.get(key)
        if svg is None:
            svg = draw(**arguments)
            cache.set(key, svg, CACHE_SECONDS)
        return svg

    return cached


# The pages show their charts as <img> fetched on their own (quality:chart), so a page answers
# with its figures and tables without waiting for matplotlib: a chart costs about 80 ms of CPU
# to draw, and bench.scale's 50 users asking for 24 different months made the dashboard miss its
# 300 ms p95 (420 ms on a quiet machine) while its figures took 130 ms. The chart's URL carries
# its arguments, signed with the scope of who asked (the operator, or one member), so any app
# server can draw it whatever cache it has, and nobody else can have it drawn; the drawing is
# kept in the cache under the arguments' digest like the inline ones.
SALT = "mutualis.quality.chart"


def chart_deferred(name: str, *, scope: str, **arguments: Any) -> str:
    """A signed token naming `name`'s chart of these arguments, for `scope` only."""
    if name not in _DRAWINGS:
        raise KeyError(name)
    # Plain JSON values: lazy labels become text now, in the language of the page.
    plain = json.loads(json.dumps(arguments, default=str, ensure_ascii=False))
    return signing.Signer(salt=SALT).sign_object({"n": name, "s": scope, "a": plain}, compress=True)


def chart_fetch(name: str, token: str, *, scope: str) -> str | None:
    """The chart a page of `scope` deferred as `token`, from the cache or drawn now; None for a
    token that is forged, altered or another scope's."""
    try:
        signed = signing.Signer(salt=SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    draw = _DRAWINGS.get(name)
    if draw is None or signed.get("n") != name or signed.get("s") != scope:
        return None
    return _cached(draw)(**signed["a"])


def _svg(figure: Figure, label: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    from django.utils.html import escape

    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)


def _frame(axes) -> None:  # type: ignore[no-untyped-def]
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)


@_cached
def volume_chart(
    *,
    labels: Sequence[str],
    opened: Sequence[float],
    solved: Sequence[float],
    peak: int | None,
    reference: Sequence[float] | None = None,
    reference_label: str = "",
    label: str,
    opened_label: str,
    solved_label: str,
    peak_label: str,
) -> str:
    """Opened as bars, solved as a line, the peak month's bar in another colour and annotated."""
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    positions = list(range(len(labels)))
    colours = [ORANGE if i == peak else BLUE for i in positions]
    axes.bar(positions, opened, color=colours, width=0.6, label=opened_label)
    axes.plot(positions, solved, color=GREY, marker="o", markersize=3, linewidth=1.2, label=solved_label)
    if reference is not None:
        axes.plot(positions, reference, color=RED, linestyle="--", linewidth=1, label=reference_label)
    if peak is not None and opened:
        axes.annotate(
            f"{peak_label} : {opened[peak]:g}",
            xy=(peak, opened[peak]),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize=7,
            color=ORANGE,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )
        highest = max([opened[peak], *solved, *(reference or [])])
        axes.set_ylim(top=highest * 1.18 or 1)
    axes.set_xticks(positions, list(labels))
    _frame(axes)
    axes.legend(loc="upper left", fontsize=7, frameon=False, ncols=3, bbox_to_anchor=(0, -0.12))
    return _svg(figure, label)


@_cached
def rate_chart(
    *,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    label: str,
) -> str:
    """Percentages (0–100) per month, one line per series; a month with nothing measured is a gap."""
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    positions = list(range(len(labels)))
    for (name, values), colour in zip(series.items(), (BLUE, ORANGE, RED, GREY), strict=False):
        axes.plot(
            positions,
            [float("nan") if v is None else v for v in values],
            color=colour,
            marker="o",
            markersize=3,
            linewidth=1.2,
            label=name,
        )
    axes.set_ylim(0, 105)
    axes.set_xticks(positions, list(labels))
    _frame(axes)
    axes.legend(loc="upper left", fontsize=7, frameon=False, ncols=3, bbox_to_anchor=(0, -0.12))
    return _svg(figure, label)


@_cached
def bar_chart(*, labels: Sequence[str], values: Sequence[float], label: str) -> str:
    """Horizontal bars, largest on top (top applications)."""
    figure = Figure(figsize=(6.4, 0.3 * max(len(labels), 3) + 0.4))
    axes = figure.subplots()
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color=BLUE, height=0.6)
    axes.set_yticks(positions, list(labels))
    for y, value in zip(positions, values, strict=True):
        axes.annotate(f"{value:g}", xy=(value, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    return _svg(figure, label)
