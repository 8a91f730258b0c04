"""The one way Kotobot's servers are started: ``make run``, the tests and the benchmarks.

The commands are built here (:func:`action_server_command`, :func:`rasa_server_command`,
:func:`web_server_command`), and two ways use them:

- ``python -m bot.tools.harness`` (``make run``, scripts/run.sh): the action server (5055, on
  loopback unless ``ACTIONS_HOST`` says otherwise: it has no authentication), the Rasa server
  (5005: REST + socket.io, through bot/server/serve.py and its security settings) and the web
  page (8080) until Ctrl-C; ``RASA_PORT``, ``ACTIONS_PORT``, ``WEB_PORT`` move them.
- :func:`running_servers` / :func:`running_bot` for tests and benchmarks: the same commands on
  free local ports, the HTTP API behind a test token, a throw-away SQLite tracker store.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

from bot.core.paths import project_root

BIN = Path(sys.executable).parent
DEFAULT_MODEL = "models/kotobot.tar.gz"
COMMITTED_ACTION_URL = "localhost:5055"  # endpoints.yml's action server, as committed
SERVER_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


def action_server_command(port: int) -> list[str]:
    """rasa-sdk's action server, its log redacted (bot/resources/logging.yml)."""
    logging_config = project_root() / "bot" / "resources" / "logging.yml"
    return [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port),
            "--logging-config-file", str(logging_config)]  # fmt: skip


def rasa_server_command(
    model: Path | str,
    port: int,
    credentials: Path | str,
    endpoints: Path | str,
    interface: str | None = None,
    rasa_args: Sequence[str] = (),
) -> list[str]:
    """The Rasa server through bot/server/serve.py: settings checked, Rasa patched."""
    command = [str(BIN / "python"), "-m", "bot.server.serve", "--model", str(model),
               "--port", str(port), "--credentials", str(credentials),
               "--endpoints", str(endpoints)]  # fmt: skip
    if interface:
        command += ["--interface", interface]
    return [*command, *rasa_args]


def web_server_command(port: int) -> list[str]:
    """The built chat page (web/dist only, not web/ with its node_modules), on loopback."""
    web = project_root() / "web" / "dist"
    return [str(BIN / "python"), "-m", "http.server", str(port), "--bind", "127.0.0.1",
            "--directory", str(web)]  # fmt: skip


