"""The image starts: deploy/Dockerfile's tree laid out as root, its servers run as UID 1001.

There is no Docker engine on these machines, so this does what the image build and `docker run`
do, without Docker: the build context (the repository less deploy/Dockerfile.dockerignore, the
trained model included) is copied to a temporary ``app/``; there, *as root*, the ``python``
commands of the Dockerfile's RUN are run as written (the project installed editable without
resolving, `pip check`, the language-detection tables built), ``app/`` is made readable and
``var/`` given to UID 1001, as that RUN does. Then, *as
UID 1001* (``setpriv``), with the image's environment (its ``ENV`` lines), Rasa starts with the
image's command (``CMD``: bot/server/serve.py) and the action server with docker-compose.yml's; the
compose health checks must pass against them, and REST messages get real replies in the user's
language (one from Rasa itself, one through the action server).

The interpreter and packages are the project venv's (what requirements/dev.txt pins, a superset
of the image's requirements/runtime.txt), copied into the temporary tree by hard links (no space,
a few seconds): where they are, UID 1001 may not be able to reach them (pyenv's Python lives under
/root, mode 0700), while in the image they are in /usr/local. The project is *not* taken from the
venv's editable install: it is installed again from ``app/``, as in the image. The word tables of
language detection are copied from the venv when `make train` built them for the same texts (the
Dockerfile's `python -m bot.langid.words` then finds them up to date; building them takes 40-80 s).

Needs root (CI runs as root); skipped otherwise, saying so.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from bot.tools.harness import free_ports, wait_until
from tests.support.paths import ROOT

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
MODEL = "models/kotobot.tar.gz"
UID = GID = 1001  # the Dockerfile's USER
PYVER = f"python{sys.version_info.major}.{sys.version_info.minor}"

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="needs root: lays out the image's tree as root, then starts the servers as "
        f"UID {UID} (CI runs as root; here the tests run as UID {os.geteuid()})",
    ),
]


# --- what the Dockerfile, its .dockerignore and docker-compose.yml say ---------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n(\s*#.*\n)*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            found.append((instruction.upper(), arguments.strip()))
    return found


def dockerfile_env(text: str) -> dict[str, str]:
    env = {}
    for instruction, arguments in dockerfile_instructions(text):
        if instruction == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def dockerfile_build_commands(text: str) -> list[list[str]]:
    """The ``python ...`` commands of the RUN instructions after ``COPY . /app``, in order."""
    commands, copied = [], False
    for instruction, arguments in dockerfile_instructions(text):
        copied = copied or (instruction == "COPY" and arguments.split()[:1] == ["."])
        if copied and instruction == "RUN":
            for part in re.sub(r"^(--\S+\s+)*", "", arguments).split("&&"):
                words = shlex.split(part)
                if words[:1] == ["python"]:
                    commands.append(words)
    return commands


def dockerfile_command(text: str) -> list[str]:
    """ENTRYPOINT + CMD (exec form), as `docker run IMAGE` runs them."""
    parts = {"ENTRYPOINT": [], "CMD": []}
    for instruction, arguments in dockerfile_instructions(text):
        if instruction in parts:
            parts[instruction] = json.loads(arguments)
    return parts["ENTRYPOINT"] + parts["CMD"]


def dockerignore_rules(text: str) -> list[tuple[bool, str, re.Pattern[str]]]:
    """(is an exception "!", pattern, regex) in order; Docker's syntax: ``*``, ``?``, ``**``."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, re.escape(token)
            )
        rules.append((negated, pattern, re.compile(regex)))
    return rules


