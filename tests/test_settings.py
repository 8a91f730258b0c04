"""bot/core/settings.py: every KOTOBOT_* variable typed, defaulted and checked in one place (issue
#15, item 2), the one helper that puts passwords into database URLs, and `bot.server.serve
--check`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.answers import feedback
from bot.core.settings import (
    DEFAULT_CORS_ORIGINS,
    DEFAULT_PTV_URL,
    MASK,
    REPO_ROOT,
    Settings,
    SettingsError,
    describe,
    get_settings,
    load_settings,
    markdown_table,
    redis_options,
    sql_url,
    unknown_variables,
)
from bot.server import serve
from bot.server.lock_store import LockStoreConfigError, redis_settings_from
from bot.server.tracker_store import database_url
from bot.tools.harness import free_port
from tests.support.paths import ROOT

SECRETS = {
    "KOTOBOT_DB_PASSWORD": "s3cret-db",
    "KOTOBOT_DB_URL": "postgresql://kotobot:fake-url-pw-1@db.example:5432/kotobot",
    "KOTOBOT_FEEDBACK_DB_PASSWORD": "s3cret-feedback",
    "KOTOBOT_REDIS_URL": "redis://:fake-url-pw-2@redis:6379/0",
    "KOTOBOT_REDIS_PASSWORD": "s3cret-redis",
    "KOTOBOT_ENABLE_API": "1",
    "KOTOBOT_API_TOKEN": "s3cret-token-0123456789",
    "KOTOBOT_JWT_SECRET": "s3cret-jwt-0123456789abcdef0123456789",
}
HIDDEN = ("s3cret", "fake-url-pw")


@pytest.fixture
def no_settings(monkeypatch, tmp_path):
    """No KOTOBOT_* variable set, and a working directory without kotobot.yml."""
    for name in list(os.environ):
        if name.startswith("KOTOBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def run_check(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot.server.serve --check` with only ``env``'s KOTOBOT_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KOTOBOT_")}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot.server.serve", "--check"],
        cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


# ---------------------------------------------------------------- defaults


def test_defaults_with_an_empty_environment(tmp_path):
    settings = load_settings({}, cwd=tmp_path)
    assert settings.home == REPO_ROOT
    assert (settings.content_source, settings.content_url) == ("files", None)
    assert (settings.content_ttl, settings.ptv_url) == (300.0, DEFAULT_PTV_URL)
    assert settings.ptv_url == "https://api.palvelutietovaranto.suomi.fi/api/v11"
    for name in ("db_url", "db_password", "feedback_db", "feedback_db_url",
                 "feedback_db_password", "redis_url", "redis_password", "api_token",
                 "jwt_secret", "langid_tables"):  # fmt: skip
        assert getattr(settings, name) is None, name
    assert (settings.max_message_chars, settings.enable_api) == (1000, False)
    assert (settings.jwt_method, settings.cors_origins) == ("HS256", DEFAULT_CORS_ORIGINS)
    assert DEFAULT_CORS_ORIGINS == ("http://localhost:8080", "http://127.0.0.1:8080")
    assert {settings.source(name) for name in Settings.__fields__} == {"default"}
    assert settings.config_file is None


def test_an_empty_variable_means_the_default_except_for_cors(tmp_path):
    env = {"KOTOBOT_CONTENT_SOURCE": " ", "KOTOBOT_CONTENT_TTL": "", "KOTOBOT_API_TOKEN": "  ",
           "KOTOBOT_ENABLE_API": "", "KOTOBOT_CORS_ORIGINS": ""}  # fmt: skip
    settings = load_settings(env, cwd=tmp_path)
    assert (settings.content_source, settings.content_ttl) == ("files", 300.0)
    assert (settings.api_token, settings.enable_api) == (None, False)
    assert settings.cors_origins == ()  # set but empty: no origin, as before


def test_values_are_parsed(tmp_path):
    env = {
        "KOTOBOT_HOME": str(tmp_path),
        "KOTOBOT_CONTENT_SOURCE": " HTTP ",
        "KOTOBOT_CONTENT_URL": "https://content.example.fi/api/",
        "KOTOBOT_CONTENT_TTL": "60",
        "KOTOBOT_MAX_MESSAGE_CHARS": "200",
        "KOTOBOT_ENABLE_API": "Yes",
        "KOTOBOT_CORS_ORIGINS": "https://a.example  https://b.example",
        "KOTOBOT_DB_PASSWORD": " spaces kept ",
        "KOTOBOT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
    }
    settings = load_settings(env, cwd=tmp_path)
    assert settings.home == tmp_path
    assert (settings.content_source, settings.content_url) == (
        "http",
        "https://content.example.fi/api",
    )
    assert (settings.content_ttl, settings.max_message_chars) == (60.0, 200)
    assert settings.enable_api is True
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.db_password.get_secret_value() == " spaces kept "
    assert settings.feedback_db == tmp_path / "feedback.sqlite3"
    assert settings.source("content_ttl") == "env" and settings.source("ptv_url") == "default"


@pytest.mark.parametrize("flag", ["1", "true", "yes", "on", "ON", "0", "false", "no", "off"])
def test_enable_api_flags(tmp_path, flag):
    on = load_settings({"KOTOBOT_ENABLE_API": flag}, cwd=tmp_path).enable_api
    assert on is (flag.lower() in ("1", "true", "yes", "on"))


# ---------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("KOTOBOT_CONTENT_SOURCE", "htp", "allowed values are files, http"),
        ("KOTOBOT_JWT_METHOD", "RS256", "allowed values are HS256, HS384, HS512"),
        ("KOTOBOT_JWT_METHOD", "none", "allowed values are HS256, HS384, HS512"),
        ("KOTOBOT_ENABLE_API", "maybe", "allowed values are 1, true, yes, on (on) and 0"),
        ("KOTOBOT_MAX_MESSAGE_CHARS", "many", "a whole number of characters, 1 or more"),
        ("KOTOBOT_MAX_MESSAGE_CHARS", "0", "a whole number of characters, 1 or more"),
        ("KOTOBOT_MAX_MESSAGE_CHARS", "12.5", "a whole number of characters, 1 or more"),
        ("KOTOBOT_CONTENT_TTL", "five minutes", "a number of seconds, 0 or more"),
        ("KOTOBOT_CONTENT_TTL", "-1", "a number of seconds, 0 or more"),
        ("KOTOBOT_PTV_URL", "api.example.fi", "an absolute http(s) URL"),
        ("KOTOBOT_PTV_URL", "https://api.example.fi/?x=1", "without query or fragment"),
        ("KOTOBOT_DB_URL", "postgres://kotobot@db/kotobot", "unknown database 'postgres'"),
        ("KOTOBOT_FEEDBACK_DB_URL", "not a url", "expected an SQLAlchemy URL"),
        ("KOTOBOT_REDIS_URL", "http://redis:6379/0", "redis://host:port/db"),
        ("KOTOBOT_REDIS_URL", "redis://redis/zero", "the path must be a database number"),
        ("KOTOBOT_HOME", "/no/such/folder", "an existing folder"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable_value_and_what_is_allowed(
    tmp_path, name, value, expected
):
    with pytest.raises(SettingsError) as refused:
        load_settings({name: value}, cwd=tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{name}={value!r} is not valid: "), message
    assert expected in message
    assert "\n" not in message, "one setting, one line"


def test_the_content_api_needs_its_url(tmp_path):
    with pytest.raises(SettingsError, match="^KOTOBOT_CONTENT_URL is not set: .*=http needs"):
        load_settings({"KOTOBOT_CONTENT_SOURCE": "http"}, cwd=tmp_path)


def test_every_bad_value_is_named_in_one_error(tmp_path):
    env = {"KOTOBOT_CONTENT_SOURCE": "htp", "KOTOBOT_MAX_MESSAGE_CHARS": "x"}
    with pytest.raises(SettingsError) as refused:
        load_settings(env, cwd=tmp_path)
    message = str(refused.value)
    assert message.startswith("2 settings are not valid:")
    assert "KOTOBOT_CONTENT_SOURCE='htp'" in message and "KOTOBOT_MAX_MESSAGE_CHARS='x'" in message


def test_a_bad_url_is_shown_without_its_password(tmp_path):
    with pytest.raises(SettingsError) as refused:
        load_settings(
            {"KOTOBOT_DB_URL": "postgres://kotobot:fake-hunter2@db.example/kotobot"}, cwd=tmp_path
        )
    assert "fake-hunter2" not in str(refused.value)
    assert f"KOTOBOT_DB_URL='postgres://kotobot:{MASK}@db.example/kotobot'" in str(refused.value)


def test_the_server_refuses_any_bad_setting(tmp_path, no_settings):
    with pytest.raises(serve.ConfigError, match="KOTOBOT_CONTENT_SOURCE"):
        serve.read_settings({"KOTOBOT_CONTENT_SOURCE": "htp"})
    no_settings.setenv("KOTOBOT_CONTENT_SOURCE", "htp")
    assert serve.main(["--check"]) == 2


def test_typos_in_variable_names_are_reported():
    env = {"KOTOBOT_CONTENT_SOUCE": "http", "KOTOBOT_DB_URL": "sqlite://",
           "KOTOBOT_TEST_REDIS_URL": "redis://x/0", "KOTOBOT_CONFIG": "k.yml"}  # fmt: skip
    assert unknown_variables(env) == ["KOTOBOT_CONTENT_SOUCE"]


# ---------------------------------------------------------------- secrets


def test_secrets_are_masked_in_repr_and_description(tmp_path):
    settings = load_settings(SECRETS, cwd=tmp_path)
    assert settings.api_token.get_secret_value() == SECRETS["KOTOBOT_API_TOKEN"]
    shown = "\n".join([repr(settings), str(settings), *describe(settings)])
    assert not any(secret in shown for secret in HIDDEN), shown
    assert f"postgresql://kotobot:{MASK}@db.example:5432/kotobot" in shown
    assert "KOTOBOT_DB_PASSWORD" in shown


# ---------------------------------------------------------------- the optional file


def test_the_file_gives_values_and_the_environment_wins(tmp_path):
    (tmp_path / "kotobot.yml").write_text(
        "KOTOBOT_CONTENT_TTL: 60\nmax_message_chars: 500\nKOTOBOT_ENABLE_API: false\n"
        "KOTOBOT_CORS_ORIGINS: [https://a.example, https://b.example]\n",
        "utf-8",
    )
    settings = load_settings({"KOTOBOT_MAX_MESSAGE_CHARS": "700"}, cwd=tmp_path)
    assert (settings.content_ttl, settings.max_message_chars) == (60.0, 700)
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.source("content_ttl") == f"file {tmp_path / 'kotobot.yml'}"
    assert settings.source("max_message_chars") == "env"
    assert settings.config_file == tmp_path / "kotobot.yml"


def test_kotobot_config_names_the_file_and_its_errors_are_clear(tmp_path):
    config = tmp_path / "elsewhere.yml"
    config.write_text("KOTOBOT_CONTENT_SOURCE: htp\n", "utf-8")
    with pytest.raises(SettingsError, match=r"KOTOBOT_CONTENT_SOURCE='htp' \(from .*elsewhere"):
        load_settings({"KOTOBOT_CONFIG": str(config)}, cwd=tmp_path)
    config.write_text("KOTOBOT_CONTENT_SORCE: http\n", "utf-8")
    with pytest.raises(SettingsError, match="'KOTOBOT_CONTENT_SORCE' is not a Kotobot setting"):
        load_settings({"KOTOBOT_CONFIG": str(config)}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="KOTOBOT_CONFIG='missing.yml' is not valid"):
        load_settings({"KOTOBOT_CONFIG": "missing.yml"}, cwd=tmp_path)


# ---------------------------------------------------------------- get_settings


def test_get_settings_is_cached_and_follows_the_environment(no_settings):
    first = get_settings()
    assert get_settings() is first
    no_settings.setenv("KOTOBOT_MAX_MESSAGE_CHARS", "123")
    assert get_settings().max_message_chars == 123
    no_settings.setenv("KOTOBOT_MAX_MESSAGE_CHARS", "bad")
    with pytest.raises(SettingsError, match="KOTOBOT_MAX_MESSAGE_CHARS"):
        get_settings()
    no_settings.delenv("KOTOBOT_MAX_MESSAGE_CHARS")
    get_settings.cache_clear()
    assert get_settings().max_message_chars == 1000 and get_settings() is not first


def test_importing_reads_no_environment(tmp_path):
    """A bad value fails where settings are used, not at import (tests, tools import freely)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOTOBOT_")}
    env.update(PYTHONPATH=str(ROOT), KOTOBOT_CONTENT_SOURCE="htp")
    modules = "bot.core.settings bot.server.serve bot.core.paths bot.server.channels.message_check"
    code = "import " + ", ".join([*modules.split(), "bot.content.sources"])
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 0


