"""Bring the production set-up of deploy/ up on this machine, from the shipped files, without systemd.

    python deploy/local_up.py up --dir DIR --port NGINX_PORT --database-url URL
        [--cache-url URL] [--app-servers N] [--workers M] [--no-scheduler]
        [--app-port FIRST] [--tls] [--env KEY=VALUE ...]
    python deploy/local_up.py down --dir DIR

`up` reads the systemd units of deploy/systemd/ (ExecStart, Environment, EnvironmentFile,
RuntimeDirectory, KillSignal, TimeoutStopSec), deploy/mutualis.env.example and the nginx site
deploy/nginx/mutualis.conf, maps the production paths (/opt/mutualis, /etc/mutualis,
/var/lib/mutualis, /run) into DIR, and runs what systemd would: mutualis-migrate.service (migrate,
collectstatic), N app servers (mutualis-web@PORT), M workers (mutualis-worker@N), the scheduler,
and nginx with its own prefix and configuration (Debian's nginx; /etc/nginx is only read for
mime.types). Each process runs in its own process group, its output in DIR/logs/. `up` waits until
/sante/ answers through nginx, writes DIR/state.json (pids, ports, base URL) and prints the base URL,
leaving a supervisor behind that restarts a service that dies as its unit's Restart=, RestartSec=
and start limits say. `down` stops the supervisor, then everything the way systemd would:
KillSignal to the main process, then SIGKILL to its group after TimeoutStopSec.

Standard library only: run it with the virtualenv's python (its bin/ holds gunicorn and mutualis).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
REPO = DEPLOY.parent
UNITS = DEPLOY / "systemd"
SITE = DEPLOY / "nginx" / "mutualis.conf"
PROXY_PARAMS = DEPLOY / "nginx" / "mutualis-proxy.conf"
ENV_EXAMPLE = DEPLOY / "mutualis.env.example"
READY_TIMEOUT = 90.0


_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"local_up [{time.monotonic() - _STARTED:5.1f} s]: {message}", file=sys.stderr, flush=True)


class Failure(Exception):
    """Something stopped `up`; the message says what and where to look."""


# --- systemd unit files ------------------------------------------------------------------------
@dataclass
class Unit:
    """The parts of a [Service] section this script honours, specifiers already expanded."""

    name: str
    exec_start: list[list[str]]
    environment: dict[str, str]
    environment_files: list[Path]
    working_directory: Path | None
    runtime_directories: list[Path]
    file_name: str = ""
    instance: str = ""
    kill_signal: str = "SIGTERM"
    timeout_stop: float = 90.0
    # systemd's defaults: no restart; 100 ms before one; at most 5 starts in 10 s.
    restart: str = "no"
    restart_sec: float = 0.1
    start_limit_interval: float = 10.0
    start_limit_burst: int = 5
    # The .socket units it takes its listening sockets from (Requires=…socket), expanded.
    sockets: list[str] = field(default_factory=list)


def parse_unit_file(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file: {section: [(key, value), …]}, keys repeated as written."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        while line.endswith("\\") and index < len(lines):  # continuation lines
            line = line[:-1] + " " + lines[index].strip()
            index += 1
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        if current is None or "=" not in line:
            raise Failure(f"{path}: cannot read line {line!r}")
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def parse_timespan(text: str) -> float:
    """systemd time spans: `300`, `40s`, `2min`, `1min 30s`, `infinity`."""
    if text == "infinity":
        return float("inf")
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "ms": 0.001}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text):
        if unit not in units:
            raise Failure(f"time span {text!r}: unknown unit {unit!r}")
        total += float(number) * units[unit]
    return total


@dataclass
class Layout:
    """Where the production paths of the units and the env file land in DIR."""

    dir: Path
    venv: Path
    replacements: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.replacements = {
            "/opt/mutualis/venv": str(self.venv),
            "/opt/mutualis/app": str(REPO),
            "/opt/mutualis/static": str(self.dir / "static"),
            "/etc/mutualis/mutualis.env": str(self.env_file),
            "/var/lib/mutualis": str(self.dir / "var"),
        }

    @property
    def env_file(self) -> Path:
        return self.dir / "mutualis.env"

    def path(self, text: str) -> str:
        for production, local in self.replacements.items():
            text = text.replace(production, local)
        return text

    def specifiers(self, text: str, instance: str) -> str:
        """systemd's specifiers the units use; %t (runtime), %C (cache) and %S (state) map into DIR."""
        values = {
            "i": instance,
            "I": instance,
            "t": str(self.dir / "run"),
            "C": str(self.dir / "cache"),
            "S": str(self.dir / "var"),
            "H": socket.gethostname(),
            "%": "%",
        }

        def expand(match: re.Match[str]) -> str:
            letter = match.group(1)
            if letter not in values:
                raise Failure(f"unit specifier %{letter} is not supported by local_up")
            return values[letter]

        return re.sub(r"%(.)", expand, text)


