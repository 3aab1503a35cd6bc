"""Prometheus metrics (prometheus-client): requests, latency, searches, ingested articles, and the index's state.

With several worker processes, prometheus-client's multiprocess mode: each process writes its counts
to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. prometheus-client reads that variable
when it is imported, so this module imports it only when an app is made: ``prepare_multiprocess``
goes before that, in the process that forks the workers.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask, Response, current_app, request

from indexer.errors import VnsearchError
from indexer.status import last_commit

from ..stores import store_pool
from .access_log import elapsed

__all__ = ["MULTIPROC_ENV", "count_ingested", "count_search", "prepare_multiprocess", "register"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
EXTENSION = "vnsearch_metrics"
UNMATCHED = "unmatched"  # the route label of a request no route took (bounded: not its path)


def prepare_multiprocess(directory: str | Path | None = None) -> Path:
    """Before the app is made and its workers fork: the directory of multiprocess mode, ``directory``
    or $PROMETHEUS_MULTIPROC_DIR or a new temporary one (removed when this process exits), emptied
    of an earlier run's files and set in the environment for the workers."""
    if "prometheus_client" in sys.modules and MULTIPROC_ENV not in os.environ:
        raise RuntimeError("prepare_multiprocess() must run before the app is made (prometheus_client is imported)")
    given = directory or os.environ.get(MULTIPROC_ENV)
    path = Path(given or tempfile.mkdtemp(prefix="vnsearch-metrics-"))
    if not given:
        atexit.register(_remove_made_dir, path, os.getpid())
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # counts of an earlier run would add to this one's
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def _remove_made_dir(path: Path, maker: int) -> None:
    if os.getpid() == maker:  # a worker that exits normally must not take the others' counts with it
        shutil.rmtree(path, ignore_errors=True)


class _Metrics:
    """One app's metrics (in a registry of its own, or in the multiprocess files)."""

    def __init__(self, app: Flask):
        from prometheus_client import (  # noqa: PLC0415 - see the module's doc
            CollectorRegistry, Counter, Histogram, disable_created_metrics,
        )

        disable_created_metrics()  # no *_created series: a restart shows as counters starting again
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.pid = os.getpid()
        self.registry = None if self.multiprocess else CollectorRegistry()
        r = self.registry
        self.requests = Counter("vnsearch_http_requests", "HTTP requests by route and status.",
                                ["route", "status"], registry=r)
        self.latency = Histogram("vnsearch_http_request_duration_seconds", "Time to answer a request, by route.",
                                 ["route"], registry=r)
        self.searches = Counter("vnsearch_searches", "Searches run (page and API).", registry=r)
        self.zero = Counter("vnsearch_searches_zero_results", "Searches that found no article.", registry=r)
        self.ingested = Counter("vnsearch_ingested_articles", "Articles written over HTTP, by outcome.",
                                ["outcome"], registry=r)
        self.index = _IndexCollector(app)
        if r is not None:
            r.register(self.index)

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest  # noqa: PLC0415
        from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415

        registry = self.registry
        if registry is not None and os.getpid() != self.pid:
            current_app.logger.error("/metrics counts this worker process only: prepare_multiprocess() was not called "
                          "before the app was made and its workers forked")
        if registry is None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            registry.register(self.index)
        return generate_latest(registry), CONTENT_TYPE_LATEST


class _IndexCollector:
    """The index as it is on disk when scraped: articles, seconds since the last commit, up or not."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily  # noqa: PLC0415

        up = GaugeMetricFamily("vnsearch_index_up", "1 when the index opens, else 0.")
        try:
            with store_pool(self.app).store() as store:
                articles, committed = len(store), last_commit(store)
        except VnsearchError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("vnsearch_index_articles", "Articles in the index.", value=articles)
        if committed is not None:
            age = max(0.0, time.time() - committed.timestamp())
            yield GaugeMetricFamily("vnsearch_index_last_commit_age_seconds",
                                    "Seconds since the index's last commit.", value=age)


def register(app: Flask) -> None:
    """Count every request of ``app`` and serve GET /metrics."""
    app.extensions[EXTENSION] = _Metrics(app)
    app.after_request(_count_request)
    app.add_url_rule("/metrics", "metrics", _metrics_page, methods=["GET"])


def _metrics() -> _Metrics:
    return current_app.extensions[EXTENSION]


def _count_request(response: Response) -> Response:
    m = _metrics()
    route = request.url_rule.rule if request.url_rule else UNMATCHED
    m.requests.labels(route, str(response.status_code)).inc()
    m.latency.labels(route).observe(elapsed())
    return response


def count_search(total: int) -> None:
    m = _metrics()
    m.searches.inc()
    if total == 0:
        m.zero.inc()


def count_ingested(counts: dict[str, int]) -> None:
    m = _metrics()
    for outcome, n in counts.items():
        if n:
            m.ingested.labels(outcome).inc(n)


def _metrics_page():
    body, content_type = _metrics().exposition()
    return Response(body, content_type=content_type)
