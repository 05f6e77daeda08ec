"""Serving and loading for the helpdesk benchmark: a gunicorn launcher (two sync workers on a free
local port) and a wrk harness whose Lua script rotates over prepared requests, counts the
answers that are not 2xx and prints the latency percentiles (wrk's own --latency table has no
95th percentile)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

WORKERS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`gunicorn --workers 2` (sync) on 127.0.0.1; stopped (its whole process group) on exit."""

    def __init__(self, *, gunicorn: str, app: str, env: dict[str, str], cwd: str, name: str, log_dir: str) -> None:
        self.port = free_port()
        self.name = name
        self.log = Path(log_dir) / f"{name}.log"
        command = [
            gunicorn, app,
            "--workers", str(WORKERS), "--worker-class", "sync",
            "--bind", f"127.0.0.1:{self.port}",
            "--timeout", "120", "--graceful-timeout", "5",
            "--error-logfile", str(self.log), "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 — our own command line
            command, env=env, cwd=cwd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait(self, path: str = "/", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited ({self.tail()})")
            try:
                urllib.request.urlopen(self.base + path, timeout=5)  # noqa: S310 — our local server
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name}: no answer on {self.base} after {timeout:.0f} s ({self.tail()})")

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None


@dataclass
class Result:
    requests: int
    seconds: float
    per_second: float  # wrk's Requests/sec
    ok: int  # 2xx answers
    bad: int  # other answers
    bad_status: int  # one of them, for the message
    errors: int  # connect, read, write, timeout
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    bad_body: str = ""
    quantiles: list[float] = field(default_factory=list)  # ms at 0.5 %, 1 %, … 100 %

    @property
    def ok_per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def _lua_string(value: str) -> str:
    return (
        "[==[" + value + "]==]" if "]==]" not in value and "\n" not in value else json.dumps(value, ensure_ascii=False)
    )


LUA_TAIL = r"""
local i = 0
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0; bad_status = 0; bad_body = "" end
function response(status, headers, body)
  if status >= 200 and status < ok_below then ok = ok + 1 else
    bad = bad + 1; bad_status = status
    if bad_body == "" and body then bad_body = string.sub(body, 1, 300) end
  end
end
function done(summary, latency, requests)
  local o, b, s, bb = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); b = b + t:get("bad")
    if t:get("bad_status") ~= 0 then s = t:get("bad_status"); bb = t:get("bad_body") end
  end
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"ok":%d,"bad":%d,"bad_status":%d,"errors":%d,' ..
    '"p50":%d,"p90":%d,"p95":%d,"p99":%d}\n', summary.requests, summary.duration, o, b, s,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99)))
  local q = {}
  for p = 1, 200 do q[p] = latency:percentile(p / 2) end
  io.write("QUANTILES " .. table.concat(q, " ") .. "\n")
  io.write("BADBODY " .. string.gsub(bb, "\n", " ") .. "\n")
end
"""


def lua_script(requests: Sequence[Request], *, redirect_ok: bool = False) -> str:
    """The requests in turn; answers 2xx count as right, and 3xx too with `redirect_ok` (a form
    answering its POST with a redirect to what it created)."""
    lines = [f"local ok_below = {400 if redirect_ok else 300}", "local reqs = {}"]
    for n, r in enumerate(requests, start=1):
        headers = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in r.headers.items())
        body = _lua_string(r.body) if r.body is not None else "nil"
        lines.append(f"reqs[{n}] = wrk.format({_lua_string(r.method)}, {_lua_string(r.path)}, {{{headers}}}, {body})")
    return "\n".join(lines) + LUA_TAIL


def wrk_available() -> str | None:
    return shutil.which("wrk")


def run_wrk(
    base: str,
    requests: Sequence[Request],
    *,
    seconds: int,
    connections: int = 8,
    threads: int = 2,
    redirect_ok: bool = False,
) -> Result:
    """`wrk -t2 -c8 -d30s --latency` over the requests, in turn; figures from the script's line."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(requests, redirect_ok=redirect_ok))
    try:
        completed = subprocess.run(  # noqa: S603
            [
                wrk_available() or "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "20s",
                "--latency",
                "-s",
                script.name,
                base,
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            check=False,
        )
    finally:
        os.unlink(script.name)
    out = completed.stdout
    match = re.search(r"^BENCH (\{.*\})$", out, re.M)
    if not match:
        raise RuntimeError(f"wrk failed: {completed.stderr or out}")
    data = json.loads(match.group(1))
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad_body = re.search(r"^BADBODY (.*)$", out, re.M)
    quantiles = re.search(r"^QUANTILES (.*)$", out, re.M)
    seconds_run = data["duration_us"] / 1e6
    return Result(
        requests=data["requests"],
        seconds=seconds_run,
        per_second=float(rate.group(1)) if rate else data["requests"] / seconds_run,
        ok=data["ok"],
        bad=data["bad"],
        bad_status=data["bad_status"],
        errors=data["errors"],
        p50_ms=data["p50"] / 1000,
        p90_ms=data["p90"] / 1000,
        p95_ms=data["p95"] / 1000,
        p99_ms=data["p99"] / 1000,
        bad_body=(bad_body.group(1).strip() if bad_body else "")[:200],
        quantiles=[int(v) / 1000 for v in quantiles.group(1).split()] if quantiles else [],
    )


def merge(results: Sequence[Result]) -> Result:
    """Rounds of one measure as one: counts add up; percentiles from the rounds' quantiles,
    weighted by their requests (the mixture of the rounds' distributions)."""
    if len(results) == 1:
        return results[0]
    total = sum(r.requests for r in results) or 1

    def percentile(p: float) -> float:
        candidates = sorted({q for r in results for q in r.quantiles})
        for x in candidates:
            share = sum(
                r.requests * sum(q <= x for q in r.quantiles) / len(r.quantiles) for r in results if r.quantiles
            )
            if share / total >= p / 100 - 1e-9:
                return x
        return candidates[-1] if candidates else 0.0

    seconds = sum(r.seconds for r in results)
    last_bad = next((r for r in reversed(results) if r.bad), results[-1])
    return Result(
        requests=sum(r.requests for r in results),
        seconds=seconds,
        per_second=sum(r.requests for r in results) / seconds if seconds else 0.0,
        ok=sum(r.ok for r in results),
        bad=sum(r.bad for r in results),
        bad_status=last_bad.bad_status,
        errors=sum(r.errors for r in results),
        p50_ms=percentile(50),
        p90_ms=percentile(90),
        p95_ms=percentile(95),
        p99_ms=percentile(99),
        bad_body=last_bad.bad_body,
        quantiles=[],
    )