def load_unit(layout: Layout, file_name: str, instance: str = "") -> Unit:
    path = UNITS / file_name
    sections = parse_unit_file(path)
    entries = sections.get("Service", [])

    def expand(value: str) -> str:
        return layout.path(layout.specifiers(value, instance))

    exec_start: list[list[str]] = []
    environment: dict[str, str] = {}
    environment_files: list[Path] = []
    runtime: list[Path] = []
    unit = Unit(
        name=file_name.replace("@.", f"@{instance}.") if instance else file_name,
        exec_start=exec_start,
        environment=environment,
        environment_files=environment_files,
        working_directory=None,
        runtime_directories=runtime,
        file_name=file_name,
        instance=instance,
    )
    for key, value in sections.get("Unit", []):
        if key in {"Requires", "Sockets"}:
            unit.sockets += [name for name in layout.specifiers(value, instance).split() if name.endswith(".socket")]
        elif key == "StartLimitIntervalSec":
            unit.start_limit_interval = parse_timespan(value)
        elif key == "StartLimitBurst":
            unit.start_limit_burst = int(value)
    for key, value in entries:
        if key == "ExecStart":
            argv = shlex.split(expand(value))
            argv[0] = argv[0].lstrip("-@+!:")  # systemd's prefixes (ignore failure, privileges…)
            exec_start.append(argv)
        elif key == "Environment":
            for assignment in shlex.split(layout.specifiers(value, instance)):
                name, _, assigned = assignment.partition("=")
                environment[name] = layout.path(assigned)
        elif key == "EnvironmentFile":
            optional = value.startswith("-")
            file = Path(expand(value.lstrip("-")))
            if file.exists() or not optional:
                environment_files.append(file)
        elif key == "WorkingDirectory":
            unit.working_directory = Path(expand(value))
        elif key == "RuntimeDirectory":
            runtime.extend(layout.dir / "run" / part for part in expand(value).split())
        elif key == "KillSignal":
            unit.kill_signal = value
        elif key == "TimeoutStopSec":
            unit.timeout_stop = parse_timespan(value)
        elif key == "Restart":
            unit.restart = value
        elif key == "RestartSec":
            unit.restart_sec = parse_timespan(value)
    if not exec_start:
        raise Failure(f"{path}: no ExecStart")
    return unit


def socket_addresses(layout: Layout, name: str) -> list[tuple[str, int, int]]:
    """The ListenStream= addresses of a .socket unit (`mutualis-web@8350.socket`) with its Backlog=:
    [(host, port, backlog)]. A bare port listens on loopback here (this machine only)."""
    file_name, instance = name, ""
    match = re.fullmatch(r"(.+)@(.*)\.socket", name)
    if match:
        file_name, instance = f"{match.group(1)}@.socket", match.group(2)
    entries = parse_unit_file(UNITS / file_name).get("Socket", [])
    backlog = next((int(value) for key, value in entries if key == "Backlog"), 4096)
    addresses = []
    for key, value in entries:
        if key == "ListenStream" and value:
            host, _, port = layout.specifiers(value, instance).rpartition(":")
            addresses.append((host.strip("[]") or "127.0.0.1", int(port), backlog))
    if not addresses:
        raise Failure(f"{file_name}: no ListenStream")
    return addresses


