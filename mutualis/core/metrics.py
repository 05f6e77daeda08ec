"""Prometheus metrics: what the requests did (counted and timed by `RequestMetricsMiddleware`)
and what the database says when Prometheus scrapes `/metriques/` (queue depth, failed jobs,
mail, the scheduler), read by the collectors the apps register here.

Under gunicorn each worker is a process with its own counters. With `PROMETHEUS_MULTIPROC_DIR`
set (before the process starts: prometheus_client picks its storage on import), every worker
writes its counters to files in that folder and a scrape, whichever worker answers it, adds them
up; `gunicorn_on_starting` and `gunicorn_child_exit` are gunicorn's hooks. Without it (runserver, tests, the
embedded mode) the counters live in the process.

This module reads no model at import time: gunicorn's master imports it for the hook before
Django is set up.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

logger = logging.getLogger("mutualis.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# No `*_created` series: the multiprocess mode cannot give them, and the in-process mode should read
# the same.
disable_created_metrics()

# Bounded label values: a client sends any method it likes, and every distinct value would be a
# new series kept for ever.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The p95 target of issue 13 (300 ms) is a bucket edge, so the alert reads it without interpolating
# across it.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# What a request that matched no route is labelled with (a 404, or refused before routing).
UNMATCHED = "(none)"
STATIC = "(static)"

# The in-process registry: scraped as is without PROMETHEUS_MULTIPROC_DIR; with it, the files
# the metrics below write are read instead, and this registry is never scraped.
_process_registry = CollectorRegistry(auto_describe=True)

http_requests = Counter(
    "mutualis_http_requests",
    "Requests answered, by method, route (the URL pattern, never the raw path) and status class.",
    ["method", "route", "status"],
    registry=_process_registry,
)
http_request_duration = Histogram(
    "mutualis_http_request_duration_seconds",
    "Time from the request entering Django to its answer leaving it, by route.",
    ["route"],
    buckets=LATENCY_BUCKETS,
    registry=_process_registry,
)

# name -> a function yielding metric families, called at each scrape (see `collector_register`).
_collectors: dict[str, Callable[[], Iterable[Metric]]] = {}


def multiprocess_dir() -> str | None:
    """The folder the workers share their counters through, None when each process keeps its own."""
    return os.environ.get(MULTIPROC_ENV) or None


def gunicorn_on_starting(server: Any) -> None:
    """gunicorn's `on_starting` hook (the master, before any worker): create the folder, or empty
    it of the files a previous run of this service left, whose counters would otherwise be added
    to the new run's. One folder per gunicorn service: two services sharing one would empty each
    other's."""
    directory = multiprocess_dir()
    if directory is None:
        return
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def gunicorn_child_exit(server: Any, worker: Any) -> None:
    """gunicorn's `child_exit` hook: forget the live gauges of a worker that exited.

    Its counters stay in the folder on purpose: a worker recycled (`max_requests`) or killed must not
    make the totals go back. The folder itself is emptied when the service starts
    (`gunicorn_on_starting`), before the first worker writes to it."""
    directory = multiprocess_dir()
    if directory is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, directory)


def collector_register(name: str, collect: Callable[[], Iterable[Metric]]) -> None:
    """Have `collect()` called at each scrape; it yields metric families (prometheus_client's
    `GaugeMetricFamily`, `CounterMetricFamily`) read from the database, in a constant number of
    queries whatever the data. An app above core registers from its AppConfig.ready; registering
    a name again replaces it (ready() may run twice in tests)."""
    _collectors[name] = collect


class _Registered:
    """The registered collectors, in name order, as one prometheus_client collector. A collector
    that fails (the database away) is left out of the scrape and said so in
    `mutualis_collector_up`: the request counters, which need no database, still answer, so the
    5xx rate of an outage is seen."""

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "mutualis_collector_up",
            "1 when the collector read its figures at this scrape, 0 when it failed (see the log).",
            labels=["collector"],
        )
        # Every collector reads the database: when it cannot be reached, one connection attempt
        # (bounded by the connect timeout) answers for all of them, not one each.
        reachable = _database_reachable()
        for name in sorted(_collectors):
            if not reachable:
                up.add_metric([name], 0)
                continue
            try:
                families = list(_collectors[name]())
            except Exception:
                logger.warning("metrics: the %s collector failed", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


def _database_reachable() -> bool:
    from django.db import connection

    try:
        connection.ensure_connection()
    except Exception:
        logger.warning("metrics: the database cannot be reached", exc_info=True)
        return False
    return True


def exposition() -> tuple[bytes, str]:
    """The metrics as Prometheus' text format, and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory is not None:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_process_registry)
    registry.register(_Registered())
    return generate_latest(registry), CONTENT_TYPE_LATEST


_STATUS_CLASS = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


def route_label(request: HttpRequest) -> str:
    """The URL pattern the request matched (`assistance/<int:pk>/`), so a million tickets make one
    series; requests answered before routing (static files, a refused body) or that matched no
    route get a fixed label."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.route or match.view_name or UNMATCHED
    from django.conf import settings

    static = "/" + settings.STATIC_URL.lstrip("/")
    if request.path.startswith(static):
        return STATIC
    return UNMATCHED


class RequestMetricsMiddleware:
    """Counts and times every answer (first in MIDDLEWARE, so the refusals of the middleware below it
    count too): `mutualis_http_requests_total` and `mutualis_http_request_duration_seconds`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_label(request)
        method = request.method if request.method in METHODS else "other"
        status = _STATUS_CLASS.get(response.status_code // 100, "other")
        http_requests.labels(method=method, route=route, status=status).inc()
        http_request_duration.labels(route=route).observe(elapsed)
        return response