# ---------------------------------------------------------------- database URLs


def test_sql_url_puts_the_password_in_quoted():
    url = "postgresql://kotobot@db.example:5432/kotobot"
    assert sql_url(url) == url and sql_url(url, "") == url
    quoted = "fake-pw%2Fwith%40signs"
    assert (
        sql_url(url, "fake-pw/with@signs")
        == f"postgresql://kotobot:{quoted}@db.example:5432/kotobot"
    )
    assert (
        sql_url(url, SecretStr("fake-pw")) == "postgresql://kotobot:fake-pw@db.example:5432/kotobot"
    )
    replaced = sql_url("postgresql://kotobot:fake-old@db/k", "fake-new")
    assert replaced == "postgresql://kotobot:fake-new@db/k"


def test_redis_options_from_url_and_password():
    options = redis_options("rediss://kotobot:s%40cret@cache.example:6380/2")
    assert (options["host"], options["port"], options["db"]) == ("cache.example", 6380, 2)
    assert (options["username"], options["password"], options["use_ssl"]) == (
        "kotobot", "s@cret", True
    )  # fmt: skip
    assert redis_options("redis://redis", SecretStr("pw"))["password"] == "pw"
    assert redis_options("redis://redis")["port"] == 6379
    with pytest.raises(ValueError, match="redis://host:port/db"):
        redis_options("127.0.0.1:6379")