def listen(host: str, port: int, backlog: int) -> socket.socket:
    """What systemd does for a .socket unit: bind and listen before any service starts; the socket
    then outlives the service's restarts (connections wait in its queue)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise Failure(f"cannot listen on {host}:{port}: {error}") from None
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


# systemd hands a service its sockets from fd 3 on, with LISTEN_FDS and LISTEN_PID (the service's
# own pid, known only once it runs): this trampoline puts them there, then becomes the service.
_SOCKET_TRAMPOLINE = (
    "import os, sys\n"
    "fds = [int(fd) for fd in sys.argv[1].split(',')]\n"
    "for target, fd in enumerate(fds, start=3):\n"
    "    os.dup2(fd, target)\n"
    "os.environ['LISTEN_FDS'] = str(len(fds))\n"
    "os.environ['LISTEN_PID'] = str(os.getpid())\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def expand_variables(argv: list[str], env: dict[str, str]) -> list[str]:
    """ExecStart's `${NAME}` (one word) and `$NAME` (split into words), from the service's environment."""
    expanded: list[str] = []
    for word in argv:
        whole = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if whole:
            expanded.extend(env.get(whole.group(1), "").split())
            continue
        expanded.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda match: env.get(match.group(1), ""), word))
    return expanded


def read_environment_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile syntax: KEY=value, `#`/`;` comments, optional quotes."""
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, separator, value = line.partition("=")
        if not separator:
            raise Failure(f"{path}: cannot read line {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def unit_environment(unit: Unit) -> dict[str, str]:
    """What systemd hands the service: a clean environment, Environment=, then the env files
    (which override Environment=, as systemd.exec says)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME", "/root"),
    }
    env.update(unit.environment)
    for file in unit.environment_files:
        env.update(read_environment_file(file))
    if unit.runtime_directories:  # as systemd tells a service where its runtime folders are
        env["RUNTIME_DIRECTORY"] = ":".join(str(folder) for folder in unit.runtime_directories)
    return env


# --- the env file ------------------------------------------------------------------------------
def render_env_file(layout: Layout, overrides: dict[str, str | None]) -> dict[str, str]:
    """The shipped example with this run's values: assignments it has are replaced in place (None:
    commented out, the default applies), the others appended; production paths mapped into DIR.
    Written 0600 like the real one."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    seen: set[str] = set()
    out: list[str] = []
    for line in lines:
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match and match.group(2) in overrides:
            name = match.group(2)
            value = overrides[name]
            if name not in seen:
                out.append(f"{name}={value}" if value is not None else f"# {name}=")
                seen.add(name)
            continue
        out.append(layout.path(line))
    extra = [f"{name}={value}" for name, value in overrides.items() if name not in seen and value is not None]
    if extra:
        out += ["", "# --- local_up: not in the example ---", *extra]
    layout.env_file.write_text("\n".join(out) + "\n")
    layout.env_file.chmod(0o600)
    return read_environment_file(layout.env_file)


# --- nginx ------------------------------------------------------------------------------------
def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (candidate for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(candidate, os.X_OK)),
        None,
    )


