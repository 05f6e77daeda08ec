"""Gunicorn settings of a Mutualis app server (deploy/systemd/mutualis-web@.service, on the socket
that mutualis-web@.socket holds).

Read by the gunicorn master before it forks its workers. Tunables come from the environment
(the unit's EnvironmentFile), so one file serves every machine; docs/operations.md explains them.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile

wsgi_app = "config.wsgi:application"
# Under systemd gunicorn answers on the socket mutualis-web@<port>.socket hands it (LISTEN_FDS),
# and this is ignored; a manual run listens here: loopback, never a public address.
bind = ["127.0.0.1:8001"]

# Synchronous workers: Django's views are synchronous and nginx buffers slow clients, so a worker
# is never held by a slow network. Two per core plus one keeps the cores busy while some wait on
# PostgreSQL.
worker_class = "sync"
workers = int(os.environ.get("MUTUALIS_WEB_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
# A request running longer than this is killed (its worker replaced) and nginx answers 502.
timeout = int(os.environ.get("MUTUALIS_WEB_TIMEOUT") or 60)
# On TERM (systemctl stop/restart), requests in progress get this long to finish.
graceful_timeout = 30
# Workers are replaced after about this many requests, one at a time, which bounds any slow leak.
max_requests = 2000
max_requests_jitter = 200

# Logs go to the journal (stdout/stderr of the unit). The access log gives each request's time in
# microseconds (%(D)s) and the client address nginx saw (X-Forwarded-For), not nginx's own.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(D)sus "%(f)s" "%(a)s"'
# Only nginx on this machine talks to gunicorn; X-Forwarded-* from it are believed by Django's
# own settings (MUTUALIS_REVERSE_PROXY_COUNT), not by gunicorn.
forwarded_allow_ips = "127.0.0.1,::1"
proc_name = "mutualis-web"

# gunicornc's control socket (`gunicornc -s /run/mutualis-web-8001/gunicorn.ctl status`) in the
# app server's own runtime folder, which systemd names in RUNTIME_DIRECTORY: the default, one path
# under $HOME, would be shared by every app server of the machine. No runtime folder: none.
if os.environ.get("RUNTIME_DIRECTORY"):
    control_socket = os.path.join(os.environ["RUNTIME_DIRECTORY"].split(":")[0], "gunicorn.ctl")
else:
    control_socket_disable = True

# Prometheus counters of every worker are kept in one folder and summed at scrape time
# (prometheus_client's multiprocess mode, mutualis/core/metrics.py). The unit gives each app server
# its own folder under /run; a manual run gets a fresh temporary one. Set here, in the master,
# before anything imports the client library, which reads the variable at import.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mutualis-prometheus-")

from mutualis.core.metrics import gunicorn_child_exit, gunicorn_on_starting  # noqa: E402

# The master empties the folder at start (counters of a previous run would be added to this one's);
# a worker that exits (recycled, killed) has its live gauges forgotten.
on_starting = gunicorn_on_starting
child_exit = gunicorn_child_exit