def excluded(relative: str, rules: list[tuple[bool, str, re.Pattern[str]]]) -> bool:
    """Whether the build context leaves ``relative`` out: the last rule matching it, or one of
    its parent folders, decides."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    result = False
    for negated, _, regex in rules:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            result = not negated
    return result


def copy_build_context(source: Path, target: Path) -> list[str]:
    """Copies what `docker build .` would send (files keep their modes); the relative paths."""
    rules = dockerignore_rules(DOCKERIGNORE.read_text("utf-8"))
    exceptions = [pattern for negated, pattern, _ in rules if negated]
    copied = []
    for folder, dirs, files in os.walk(source):
        relative_folder = Path(folder).relative_to(source).as_posix()
        prefix = "" if relative_folder == "." else relative_folder + "/"
        dirs[:] = [
            name
            for name in dirs
            if not excluded(prefix + name, rules)
            or any(pattern.startswith(prefix + name + "/") for pattern in exceptions)
        ]
        for name in files:
            relative = prefix + name
            if not excluded(relative, rules):
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(folder) / name, target / relative, follow_symlinks=False)
                copied.append(relative)
    return copied


def compose_services() -> dict:
    return yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]


def with_option(command: list[str], option: str, value: str) -> list[str]:
    """``command`` with ``option``'s value replaced (added when missing)."""
    if option in command:
        index = command.index(option)
        return [*command[: index + 1], value, *command[index + 2 :]]
    return [*command, option, value]


# --- the image's tree, without Docker ---------------------------------------------------------


def link_tree(source: Path, target: Path) -> None:
    """``cp -a`` by hard links (same file system: instant), else a real copy."""
    if subprocess.run(["cp", "-a", "--link", str(source), str(target)]).returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(["cp", "-a", str(source), str(target)], check=True)


def reuse_word_tables(folder: Path) -> None:
    """The word tables `make train` built in the project venv (same texts, same file name) are
    copied in, so that the Dockerfile's `python -m bot.langid.words` finds them up to date
    instead of taking 40-80 s to build them again; it builds them when the texts have changed.
    The n-gram tables are always built here, as root, as the image does."""
    for table in (Path(sys.prefix) / "share" / "kotobot").glob("words-*.npz"):
        shutil.copy2(table, folder / table.name)