def test_tracker_store_feedback_log_and_lock_store_use_the_one_helper(no_settings, tmp_path):
    no_settings.setenv("KOTOBOT_DB_URL", "postgresql://kotobot@db:5432/kotobot")
    no_settings.setenv("KOTOBOT_DB_PASSWORD", "fake-pw/1")
    expected = "postgresql://kotobot:fake-pw%2F1@db:5432/kotobot"
    assert database_url() == expected
    assert feedback.configured_url() == expected  # the conversations' database
    no_settings.setenv("KOTOBOT_FEEDBACK_DB_URL", "postgresql://notes@db2/notes")
    no_settings.setenv("KOTOBOT_FEEDBACK_DB_PASSWORD", "fake-pw-2")
    assert feedback.configured_url() == "postgresql://notes:fake-pw-2@db2/notes"
    no_settings.setenv("KOTOBOT_REDIS_URL", "redis://cache:6380/1")
    no_settings.setenv("KOTOBOT_REDIS_PASSWORD", "fake-pw-3")
    options = redis_settings_from(None)
    assert (options["host"], options["port"], options["password"]) == ("cache", 6380, "fake-pw-3")
    no_settings.setenv("KOTOBOT_CONTENT_SOURCE", "htp")  # a bad setting stops Rasa's lock store
    with pytest.raises(LockStoreConfigError, match="KOTOBOT_CONTENT_SOURCE='htp'"):
        redis_settings_from(None)