def render_site(values: dict[str, str]) -> str:
    text = SITE.read_text()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise Failure(f"{SITE}: no value for the marker {{{{ {name} }}}}")
        return values[name]

    # Markers in comments are documentation; only those in directives are filled.
    lines = []
    for line in text.splitlines():
        lines.append(line if line.lstrip().startswith("#") else re.sub(r"\{\{\s*([A-Z_]+)\s*\}\}", fill, line))
    rendered = "\n".join(lines) + "\n"
    return rendered


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made by openssl; clients trust it as a CA file."""
    certificate, key = folder / "certificate.pem", folder / "key.pem"
    if certificate.exists() and key.exists():
        return certificate, key
    openssl = shutil.which("openssl")
    if not openssl:
        raise Failure("openssl is absent: it makes the local TLS certificate (apt-get install openssl)")
    subprocess.run(  # noqa: S603 — fixed arguments
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "30", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(certificate),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)
    return certificate, key


NGINX_TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_main_config(layout: Layout, site: Path) -> str:
    """The top of nginx's configuration for a run of its own: everything under DIR/nginx (the
    folders are made here), in the foreground (this script tracks its pid), Debian's mime.types.
    As root, workers stay root so they can read DIR wherever it is (local runs only; the
    production site runs under Debian's www-data)."""
    root = layout.dir / "nginx"
    logs = layout.dir / "logs"
    for folder in (logs, *(root / "tmp" / kind for kind in NGINX_TEMP_KINDS)):
        folder.mkdir(parents=True, exist_ok=True)
    temp = "\n".join(f"    {kind}_temp_path {root / 'tmp' / kind};" for kind in NGINX_TEMP_KINDS)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    mime = "/etc/nginx/mime.types" if Path("/etc/nginx/mime.types").exists() else "mime.types"
    return f"""# Written by deploy/local_up.py for a local run; the site is deploy/nginx/mutualis.conf, rendered.
{user}daemon off;
worker_processes 2;
pid {root / "nginx.pid"};
error_log {logs / "nginx-error.log"} warn;
events {{
    worker_connections 1024;
}}
http {{
    include {mime};
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    log_format mutualis '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                        '$request_time upstream=$upstream_addr $upstream_status $upstream_response_time';
    access_log {logs / "nginx-access.log"} mutualis;
{temp}
    include {site};
}}
"""


# --- processes --------------------------------------------------------------------------------
def process_start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (field 22 of /proc/PID/stat), None if gone or a zombie:
    with the pid it identifies a process even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return fields[19]


def alive(entry: dict) -> bool:
    return process_start_time(entry["pid"]) == entry["start_time"]


def spawn(
    name: str,
    argv: list[str],
    env: dict[str, str],
    cwd: Path | None,
    logs: Path,
    unit: Unit | None,
    fds: tuple[int, ...] = (),
) -> tuple[dict, subprocess.Popen]:
    log_file = logs / f"{name}.log"
    if fds:
        argv = [sys.executable, "-c", _SOCKET_TRAMPOLINE, ",".join(map(str, fds)), *argv]
    with log_file.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 — the unit's own ExecStart
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, outliving this script
            pass_fds=fds,
        )
    start_time = None
    for _ in range(50):
        start_time = process_start_time(process.pid)
        if start_time:
            break
        time.sleep(0.01)
    return {
        "name": name,
        "pid": process.pid,
        "start_time": start_time,
        "argv": argv,
        "log": str(log_file),
        "kill_signal": unit.kill_signal if unit else "SIGQUIT",
        "timeout_stop": unit.timeout_stop if unit else 10.0,
        "unit": unit.file_name if unit else None,
        "instance": unit.instance if unit else "",
        "restart": unit.restart if unit else "no",
        "restart_sec": unit.restart_sec if unit else 0.0,
        "start_limit_interval": unit.start_limit_interval if unit else 0.0,
        "start_limit_burst": unit.start_limit_burst if unit else 0,
    }, process


def start_unit(
    unit: Unit, name: str, logs: Path, sockets: dict[str, list[int]] | None = None
) -> tuple[dict, subprocess.Popen]:
    """Start a service as systemd would: a fresh runtime folder, its environment, its ExecStart,
    and the listening sockets of the .socket units it requires (`sockets`: unit name → fds)."""
    for folder in unit.runtime_directories:
        shutil.rmtree(folder, ignore_errors=True)  # systemd hands a fresh one at each start
        folder.mkdir(parents=True, mode=0o700)
    (argv,) = unit.exec_start
    env = unit_environment(unit)
    fds = tuple(fd for socket_unit in unit.sockets for fd in (sockets or {})[socket_unit])
    entry, process = spawn(name, expand_variables(argv, env), env, unit.working_directory, logs, unit, fds)
    entry["sockets"] = unit.sockets
    return entry, process


def tail(path: str | Path, lines: int = 30) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, context: ssl.SSLContext | None, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": "mutualis-local-up"})  # noqa: S310 — http(s) built here
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def answered_by_app(url: str, context: ssl.SSLContext | None) -> bool:
    """/sante/ answered by Mutualis (200, or 503 when a check fails: the app is up either way); while
    /sante/ does not exist (404), a page of the app ("/", 200 or a redirect to sign in)."""
    try:
        status, headers, _body = http_get(url + "/sante/", context)
        if status in (200, 503) and "json" in headers.get("Content-Type", ""):
            return True
        if status == 404:
            status, _headers, _body = http_get(url + "/", context)
            return 200 <= status < 400
    except (OSError, urllib.error.URLError):
        return False
    return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