def as_root(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{shlex.join(command)} failed as root:\n{output[-4000:]}"
    return output


def as_image_user(command: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={UID}", f"--regid={GID}", "--clear-groups", "--", *command]


@dataclass
class Image:
    base: Path  # the temporary folder: what the image's / is to the servers
    app: Path  # /app
    python: Path  # /usr/local/bin/python
    tables: Path  # /usr/local/share/kotobot
    env: dict[str, str]  # the image's environment, mapped into base
    build_log: str


@dataclass
class Running:
    image: Image
    rasa_url: str
    actions_url: str
    processes: dict[str, subprocess.Popen]
    logs: Path

    def say(self, text: str, sender: str | None = None) -> list[dict]:
        body = {"sender": sender or f"container-{uuid.uuid4().hex[:10]}", "message": text}
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        return response.json()


def lay_out_image(base: Path) -> Image:
    """What `docker build -f deploy/Dockerfile .` makes, under ``base``."""
    dockerfile = DOCKERFILE.read_text("utf-8")
    usr_local = base / "usr" / "local"
    usr_local.parent.mkdir(parents=True)
    # The interpreter (pyenv's or the system's install, the image's /usr/local) ...
    link_tree(Path(sys.base_prefix), usr_local)
    site_packages = usr_local / "lib" / PYVER / "site-packages"
    shutil.rmtree(site_packages)  # the base install's own pip and setuptools (links: unlinked)
    # ... with the locked packages, as `pip install --require-hashes --no-deps -r ...` put them.
    link_tree(Path(sysconfig.get_paths()["purelib"]), site_packages)
    for leftover in site_packages.glob("*kotobot*"):  # the venv's editable install of the repo
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    python = usr_local / "bin" / PYVER

    app = base / "app"
    app.mkdir()
    copied = copy_build_context(ROOT, app)
    assert MODEL in copied and "deploy/healthcheck.py" in copied
    assert not any(path.startswith((".venv/", "tests/", "var/", ".rasa/")) for path in copied)

    tmp = base / "tmp"  # the image's HOME=/tmp, MPLCONFIGDIR=/tmp/matplotlib
    tmp.mkdir(mode=0o1777)
    os.chmod(tmp, 0o1777)
    env = {
        "PATH": f"{usr_local / 'bin'}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        # pyenv's python finds its libpython through an absolute RUNPATH into /root: here, the copy.
        "LD_LIBRARY_PATH": str(usr_local / "lib"),
    }
    moved = {"/app": str(app), "/tmp": str(tmp)}
    for name, value in dockerfile_env(dockerfile).items():
        env[name] = re.sub(r"^(/app|/tmp)(?=/|$)", lambda match: moved[match[1]], value)
    assert env["KOTOBOT_HOME"] == str(app), "the image reads locales/, content/ from /app"

    # The Dockerfile's RUN after `COPY . /app`, as root (pip may download lingua's model files:
    # the registry and its settings are the host's, as a build's network is).
    build_env = {**env, **{k: v for k, v in os.environ.items() if k.startswith("PIP_")}}
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "HTTPS_PROXY", "https_proxy", "NO_PROXY"):
        if name in os.environ:
            build_env[name] = os.environ[name]
    commands = dockerfile_build_commands(dockerfile)
    assert ["python", "-m", "bot.langid.ngram_tables"] in commands, commands
    log = ""
    for command in commands:  # pip install -e ., pip check, the tables
        if command == ["python", "-m", "bot.langid.words"]:
            reuse_word_tables(usr_local / "share" / "kotobot")
        log += as_root([str(python), *command[1:]], app, build_env)
    subprocess.run(["chmod", "-R", "a+rX", str(app)], check=True)
    (app / "var").mkdir(exist_ok=True)
    os.chown(app / "var", UID, GID)
    os.chmod(base, 0o755)  # mkdtemp's 0700: the image's / is traversable
    return Image(base, app, python, usr_local / "share" / "kotobot", env, log)


@pytest.fixture(scope="module")
def image() -> Iterator[Image]:
    if not (ROOT / MODEL).exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (the image bakes it in)")
    if shutil.which("setpriv") is None:
        pytest.fail("setpriv (util-linux) is missing: it starts the servers as the image's user")
    base = Path(tempfile.mkdtemp(prefix="kotobot-image-"))
    try:
        yield lay_out_image(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def running(image: Image) -> Iterator[Running]:
    """The image's Rasa command and compose's action server, as UID 1001, on free ports."""
    rasa_port, actions_port = free_ports(2)
    logs = image.base / "logs"
    logs.mkdir()
    python = str(image.python)

    # `docker run kotobot` (its CMD), with the containers' endpoints as docker-compose.yml gives.
    rasa = dockerfile_command(DOCKERFILE.read_text("utf-8"))
    assert rasa[:3] == ["python", "-m", "bot.server.serve"], rasa
    rasa = with_option([python, *rasa[1:]], "--port", str(rasa_port))
    rasa = with_option(rasa, "--endpoints", "deploy/endpoints.yml")
    rasa += ["--interface", "127.0.0.1"]  # the container's own network; loopback here
    rasa_env = {**image.env, "ACTION_SERVER_URL": f"http://127.0.0.1:{actions_port}/webhook"}

    actions = shlex.split(compose_services()["actions"]["command"])
    assert actions[:3] == ["rasa", "run", "actions"], actions
    actions = with_option([python, "-m", "rasa", *actions[1:]], "--port", str(actions_port))
    actions_env = {**image.env, "SANIC_HOST": "127.0.0.1"}

    processes: dict[str, subprocess.Popen] = {}
    files = []
    try:
        for name, command, env in (("actions", actions, actions_env), ("rasa", rasa, rasa_env)):
            log = open(logs / f"{name}.log", "w")  # noqa: SIM115 (closed below)
            files.append(log)
            processes[name] = subprocess.Popen(
                as_image_user(command), cwd=image.app, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(f"http://127.0.0.1:{actions_port}/health", 120, processes["actions"])
        wait_until(f"http://127.0.0.1:{rasa_port}/", 240, processes["rasa"])
        yield Running(
            image,
            f"http://127.0.0.1:{rasa_port}",
            f"http://127.0.0.1:{actions_port}",
            processes,
            logs,
        )
    except Exception:
        for log in files:
            log.flush()
        for name in processes:
            sys.stderr.write(f"--- {name}.log\n{(logs / f'{name}.log').read_text('utf-8')[-6000:]}")
        raise
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in files:
            log.close()


# --- the tests --------------------------------------------------------------------------------


def test_tables_built_as_root_are_readable_by_everyone(image):
    tables = sorted(image.tables.glob("*.npz"))
    assert tables, f"no language-detection tables in {image.tables}:\n{image.build_log[-3000:]}"
    assert any(table.name.startswith("lingua-") for table in tables), tables
    assert image.tables.stat().st_mode & 0o777 == 0o755
    for table in tables:
        assert table.stat().st_uid == 0
        assert table.stat().st_mode & 0o777 == 0o644, table


def test_the_image_user_imports_the_project_from_app(image):
    """The editable install made in app/ (not the venv's, nor the repository's checkout)."""
    code = "import actions, bot, sys; print(bot.__file__, actions.__file__, sys.prefix)"
    result = subprocess.run(
        as_image_user([str(image.python), "-c", code]),
        cwd="/",
        env=image.env,
        capture_output=True,
        text=True,
        check=True,
    )
    bot, actions, prefix = result.stdout.split()
    assert Path(bot) == image.app / "bot" / "__init__.py"
    assert Path(actions) == image.app / "actions" / "__init__.py"
    assert Path(prefix) == image.python.parent.parent


def test_servers_run_as_the_image_user(running):
    for name, process in running.processes.items():
        status = Path(f"/proc/{process.pid}/status").read_text()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.MULTILINE)[1].split()
        assert set(uids) == {str(UID)}, (name, uids)
    log = (running.logs / "rasa.log").read_text("utf-8")
    assert "Building language-detection tables" not in log, "the image's tables were not used"
    assert "Could not save" not in log


def test_compose_health_checks_pass(running):
    services = compose_services()
    checks = {
        "rasa": (services["rasa-1"]["healthcheck"]["test"], running.rasa_url, "5005"),
        "actions": (services["actions"]["healthcheck"]["test"], running.actions_url, "5055"),
    }
    for name, (test, url, port) in checks.items():
        assert test[:3] == ["CMD", "python", "deploy/healthcheck.py"], (name, test)
        command = [str(running.image.python), *test[2:]]
        command[2] = command[2].replace(f"http://127.0.0.1:{port}", url)
        result = subprocess.run(
            as_image_user(command),
            cwd=running.image.app,
            env=running.image.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, (name, result.stdout, result.stderr)
    wrong = [str(running.image.python), "deploy/healthcheck.py", running.rasa_url + "/", "Nope"]
    assert subprocess.run(as_image_user(wrong), cwd=running.image.app, env=running.image.env,
                          capture_output=True).returncode == 1  # fmt: skip


def test_rasa_answers_in_the_users_language(running):
    from bot.core.locales import get_locale

    replies = running.say("hei, mitä kuuluu?")
    greet = get_locale("fi").texts["greet"]
    variants = greet if isinstance(greet, list) else [greet]
    assert "\n".join(reply.get("text", "") for reply in replies) in variants, replies


def test_the_action_server_answers_a_topic_question_in_the_users_language(running):
    from bot.content import content_source

    replies = running.say("hur får jag en integrationsplan?")
    text = "\n".join(reply.get("text", "") for reply in replies)
    topic = content_source().topic("integration_plan", "sv")
    swedish = [topic.title, topic.answer, *(answer.answer for answer in topic.answers)]
    assert any(part and part in text for part in swedish), text
    assert re.search(r"https://([a-z0-9-]+\.)+fi/", text), "an official Finnish source"
    stored = running.image.app / "var" / "tracker.sqlite3"
    assert stored.is_file() and stored.stat().st_uid == UID, "conversations kept in var/"