# ---------------------------------------------------------------- python -m bot.server.serve
# --check


def test_check_refuses_a_bad_value_with_one_clear_message(tmp_path):
    done = run_check({"KOTOBOT_CONTENT_SOURCE": "htp"}, tmp_path)
    assert done.returncode != 0
    assert "KOTOBOT_CONTENT_SOURCE='htp' is not valid: allowed values are files, http" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr + done.stdout


def test_check_prints_every_setting_with_secrets_masked(tmp_path):
    done = run_check(SECRETS, tmp_path)
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert not any(secret in output for secret in HIDDEN), output
    for name in [*SECRETS, *(f"KOTOBOT_{field.upper()}" for field in Settings.__fields__)]:
        assert name in done.stdout, name
    assert "KOTOBOT_DB_PASSWORD" in done.stdout and "****  (env)" in done.stdout
    assert f"postgresql://kotobot:{MASK}@db.example:5432/kotobot  (env)" in done.stdout
    assert "KOTOBOT_CONTENT_SOURCE       = files  (default)" in done.stdout


def test_the_server_and_make_run_do_not_start_with_a_bad_value(tmp_path):
    """`python -m bot.server.serve` (no --check) and scripts/run.sh (`make run`, which starts the
    action
    server too) stop before anything starts."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KOTOBOT_")}
    ports = {name: str(free_port()) for name in ("RASA_PORT", "ACTIONS_PORT", "WEB_PORT")}
    env = {**clean, **ports, "PYTHONPATH": str(ROOT), "KOTOBOT_MAX_MESSAGE_CHARS": "lots"}
    for command in (
        [sys.executable, "-m", "bot.server.serve"],
        ["bash", str(ROOT / "scripts/run.sh")],
    ):
        done = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "KOTOBOT_MAX_MESSAGE_CHARS='lots' is not valid" in done.stderr
        assert "Traceback" not in done.stderr and "Kotobot: web page" not in done.stdout


def test_check_warns_of_unknown_kotobot_variables(tmp_path):
    done = run_check({"KOTOBOT_CONTENT_SOUCE": "http"}, tmp_path)
    assert done.returncode == 0
    assert "KOTOBOT_CONTENT_SOUCE is not a Kotobot setting" in done.stderr


# ---------------------------------------------------------------- documentation


def test_readme_lists_every_setting_as_generated():
    """README.md's table is `python -m bot.core.settings`'s output: regenerate it when a setting
    changes."""
    assert markdown_table() in (ROOT / "README.md").read_text("utf-8")


def test_make_run_refuses_a_bad_setting_before_any_work():
    """The issue's own case: `KOTOBOT_CONTENT_SOURCE=htp make run` stops at the settings check
    with one line naming the variable and the allowed values (no training, no traceback)."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOTOBOT_")}
    env["KOTOBOT_CONTENT_SOURCE"] = "htp"
    done = subprocess.run(
        ["make", "--no-print-directory", "check-settings"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "KOTOBOT_CONTENT_SOURCE='htp'" in done.stderr and "files, http" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
