"""Security (issue #7, item 6): the HTTP API, CORS and secrets, against real servers.

Every server here is started through bot/server/serve.py, as `make run` starts it
(bot/tools/harness.py):
with the HTTP API off (the default), behind a token (the shared ``bot`` fixture), and behind a
JWT secret. Unsafe settings are refused by bot/server/serve.py and by scripts/run.sh itself. The
last part scans the tracked files for secrets; the fake values in tests must look fake (see
``FAKE_MARKERS``).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests
import socketio
import yaml

from bot.server import serve
from bot.tools.harness import Bot, free_port, running_bot
from tests.support.paths import MODEL, ROOT
from tests.support.socket_client import SocketChat, websocket_connect_packet

TEST_TOKEN = "local-test-token"  # bot/tools/harness.py's, for the shared `bot` fixture
# Random per run, so that finding it in a process list means this run leaked it.
JWT_SECRET = f"fake-jwt-secret-for-tests-{secrets.token_hex(16)}"
PAGE = "http://localhost:8080"  # the chat page of `make run`, allowed by default
FOREIGN = "http://evil.example"
JWT_METHOD = "KOTOBOT_JWT_METHOD"
API_ROUTES = [
    ("GET", "/conversations/{sender}/tracker"),
    ("POST", "/conversations/{sender}/messages"),
    ("POST", "/conversations/{sender}/trigger_intent"),
    ("GET", "/status"),
    ("GET", "/domain"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
    ("POST", "/model/parse"),
]


def new_sender() -> str:
    return f"sec-{uuid.uuid4().hex[:12]}"


def call(bot: Bot, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, f"{bot.base_url}{path}", timeout=30, **kwargs)


def start_conversation(bot: Bot) -> str:
    sender = new_sender()
    bot.say(sender, "miten saan kotoutumissuunnitelman")
    return sender


# --- the settings, in process ---------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        {"KOTOBOT_ENABLE_API": "1"},
        {"KOTOBOT_ENABLE_API": "true", "KOTOBOT_API_TOKEN": "  "},
        {"KOTOBOT_ENABLE_API": "1", "KOTOBOT_API_TOKEN": "short"},
        {"KOTOBOT_ENABLE_API": "1", "KOTOBOT_JWT_SECRET": "too-short-fake-secret"},
        {"KOTOBOT_ENABLE_API": "1", "KOTOBOT_JWT_SECRET": JWT_SECRET, JWT_METHOD: "none"},
        {"KOTOBOT_ENABLE_API": "1", "KOTOBOT_JWT_SECRET": JWT_SECRET, JWT_METHOD: "RS256"},
        {"KOTOBOT_ENABLE_API": "maybe", "KOTOBOT_API_TOKEN": TEST_TOKEN},
    ],
    ids=["no-token", "blank-token", "short-token", "short-jwt-secret", "alg-none", "rs256",
         "unclear-flag"],
)  # fmt: skip
def test_unsafe_api_settings_are_refused(env):
    with pytest.raises(serve.ConfigError):
        serve.read_settings(env)


def arguments(env: dict[str, str], *extra: str) -> list[str]:
    options, rest = serve.parse_options(["--port", "5005", *extra])
    serve.check_extra_arguments(rest)
    return serve.rasa_arguments(serve.read_settings(env), options, rest)


def test_api_is_off_unless_enabled_and_cors_defaults_to_the_chat_page():
    args = arguments({"KOTOBOT_API_TOKEN": TEST_TOKEN, "KOTOBOT_JWT_SECRET": JWT_SECRET})
    assert "--enable-api" not in args and TEST_TOKEN not in args and JWT_SECRET not in args
    assert args[args.index("--cors") + 1 :][:2] == list(serve.DEFAULT_CORS_ORIGINS)
    for flag in ("0", "false", "off", ""):
        assert "--enable-api" not in arguments({"KOTOBOT_ENABLE_API": flag})


def test_api_settings_become_rasa_arguments():
    token = arguments({"KOTOBOT_ENABLE_API": "1", "KOTOBOT_API_TOKEN": TEST_TOKEN})
    assert token[-3:] == ["--enable-api", "--auth-token", TEST_TOKEN]
    signed = arguments({"KOTOBOT_ENABLE_API": "yes", "KOTOBOT_JWT_SECRET": JWT_SECRET})
    assert signed[-5:] == ["--enable-api", "--jwt-secret", JWT_SECRET, "--jwt-method", "HS256"]
    origins = arguments({"KOTOBOT_CORS_ORIGINS": "https://a.example  https://b.example"})
    assert origins[origins.index("--cors") + 1 :][:2] == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    "extra", ["--enable-api", "--auth-token=x", "-t", "-tx", "--jwt-secret", "--cors", "--ena"]
)
def test_options_that_would_bypass_the_checks_are_refused(extra):
    with pytest.raises(serve.ConfigError):
        arguments({}, extra)


def test_other_rasa_options_pass_through():
    assert arguments({}, "--response-timeout", "30")[-2:] == ["--response-timeout", "30"]


# --- refusing to start ----------------------------------------------------------------------


def run_briefly(command: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Runs ``command``; kills its whole process group if it is still running at ``timeout``."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{command} was still running after {timeout} s:\n{output[-2000:]}")
    return process.returncode, output


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def unsafe_env(**ports: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOTOBOT_")}
    env.update({name: str(port) for name, port in ports.items()}, KOTOBOT_ENABLE_API="1")
    return env


def test_serve_refuses_the_api_without_a_token():
    started = time.monotonic()
    code, output = run_briefly([sys.executable, "-m", "bot.server.serve"], unsafe_env())
    assert code == 2, output
    assert "KOTOBOT_API_TOKEN" in output and "KOTOBOT_JWT_SECRET" in output
    assert time.monotonic() - started < 20, "refused before Rasa is loaded"


def test_make_run_refuses_the_api_without_a_token_before_starting_anything():
    """scripts/run.sh (what `make run` runs) stops at once: no server was started."""
    ports = {"RASA_PORT": free_port(), "ACTIONS_PORT": free_port(), "WEB_PORT": free_port()}
    code, output = run_briefly(["bash", "scripts/run.sh"], unsafe_env(**ports))
    assert code != 0, output
    assert "KOTOBOT_ENABLE_API=1" in output and "KOTOBOT_API_TOKEN" in output
    assert "Kotobot: web page" not in output
    assert not any(listening(port) for port in ports.values())


def listening_addresses(port: int) -> set[str]:
    """IPv4/IPv6 addresses with a listening TCP socket on ``port``, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_make_run_keeps_the_action_server_and_web_page_on_loopback():
    """The action server has no authentication: only Rasa, on the same host, may reach it."""
    ports = {"RASA_PORT": free_port(), "ACTIONS_PORT": free_port(), "WEB_PORT": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOTOBOT_", "ACTIONS_HOST"))}
    env.update({name: str(port) for name, port in ports.items()})
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (listening(ports["ACTIONS_PORT"]) and listening(ports["WEB_PORT"])):
            assert process.poll() is None, "scripts/run.sh stopped"
            assert time.monotonic() < deadline, "the action server did not start"
            time.sleep(0.2)
        loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1
        assert listening_addresses(ports["ACTIONS_PORT"]) <= loopback
        assert listening_addresses(ports["WEB_PORT"]) <= loopback
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- the HTTP API off (the default of `make run`) ---------------------------------------------


@pytest.fixture(scope="class")
def api_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """As `make run` starts Rasa with no KOTOBOT_* variable set."""
    env = dict.fromkeys(
        ("KOTOBOT_ENABLE_API", "KOTOBOT_API_TOKEN", "KOTOBOT_JWT_SECRET", "KOTOBOT_CORS_ORIGINS")
    )
    with running_bot(MODEL, tmp_path_factory.mktemp("api-off"), env=env) as bot:
        yield bot


@pytest.mark.e2e
class TestApiOffAndCors:
    @pytest.mark.parametrize(("method", "path"), API_ROUTES)
    def test_api_routes_do_not_exist(self, api_off, method, path):
        sender = start_conversation(api_off)
        for params in ({}, {"token": TEST_TOKEN}):
            answer = call(api_off, method, path.format(sender=sender), params=params, json={})
            assert answer.status_code == 404, (method, path, answer.text[:200])

    def test_channels_still_answer(self, api_off):
        assert api_off.say(new_sender(), "hei, mitä kuuluu?")
        assert call(api_off, "GET", "/").status_code == 200

    @pytest.mark.parametrize("origin", [PAGE, "http://127.0.0.1:8080"])
    def test_the_chat_page_origin_is_allowed(self, api_off, origin):
        preflight = call(
            api_off, "OPTIONS", "/webhooks/rest/webhook",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )  # fmt: skip
        assert preflight.headers.get("Access-Control-Allow-Origin") == origin
        polling = call(api_off, "GET", "/socket.io/", params={"EIO": "4", "transport": "polling"},
                       headers={"Origin": origin})  # fmt: skip
        assert polling.status_code == 200
        assert polling.headers.get("Access-Control-Allow-Origin") == origin

    @pytest.mark.parametrize(
        "origin", [FOREIGN, "http://localhost:8081", "https://localhost:8080", "null"]
    )
    def test_a_foreign_origin_gets_no_cors_headers(self, api_off, origin):
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        preflight = call(api_off, "OPTIONS", "/webhooks/rest/webhook", headers=headers)
        assert "Access-Control-Allow-Origin" not in preflight.headers
        body = {"sender": new_sender(), "message": "hei"}
        post = call(api_off, "POST", "/webhooks/rest/webhook", json=body, headers=headers)
        assert "Access-Control-Allow-Origin" not in post.headers  # the page cannot read it
        polling = call(api_off, "GET", "/socket.io/", params={"EIO": "4", "transport": "polling"},
                       headers={"Origin": origin})  # fmt: skip
        assert "Access-Control-Allow-Origin" not in polling.headers

    def test_socketio_refuses_foreign_origins_on_websockets_too(self, api_off):
        """Browsers do not apply CORS to WebSockets: the channel checks the Origin itself."""
        assert asyncio.run(websocket_connect_packet(api_off.base_url, PAGE)).startswith("40")
        assert asyncio.run(websocket_connect_packet(api_off.base_url, None)).startswith("40")
        refused = asyncio.run(websocket_connect_packet(api_off.base_url, FOREIGN))
        assert refused.startswith("44"), refused

    def test_socketio_chat_from_the_page_works_and_from_elsewhere_does_not(self, api_off):
        async def chat(origin: str) -> list[dict]:
            async with SocketChat(api_off.base_url, origin=origin) as session:
                return await session.say("hei, mitä kuuluu?")

        assert asyncio.run(chat(PAGE))
        with pytest.raises(socketio.exceptions.ConnectionError):
            asyncio.run(chat(FOREIGN))


# --- the HTTP API behind a token (the shared `bot` fixture: KOTOBOT_API_TOKEN) ----------------


@pytest.mark.e2e
class TestApiToken:
    @pytest.mark.parametrize(("method", "path"), API_ROUTES)
    def test_no_or_wrong_token_is_refused(self, bot, method, path):
        path = path.format(sender=start_conversation(bot))
        for params in ({}, {"token": "wrong-token-for-tests"}, {"token": ""}):
            answer = call(bot, method, path, params=params, json={})
            assert answer.status_code in (401, 403), (method, path, params, answer.text[:200])
        bearer = {"Authorization": f"Bearer {TEST_TOKEN}"}  # the token is not a JWT
        assert call(bot, method, path, headers=bearer, json={}).status_code == 401

    def test_right_token_reads_the_conversation(self, bot):
        sender = start_conversation(bot)
        answer = call(bot, "GET", f"/conversations/{sender}/tracker", params={"token": TEST_TOKEN})
        assert answer.status_code == 200
        assert answer.json()["slots"]["last_topic"] == "integration_plan"


# --- the HTTP API behind a JWT secret -------------------------------------------------------


@pytest.fixture(scope="class")
def jwt_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    env = {"KOTOBOT_API_TOKEN": None, "KOTOBOT_JWT_SECRET": JWT_SECRET, "KOTOBOT_JWT_METHOD": None}
    with running_bot(MODEL, tmp_path_factory.mktemp("api-jwt"), env=env) as bot:
        yield bot


def signed(username: str, role: str = "admin", key: str = JWT_SECRET, **claims: object) -> str:
    """A token as an operator's tool would make it: Rasa reads ``user.username`` and ``role``."""
    payload = {"user": {"username": username, "role": role}, "exp": int(time.time()) + 600}
    return jwt.encode({**payload, **claims}, key, algorithm="HS256")


def tracker_with(bot: Bot, sender: str, bearer: str | None, **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    return call(bot, "GET", f"/conversations/{sender}/tracker", headers=headers, params=params)


@pytest.mark.e2e
class TestApiJwt:
    def test_a_token_signed_with_the_secret_works(self, jwt_bot):
        sender = start_conversation(jwt_bot)
        answer = tracker_with(jwt_bot, sender, signed("operator"))
        assert answer.status_code == 200
        assert answer.json()["slots"]["last_topic"] == "integration_plan"
        own = tracker_with(jwt_bot, sender, signed(sender, role="user"))
        assert own.status_code == 200, "a user token may read its own conversation"

    def test_a_user_token_cannot_read_another_conversation(self, jwt_bot):
        sender = start_conversation(jwt_bot)
        assert tracker_with(jwt_bot, sender, signed("someone-else", role="user")).status_code == 403

    @pytest.mark.parametrize(
        "how", ["none", "unsigned", "other-key", "hs512", "expired", "secret-as-token", "garbage"]
    )
    def test_unsigned_or_wrongly_signed_tokens_are_refused(self, jwt_bot, how):
        sender = start_conversation(jwt_bot)
        payload = {"user": {"username": "operator", "role": "admin"}, "exp": time.time() + 600}
        token, params = {
            "none": (None, {}),
            "unsigned": (jwt.encode(payload, None, algorithm="none"), {}),
            "other-key": (signed("operator", key="fake-other-secret-for-tests-0123456789"), {}),
            "hs512": (jwt.encode(payload, JWT_SECRET, algorithm="HS512"), {}),
            "expired": (signed("operator", exp=int(time.time()) - 3600), {}),
            "secret-as-token": (None, {"token": JWT_SECRET}),
            "garbage": ("not.a.jwt", {}),
        }[how]
        answer = tracker_with(jwt_bot, sender, token, **params)
        assert answer.status_code == 401, answer.text[:200]
        assert answer.json()["reason"] == "NotAuthenticated"
        assert "Traceback" not in (jwt_bot.logs / "rasa.log").read_text("utf-8")

    def test_the_secret_is_not_on_any_command_line(self, jwt_bot):
        """bot/server/serve.py runs Rasa in process: `ps` shows no secret to other users."""
        assert start_conversation(jwt_bot)
        leaks = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if JWT_SECRET.encode() in cmdline.read_bytes():
                    leaks.append(cmdline.parent.name)
            except OSError:  # the process ended meanwhile
                continue
        assert not leaks, f"processes with the secret on their command line: {leaks}"


# --- no secrets in the repository -----------------------------------------------------------

# Real-format credentials of the services this project talks to, and generic private ones.
SECRET_PATTERNS = {
    "private key": r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
    "Telegram bot token": r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b",
    "Slack token": r"\bxox[abposre]-[A-Za-z0-9-]{10,}",
    "Slack webhook": r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+",
    "Twilio account or key SID": r"\b(?:AC|SK)[0-9a-f]{32}\b",
    "Facebook access token": r"\bEAA[A-Za-z0-9]{30,}",
    "AWS access key id": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "AWS secret key": r"(?i)aws_secret_access_key\W{1,4}[A-Za-z0-9/+=]{40}",
    "GitHub token": r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
    "password in a URL": r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:[^\s/@'\"]+@[^\s/'\"]+",
    "hex secret assigned": r"(?i)(?:secret|token|passw(?:or)?d|api_?key)\w*\W{1,4}[0-9a-f]{32,}\b",
}
# A match is a test value when it says so: real credentials never contain these.
FAKE_MARKERS = ("test", "fake", "example", "dummy", "placeholder", "xxxxxxxx")
SECRET_FILE_NAMES = re.compile(
    r"(^|/)(\.env(\..+)?|id_[rd]sa|id_ecdsa|id_ed25519|.+\.(pem|key|p12|pfx))$"
)


def find_secrets(text: str) -> list[tuple[str, str]]:
    """(kind, match) of every real-looking credential in ``text``."""
    found = []
    for kind, pattern in SECRET_PATTERNS.items():
        for match in re.finditer(pattern, text):
            if not any(marker in match.group(0).lower() for marker in FAKE_MARKERS):
                found.append((kind, match.group(0)))
    return found


def tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return [name for name in listing.split("\0") if name]


def test_the_scanner_finds_real_looking_secrets():
    """Built here from pieces, so that this file itself holds none of them."""
    samples = {
        "Telegram bot token": "7" * 10 + ":" + "AAH" + "k3" * 16,
        "Slack token": "xox" + "b-1234567890-abcdefghij",
        "Twilio account or key SID": "AC" + "9f" * 16,
        "Facebook access token": "EAA" + "Bq" * 20,
        "AWS access key id": "AKIA" + "Q" * 16,
        "GitHub token": "ghp_" + "a1" * 18,
        "private key": "-----BEGIN RSA " + "PRIVATE KEY-----",
        "password in a URL": "postgresql://kotobot:" + "hunter2" + "@db.internal/kotobot",
        "hex secret assigned": "FACEBOOK_APP_SECRET=" + "4e" * 16,
    }
    for kind, sample in samples.items():
        assert [k for k, _ in find_secrets(f"x = '{sample}'\n")] == [kind], kind
    assert find_secrets("TELEGRAM_BOT_TOKEN=123456789:TEST-telegram-token_abcdefghijklmno") == []


def test_no_secrets_are_committed():
    files = tracked_files()
    assert "credentials.yml" in files and len(files) > 100
    assert not [name for name in files if SECRET_FILE_NAMES.search(name)]
    found = []
    for name in files:
        path = ROOT / name
        if path.is_file():
            text = path.read_text("utf-8", errors="replace")
            found += [(name, kind, value[:24] + "…") for kind, value in find_secrets(text)]
    assert not found, f"secrets in tracked files (test values must contain 'fake'/'test'): {found}"


def test_credentials_yml_holds_no_values_that_could_be_secret():
    """Connector secrets come from environment variables only (docs/channels.md)."""
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text("utf-8"))
    suspicious = re.compile(r"(?i)token|secret|password|key|sid|app_id")
    for channel, settings in credentials.items():
        for name, value in (settings or {}).items():
            assert not (suspicious.search(name) and name != "metadata_key"), (channel, name, value)