urllib.request.install_opener(urllib.request.build_opener(_NoRedirect))


# --- up and down ------------------------------------------------------------------------------
def state_path(directory: Path) -> Path:
    return directory / "state.json"


def write_state(directory: Path, state: dict) -> None:
    temporary = state_path(directory).with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n")
    temporary.replace(state_path(directory))


def up(args: argparse.Namespace) -> int:
    directory = Path(args.dir).resolve()
    if state_path(directory).exists():
        previous = json.loads(state_path(directory).read_text())
        if any(alive(entry) for entry in [*previous.get("processes", []), previous.get("supervisor") or {}] if entry):
            raise Failure(f"{directory} is already up (state.json); run `down --dir {directory}` first")
    nginx = find_nginx()
    if not nginx:
        raise Failure("nginx is absent (Debian: apt-get install -y nginx)")
    venv = Path(sys.prefix)
    if not (venv / "bin" / "gunicorn").exists():
        raise Failure(f"{venv / 'bin' / 'gunicorn'} is absent: run this script with the virtualenv's python")

    for sub in ("run", "cache", "var", "static", "logs", "nginx/tmp", "nginx/tls"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    layout = Layout(directory, venv)

    if not port_free(args.port):
        raise Failure(f"port {args.port} is taken")
    if args.app_port:
        app_ports = [args.app_port + index for index in range(args.app_servers)]
        taken = [port for port in app_ports if not port_free(port)]
        if taken:
            raise Failure(f"app server ports taken: {taken}")
    else:
        app_ports = []
        while len(app_ports) < args.app_servers:
            port = free_port()
            if port not in app_ports and port != args.port:
                app_ports.append(port)

    scheme = "https" if args.tls else "http"
    base_url = f"{scheme}://127.0.0.1:{args.port}"
    overrides: dict[str, str | None] = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": args.database_url,
        "MUTUALIS_BASE_URL": base_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": base_url,
        "MUTUALIS_SECURE_COOKIES": "true" if args.tls else "false",
        "EMAIL_URL": "console://",
        "DEFAULT_FROM_EMAIL": "mutualis@localhost",
        "MUTUALIS_METRICS_TOKEN": secrets.token_urlsafe(32),
        # The example's Redis URL stands for production; without --cache-url each process keeps its own.
        "CACHE_URL": args.cache_url or None,
    }
    for assignment in args.env:
        name, separator, value = assignment.partition("=")
        if not separator:
            raise Failure(f"--env {assignment!r}: expected KEY=VALUE")
        overrides[name] = value
    settings = render_env_file(layout, overrides)

    logs = directory / "logs"
    state: dict = {
        "base_url": base_url,
        "port": args.port,
        "tls": args.tls,
        "ca_file": None,
        "dir": str(directory),
        "env_file": str(layout.env_file),
        "database_url": args.database_url,
        "cache_url": args.cache_url,
        "metrics_token": settings.get("MUTUALIS_METRICS_TOKEN", ""),
        "nginx": None,
        "app_servers": [],
        "workers": [],
        "scheduler": None,
        "processes": [],
    }
    write_state(directory, state)

    # Migrations and static files, as `systemctl start mutualis-migrate` would.
    migrate = load_unit(layout, "mutualis-migrate.service")
    migrate_env = unit_environment(migrate)
    for argv in (expand_variables(line, migrate_env) for line in migrate.exec_start):
        log("running " + " ".join(argv[-3:]))
        done = subprocess.run(  # noqa: S603 — the unit's own ExecStart
            argv,
            env=migrate_env,
            cwd=migrate.working_directory,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        with (logs / "migrate.log").open("a") as output:
            output.write(done.stdout + done.stderr)
        if done.returncode:
            raise Failure(f"{' '.join(argv)} failed:\n{(done.stdout + done.stderr)[-3000:]}")

    # The .socket units first, as systemd does: the app servers' ports listen from now on, held by
    # this script and then by the supervisor, so they stay open while an app server restarts.
    listening: list[socket.socket] = []
    sockets: dict[str, list[int]] = {}
    web_units = {port: load_unit(layout, "mutualis-web@.service", str(port)) for port in app_ports}
    for unit in web_units.values():
        for name in unit.sockets:
            opened = [listen(host, port, backlog) for host, port, backlog in socket_addresses(layout, name)]
            listening += opened
            sockets[name] = [sock.fileno() for sock in opened]

    def start(unit: Unit, name: str) -> dict:
        entry, _process = start_unit(unit, name, logs, sockets)
        state["processes"].append(entry)
        write_state(directory, state)
        return entry

    for port, unit in web_units.items():
        entry = start(unit, f"web-{port}")
        state["app_servers"].append({"port": port, "url": f"http://127.0.0.1:{port}", **_ref(entry)})
    for number in range(1, args.workers + 1):
        entry = start(load_unit(layout, "mutualis-worker@.service", str(number)), f"worker-{number}")
        state["workers"].append({"number": number, **_ref(entry)})
    if not args.no_scheduler:
        entry = start(load_unit(layout, "mutualis-scheduler.service"), "scheduler")
        state["scheduler"] = _ref(entry)

    # The app servers answer first, so nginx's first requests do not wait on their boot (with a
    # port bound by the app server itself, nginx would even find it closed and set it aside).
    log(f"started {len(state['processes'])} service(s); waiting for the app servers")
    deadline = time.monotonic() + READY_TIMEOUT
    wait_until_answering(state, [server["url"] for server in state["app_servers"]], None, deadline, logs)
    log("app servers answer; starting nginx")

    # nginx: the shipped site, its markers filled for this run.
    certificate, key = self_signed_certificate(directory / "nginx" / "tls")
    if args.tls:
        state["ca_file"] = str(certificate)
    site = directory / "nginx" / "mutualis.conf"
    site.write_text(
        render_site(
            {
                "SERVER_NAME": "127.0.0.1 localhost",
                # The plain-HTTP redirect server listens on a socket file: no second port needed.
                "HTTP_LISTEN": f"unix:{directory / 'run' / 'nginx-http.sock'}",
                "HTTPS_LISTEN": f"127.0.0.1:{args.port}" + (" ssl http2" if args.tls else ""),
                "TLS_CERTIFICATE": str(certificate),
                "TLS_CERTIFICATE_KEY": str(key),
                "STATIC_ROOT": settings.get("STATIC_ROOT", str(directory / "static")).rstrip("/"),
                "MAX_REQUEST_MB": settings.get("MUTUALIS_MAX_REQUEST_MB") or "11",
                "UPSTREAM_SERVERS": " ".join(f"server 127.0.0.1:{port};" for port in app_ports),
                "PROXY_PARAMS": str(PROXY_PARAMS),
            }
        )
    )
    config = directory / "nginx" / "nginx.conf"
    config.write_text(nginx_main_config(layout, site))
    (directory / "run" / "nginx-http.sock").unlink(missing_ok=True)
    nginx_argv = [nginx, "-p", str(directory / "nginx"), "-c", str(config), "-e", str(logs / "nginx-error.log")]
    checked = subprocess.run([*nginx_argv, "-t", "-q"], capture_output=True, text=True)  # noqa: S603
    if checked.returncode:
        raise Failure(f"nginx refuses the configuration {config}:\n{checked.stderr}")
    entry, _process = spawn("nginx", nginx_argv, {"PATH": os.environ.get("PATH", "")}, directory, logs, None)
    state["processes"].append(entry)
    state["nginx"] = {"conf": str(config), "site": str(site), **_ref(entry)}
    write_state(directory, state)

    context = ssl.create_default_context(cafile=str(certificate)) if args.tls else None
    wait_until_answering(state, [base_url], context, deadline, logs)
    state["ready_at"] = time.time()
    write_state(directory, state)
    # From here on the supervisor alone writes state.json (until `down` has stopped it); it records
    # itself there first, which `up` waits for, so a `down` right after finds it.
    supervise_argv = [sys.executable, str(Path(__file__).resolve()), "supervise", "--dir", str(directory)]
    supervise_argv += ["--sockets", json.dumps(sockets)]
    # Popen's own pass_fds, not spawn's (which would hand them on as LISTEN_FDS): it only holds them.
    with (logs / "supervisor.log").open("ab") as output:
        subprocess.Popen(  # noqa: S603 — this script
            supervise_argv,
            env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"},
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=[fd for fds in sockets.values() for fd in fds],
        )
    deadline = time.monotonic() + 10
    while not json.loads(state_path(directory).read_text()).get("supervisor"):
        if time.monotonic() > deadline:
            raise Failure(f"the supervisor did not start; its log: {tail(logs / 'supervisor.log')}")
        time.sleep(0.05)
    log(
        f"up: nginx {base_url} → {len(app_ports)} app server(s) {app_ports}, {args.workers} worker(s), "
        f"scheduler {'off' if args.no_scheduler else 'on'}; state in {state_path(directory)}"
    )
    print(base_url, flush=True)
    return 0


def wait_until_answering(
    state: dict, urls: list[str], context: ssl.SSLContext | None, deadline: float, logs: Path
) -> None:
    """Until each URL answers as the app (see answered_by_app); a process that exits meanwhile,
    or the deadline, stops `up` with the log that says why."""
    waiting = list(urls)
    while True:
        for entry in state["processes"]:
            if not alive(entry):
                raise Failure(f"{entry['name']} exited at start; its log ({entry['log']}):\n{tail(entry['log'])}")
        waiting = [url for url in waiting if not answered_by_app(url, context)]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise Failure(f"not answering after {READY_TIMEOUT:.0f} s: {', '.join(waiting)}; logs in {logs}")
        time.sleep(0.3)


def _ref(entry: dict) -> dict:
    return {"pid": entry["pid"], "log": entry["log"]}


def supervise(directory: Path, sockets: dict[str, list[int]]) -> int:
    """What systemd does for a running service: restart it when it dies, per its unit's Restart=,
    after RestartSec, unless it started StartLimitBurst times within StartLimitIntervalSec.
    Runs in the background from the end of `up` until `down` sends it TERM."""
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    state = json.loads(state_path(directory).read_text())
    state["supervisor"] = {
        "pid": os.getpid(),
        "start_time": process_start_time(os.getpid()),
        "log": str(directory / "logs" / "supervisor.log"),
    }
    write_state(directory, state)
    layout = Layout(directory, Path(sys.prefix))
    logs = directory / "logs"
    children: list[subprocess.Popen] = []  # the ones restarted here, reaped here
    starts: dict[str, list[float]] = {}
    while not stopping:
        for child in children:
            child.poll()
        for entry in state["processes"]:
            if stopping or entry.get("restart", "no") not in {"always", "on-failure", "on-abnormal"}:
                continue
            if entry.get("gave_up") or alive(entry):
                continue
            now = time.monotonic()
            if "died_at" not in entry:
                entry["died_at"] = now
                log(f"{entry['name']} ({entry['pid']}) exited; restarting in {entry['restart_sec']} s (Restart=)")
            if now - entry["died_at"] < entry["restart_sec"]:
                continue
            recent = [t for t in starts.get(entry["name"], []) if now - t < entry["start_limit_interval"]]
            if entry["start_limit_interval"] and len(recent) >= entry["start_limit_burst"]:
                entry["gave_up"] = True
                log(f"{entry['name']}: {len(recent)} starts within {entry['start_limit_interval']} s, left stopped")
                write_state(directory, state)
                continue
            unit = load_unit(layout, entry["unit"], entry.get("instance", ""))
            fresh, process = start_unit(unit, entry["name"], logs, sockets)
            children.append(process)
            starts[entry["name"]] = [*recent, now]
            entry.pop("died_at", None)
            entry.update(pid=fresh["pid"], start_time=fresh["start_time"], restarts=entry.get("restarts", 0) + 1)
            for group in ("app_servers", "workers"):
                for ref in state.get(group, []):
                    if ref.get("log") == entry["log"]:
                        ref["pid"] = entry["pid"]
            if state.get("scheduler") and state["scheduler"].get("log") == entry["log"]:
                state["scheduler"]["pid"] = entry["pid"]
            write_state(directory, state)
            log(f"{entry['name']} restarted as {entry['pid']}")
        time.sleep(0.2)
    return 0


def down(args: argparse.Namespace) -> int:
    directory = Path(args.dir).resolve()
    if not state_path(directory).exists():
        log(f"nothing to stop: no {state_path(directory)}")
        return 0
    state = json.loads(state_path(directory).read_text())
    supervisor = state.get("supervisor")
    if supervisor and alive(supervisor):
        # First, so nothing is restarted while it stops; it writes the last pids before it exits.
        os.kill(supervisor["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 10
        while alive(supervisor) and time.monotonic() < deadline:
            time.sleep(0.05)
        _kill_group(supervisor["pid"])
        state = json.loads(state_path(directory).read_text())
    stop_all(state.get("processes", []))
    running = [entry for entry in state["processes"] if alive(entry)]
    state["stopped_at"] = time.time()
    write_state(directory, state)
    if running:
        log("still running: " + ", ".join(f"{e['name']} ({e['pid']})" for e in running))
        return 1
    log(f"down: everything in {directory} stopped")
    return 0


def stop_all(processes: list[dict]) -> None:
    """nginx first (no new requests), then every service at once, each the way its unit says:
    KillSignal to the main process (KillMode=mixed), its whole group killed after TimeoutStopSec."""
    ordered = sorted(processes, key=lambda entry: entry["name"] != "nginx")
    for group in ([e for e in ordered if e["name"] == "nginx"], [e for e in ordered if e["name"] != "nginx"]):
        deadlines = {}
        for entry in group:
            if not alive(entry):
                continue
            try:
                os.kill(entry["pid"], signal.Signals[entry["kill_signal"]])
            except ProcessLookupError:
                continue
            deadlines[entry["pid"]] = time.monotonic() + entry["timeout_stop"]
        while any(alive(e) for e in group if e["pid"] in deadlines):
            now = time.monotonic()
            for entry in group:
                if entry["pid"] in deadlines and alive(entry) and now > deadlines[entry["pid"]]:
                    log(f"{entry['name']} ({entry['pid']}) still running after {entry['timeout_stop']} s: killed")
                    _kill_group(entry["pid"])
            time.sleep(0.1)
        for entry in group:
            _kill_group(entry["pid"])  # what the main process left behind in its group


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start nginx, the app servers, the workers and the scheduler")
    start.add_argument("--dir", required=True, help="folder of this run: env file, logs, state.json")
    start.add_argument("--port", type=int, required=True, help="nginx's port on 127.0.0.1")
    start.add_argument("--database-url", required=True)
    start.add_argument("--cache-url", default="", help="CACHE_URL (redis://…); unset: a cache per process")
    start.add_argument("--app-servers", type=int, default=2)
    start.add_argument("--workers", type=int, default=2)
    start.add_argument("--no-scheduler", action="store_true")
    start.add_argument("--app-port", type=int, default=0, help="first app server port (default: free ports)")
    start.add_argument("--tls", action="store_true", help="nginx speaks TLS (self-signed, state.json's ca_file)")
    start.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="a setting for every process")
    stop = commands.add_parser("down", help="stop everything `up` started in --dir")
    stop.add_argument("--dir", required=True)
    watch = commands.add_parser("supervise", help="(started by `up`) restart services as their units say")
    watch.add_argument("--dir", required=True)
    watch.add_argument("--sockets", default="{}", help="the .socket units' listening fds it holds (JSON)")
    args = parser.parse_args(argv)
    if args.command == "down":
        return down(args)
    if args.command == "supervise":
        return supervise(Path(args.dir).resolve(), json.loads(args.sockets))
    try:
        return up(args)
    except (Failure, subprocess.CalledProcessError, KeyboardInterrupt) as error:
        log(f"failed: {error or 'interrupted'}")
        if state_path(Path(args.dir).resolve()).exists():
            log("stopping what was started")
            down(argparse.Namespace(dir=args.dir))
        return 1


if __name__ == "__main__":
    sys.exit(main())