def endpoints_for(action_port: int, folder: Path) -> Path:
    """endpoints.yml as committed, or a copy in ``folder`` naming another action server port."""
    committed = project_root() / "endpoints.yml"
    if action_port == 5055:
        return committed
    copy = folder / "endpoints.yml"
    text = committed.read_text("utf-8")
    copy.write_text(text.replace(COMMITTED_ACTION_URL, f"127.0.0.1:{action_port}"), "utf-8")
    return copy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """``count`` different free ports (each socket stays bound until all are chosen)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def wait_until(url: str, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class Bot:
    """Talks to the running Rasa server over REST, like a channel would."""

    def __init__(
        self,
        base_url: str,
        token: str,
        session: requests.Session | None = None,
        logs: Path | None = None,
        db_url: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.http = session or requests.Session()
        self.logs = logs  # actions.log, rasa.log
        self.db_url = db_url  # the tracker store (a throw-away SQLite file unless set)

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = self.http.post(f"{self.base_url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict[str, Any]:
        response = self.http.get(
            f"{self.base_url}/conversations/{sender}/tracker",
            params={"token": self.token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def slot(self, sender: str, name: str) -> Any:
        return self.tracker(sender)["slots"].get(name)


class Servers:
    """One action server and one or more Rasa servers on the same endpoints (and so the same
    tracker store and lock store): what ``running_servers`` yields."""

    def __init__(
        self, bots: list[Bot], rasa: list[subprocess.Popen], actions: subprocess.Popen, logs: Path
    ) -> None:
        self.bots = bots
        self.rasa = rasa
        self.actions = actions
        self.logs = logs

    def kill(self, index: int) -> None:
        """SIGKILL Rasa server ``index``, as when its machine dies: no shutdown, nothing flushed,
        any lock it holds stays in the lock store until it expires."""
        self.rasa[index].kill()
        self.rasa[index].wait(timeout=30)

    def alive(self, index: int) -> bool:
        return self.rasa[index].poll() is None


def rasa_log_name(index: int) -> str:
    """rasa.log for the first Rasa server (what single-server tests read), rasa2.log, ..."""
    return "rasa.log" if index == 0 else f"rasa{index + 1}.log"


@contextlib.contextmanager
def running_servers(
    model: Path,
    logs: Path | None = None,
    *,
    rasa_servers: int = 1,
    env: Mapping[str, str | None] | None = None,
    credentials: Path | None = None,
    rasa_args: Sequence[str] = (),
) -> Iterator[Servers]:
    """The action server and ``rasa_servers`` Rasa servers (REST channel; HTTP API behind a
    token), each on its own free port, started together.

    Rasa is started as `make run` starts it, through bot/server/serve.py: the HTTP API and CORS come
    from the ``KOTOBOT_*`` variables. ``env`` changes the servers' environment (a ``None`` value
    removes a variable), e.g. to switch messaging connectors on with test secrets, to share a
    database, or the API off (``KOTOBOT_ENABLE_API: None``); ``credentials`` replaces
    credentials.yml; ``rasa_args`` go to ``rasa run`` (bot/server/serve.py refuses the ones that
    would bypass its checks).
    """
    root = project_root()
    logs = logs or Path(tempfile.mkdtemp(prefix="kotobot-servers-"))
    logs.mkdir(parents=True, exist_ok=True)
    action_port, *rasa_ports = free_ports(1 + rasa_servers)
    endpoints = endpoints_for(action_port, logs)
    credentials = credentials or root / "credentials.yml"
    server_env = {**os.environ, **SERVER_ENV}
    server_env.update(KOTOBOT_ENABLE_API="1", KOTOBOT_API_TOKEN="local-test-token")
    # Conversations go to a fresh SQLite file per run, not var/, unless a database is given.
    server_env.setdefault("KOTOBOT_DB_URL", f"sqlite:///{logs.resolve() / 'tracker.sqlite3'}")
    for name, value in (env or {}).items():
        if value is None:
            server_env.pop(name, None)
        else:
            server_env[name] = value
    names = ["actions.log"] + [rasa_log_name(i) for i in range(rasa_servers)]
    log_files = [open(logs / name, "w") for name in names]
    actions = subprocess.Popen(
        action_server_command(action_port),
        cwd=root, env=server_env, stdout=log_files[0], stderr=subprocess.STDOUT,
    )  # fmt: skip
    token = server_env.get("KOTOBOT_API_TOKEN", "")
    rasa = [
        subprocess.Popen(
            rasa_server_command(model, port, credentials, endpoints, "127.0.0.1", rasa_args),
            cwd=root,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for port, log in zip(rasa_ports, log_files[1:], strict=True)
    ]
    try:
        wait_until(f"http://127.0.0.1:{action_port}/health", 120, actions)
        for port, process in zip(rasa_ports, rasa, strict=True):
            wait_until(f"http://127.0.0.1:{port}/", 300, process)
        db_url = server_env.get("KOTOBOT_DB_URL")
        bots = [
            Bot(f"http://127.0.0.1:{port}", token, logs=logs, db_url=db_url) for port in rasa_ports
        ]
        yield Servers(bots, rasa, actions, logs)
    except Exception:
        for log in log_files:
            log.flush()
        for name in names[1:]:
            sys.stderr.write(f"--- {name}\n" + (logs / name).read_text("utf-8")[-5000:])
        raise
    finally:
        for process in (*rasa, actions):
            process.terminate()
        for process in (*rasa, actions):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in log_files:
            log.close()


@contextlib.contextmanager
def running_bot(
    model: Path,
    logs: Path | None = None,
    *,
    env: Mapping[str, str | None] | None = None,
    credentials: Path | None = None,
    rasa_args: Sequence[str] = (),
) -> Iterator[Bot]:
    """The action server and one Rasa server (see ``running_servers``), talked to as a Bot."""
    with running_servers(
        model, logs, env=env, credentials=credentials, rasa_args=rasa_args
    ) as servers:
        yield servers.bots[0]


class LocalPtv:
    """The Service Catalogue (PTV) on 127.0.0.1, from bot.tools.local_apis' sample records, in a
    thread of this process: service answers need no network and are the same every run. The
    service list of a municipality in ``slow`` takes that many seconds (a server can then be
    stopped while it waits): only the first request waits, so a retry is answered at once.
    ``asked[code]`` is set when that first request arrives."""

    def __init__(self, slow: Mapping[str, float] | None = None) -> None:
        from http.server import ThreadingHTTPServer

        from bot.tools import local_apis as perf_fixtures

        services, channels = perf_fixtures.load_ptv(perf_fixtures.PTV_SAMPLES)
        self.slow = dict(slow or {})
        self.asked = {code: threading.Event() for code in self.slow}
        ptv = self

        class Handler(perf_fixtures.Handler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                path = self.path.split("?")[0]
                if perf_fixtures.LIST.fullmatch(path):
                    code = path.rsplit("/", 1)[-1]
                    delay = ptv.slow.pop(code, None)  # the first request only
                    if delay is not None:
                        ptv.asked[code].set()
                        time.sleep(delay)
                super().do_GET()

        Handler.content_root = Path(tempfile.gettempdir()) / "kotobot-no-content"
        Handler.services, Handler.channels = services, channels
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ptv/api/v11"
        self.env = {"KOTOBOT_PTV_URL": self.url}
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True)

    def __enter__(self) -> LocalPtv:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def run(environ: Mapping[str, str] | None = None) -> int:
    """``make run``: the three servers until one stops or Ctrl-C; 2 on bad settings, before
    anything starts."""
    from bot.server.serve import ConfigError, read_settings

    environ = os.environ if environ is None else environ
    try:
        read_settings()
    except ConfigError as error:
        print(f"Kotobot: {error}", file=sys.stderr)
        return 2
    root = project_root()
    ports = {name: int(environ.get(name, default)) for name, default in
             (("ACTIONS_PORT", 5055), ("RASA_PORT", 5005), ("WEB_PORT", 8080))}  # fmt: skip
    env = {**environ, **SERVER_ENV}
    # rasa-sdk reads its address from SANIC_HOST; Rasa takes --interface (default: all).
    action_env = {**env, "SANIC_HOST": environ.get("ACTIONS_HOST", "127.0.0.1")}
    folder = Path(tempfile.mkdtemp(prefix="kotobot-run-"))
    endpoints = endpoints_for(ports["ACTIONS_PORT"], folder)
    commands = [
        action_server_command(ports["ACTIONS_PORT"]),
        rasa_server_command(DEFAULT_MODEL, ports["RASA_PORT"], "credentials.yml", endpoints),
        web_server_command(ports["WEB_PORT"]),
    ]
    processes = [
        subprocess.Popen(command, cwd=root, env=action_env if i == 0 else env)
        for i, command in enumerate(commands)
    ]
    print(f"Kotobot: web page http://localhost:{ports['WEB_PORT']}/  REST "
          f"http://localhost:{ports['RASA_PORT']}/webhooks/rest/webhook", flush=True)  # fmt: skip
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    return max((process.returncode or 0) for process in processes)


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run's `finally` stops the servers
    sys.exit(run())
