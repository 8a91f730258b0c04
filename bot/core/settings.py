"""Kotobot's configuration: every ``KOTOBOT_*`` variable, typed and checked in one place.

Why: the variables used to be read in nine modules, each with its own parsing and its own
reaction to a bad value; a typo in ``KOTOBOT_CONTENT_SOURCE`` silently served the bundled
content, a bad TTL became the default, and the code that puts a database password into its URL
was written three times. Here every setting has a type, a default (the same as before, so
``endpoints.yml`` and ``credentials.yml`` work as committed with no variable set) and one check:
a bad value stops the server at start with one message naming the variable, its value and what
is allowed. ``python -m bot.server.serve --check`` prints every setting, where it came from and its
value (secrets masked); ``python -m bot.core.settings`` prints the table of README.md.

Where a value comes from, first found wins: the environment; the YAML file ``KOTOBOT_CONFIG``
(else ``./kotobot.yml`` if present), whose keys are the variable names; the default.

    from bot.core.settings import get_settings
    get_settings().content_source        # "files" or "http"

:func:`get_settings` parses the settings once per distinct set of ``KOTOBOT_*`` variables, so a
test that changes one (``monkeypatch.setenv``) gets fresh settings; ``get_settings.cache_clear()``
forgets them all (e.g. after editing the file). Nothing is read at import.

:func:`sql_url` and :func:`redis_options` are the one place a password from its own variable is
combined with a database URL: the tracker store, the feedback log and the lock store use them.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseSettings, Field, PrivateAttr, SecretStr, ValidationError, validator

PREFIX = "KOTOBOT_"
CONFIG_ENV = "KOTOBOT_CONFIG"
CONFIG_FILE = "kotobot.yml"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONTENT_TTL = 300.0
DEFAULT_PTV_URL = "https://api.palvelutietovaranto.suomi.fi/api/v11"
DEFAULT_MAX_MESSAGE_CHARS = 1000
DEFAULT_CORS_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
DEFAULT_JWT_METHOD = "HS256"
DEFAULT_REDIS_PORT = 6379
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
MASK = "****"
# KOTOBOT_* variables of the tools around the bot (tests, benchmarks, scripts/start-*.sh), not
# settings: --check does not call them unknown.
TOOL_VARIABLES = frozenset({
    "KOTOBOT_TEST_POSTGRES_URL", "KOTOBOT_TEST_REDIS_URL", "KOTOBOT_PERF_NETNS",
    "KOTOBOT_PG_PORT", "KOTOBOT_PG_DIR", "KOTOBOT_REDIS_PORT", "KOTOBOT_REDIS_DIR",
})  # fmt: skip

ContentSourceKind = Literal["files", "http"]
# Shared-secret methods only: for RS/ES/PS Rasa (sanic-jwt) wants the signing private key too,
# which a server that only checks tokens should not hold.
JwtMethod = Literal["HS256", "HS384", "HS512"]


class SettingsError(ValueError):
    """Settings Kotobot refuses to start with; the message names the variable and what to set."""


class Settings(BaseSettings):
    """The effective settings. Build them with :func:`get_settings` or :func:`load_settings`:
    ``Settings()`` alone gives the defaults (this class reads no environment itself, so that
    the loader knows where each value came from)."""

    home: Path = Field(
        REPO_ROOT,
        description="where `locales/`, `content/`, `topics.yml` are read from",
        default_text="repo root",
    )
    content_source: ContentSourceKind = Field(
        "files", description="`files` (bundled `content/`) or `http` (content API)"
    )
    content_url: str | None = Field(
        None, description="base URL of the content API; required by `http`", url=True
    )
    content_ttl: float = Field(
        DEFAULT_CONTENT_TTL,
        ge=0,
        description="seconds a fetched topic is used before revalidating",
        format="a number of seconds, 0 or more (e.g. 300)",
    )
    ptv_url: str = Field(
        DEFAULT_PTV_URL, description="Service Catalogue (PTV) API base URL", url=True
    )
    db_url: str | None = Field(
        None,
        description="tracker store, an SQLAlchemy URL (e.g. `postgresql://user@host/db`)",
        url=True,
        default_text="SQLite in `var/`",
    )
    db_password: SecretStr | None = Field(
        None, description="tracker-store password, kept out of the URL", strip=False
    )
    feedback_db: Path | None = Field(
        None,
        description="feedback and fallback log, an SQLite file (unset while `KOTOBOT_DB_URL` "
        "is set: in that database)",
        default_text="`var/feedback.sqlite3`",
    )
    feedback_db_url: str | None = Field(
        None, description="feedback log database (wins over the two above)", url=True
    )
    feedback_db_password: SecretStr | None = Field(
        None, description="its password, kept out of the URL", strip=False
    )
    redis_url: str | None = Field(
        None,
        description="Redis lock store (`redis://host:6379/0`) for several servers or workers",
        url=True,
        default_text="(none: locks in memory)",
    )
    redis_password: SecretStr | None = Field(
        None, description="Redis password, kept out of the URL", strip=False
    )
    max_message_chars: int = Field(
        DEFAULT_MAX_MESSAGE_CHARS,
        ge=1,
        description="longest accepted message, in characters",
        format="a whole number of characters, 1 or more",
    )
    enable_api: bool = Field(
        False, description="`1` enables Rasa's HTTP API (needs a token or JWT secret)"
    )
    api_token: SecretStr | None = Field(None, description="API token, 16 characters or more")
    jwt_secret: SecretStr | None = Field(None, description="JWT secret, 32 characters or more")
    jwt_method: JwtMethod = Field(DEFAULT_JWT_METHOD, description="JWT method")
    cors_origins: tuple[str, ...] = Field(
        DEFAULT_CORS_ORIGINS,
        description="origins allowed by Rasa, separated by spaces (empty: none)",
        keep_empty=True,
    )
    langid_tables: Path | None = Field(
        None,
        description="language-detection tables file (built there when missing)",
        default_text="venv's `share/kotobot/lingua-<version>-<hash>.npz`",
    )

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _config_file: Path | None = PrivateAttr(None)

    class Config:
        env_prefix = PREFIX
        allow_mutation = False
        extra = "forbid"

        @classmethod
        def customise_sources(
            cls, init_settings: Any, env_settings: Any, file_secret_settings: Any
        ) -> tuple[Any, ...]:
            return (init_settings,)  # load_settings reads the environment and the file

    @validator("home")
    def _existing_folder(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError("expected an existing folder (the project root)")
        return value

    @validator("content_source", pre=True)
    def _lower_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @validator("content_url", "ptv_url")
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else http_base_url(value)

    @validator("content_url", always=True)
    def _url_for_http(cls, value: str | None, values: dict[str, Any]) -> str | None:
        if value is None and values.get("content_source") == "http":
            raise ValueError(
                "KOTOBOT_CONTENT_SOURCE=http needs the content API's base URL, "
                "e.g. https://content.example.fi"
            )
        return value

    @validator("db_url", "feedback_db_url")
    def _sql_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_sql_url(value)
        return value

    @validator("redis_url")
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None:
            redis_options(value)
        return value

    @validator("enable_api", pre=True)
    def _flag(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE or text in FALSE:
            return text in TRUE
        raise ValueError(
            f"allowed values are {', '.join(TRUE)} (on) and {', '.join(FALSE)} or empty (off)"
        )

    @validator("cors_origins", pre=True)
    def _origins(cls, value: Any) -> Any:
        return tuple(value.split()) if isinstance(value, str) else value

    def source(self, name: str) -> str:
        """Where the value of field ``name`` came from: ``env``, ``file <path>`` or ``default``."""
        return self._sources.get(name, "default")

    @property
    def config_file(self) -> Path | None:
        return self._config_file

    def shown(self, name: str) -> str:
        """The value of field ``name`` as --check prints it: secrets and URL passwords masked."""
        return show(name, getattr(self, name))

    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        return [(name, self.shown(name)) for name in self.__fields__]


def env_name(field: str) -> str:
    return PREFIX + field.upper()


def field_of(variable: str) -> str | None:
    """The field of a ``KOTOBOT_*`` variable name (or of a field name), None if there is none."""
    name = variable.removeprefix(PREFIX).lower() if variable.isupper() else variable
    return name if name in Settings.__fields__ else None


def is_secret(name: str) -> bool:
    return Settings.__fields__[name].outer_type_ is SecretStr


def show(name: str, value: Any) -> str:
    """``value`` of field ``name`` fit to print: secrets as ``****``, URLs without password."""
    if value is None:
        return "(not set)"
    if is_secret(name):
        return MASK
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, tuple):
        return " ".join(value) or "(none)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if Settings.__fields__[name].field_info.extra.get("url"):
        return mask_url(str(value))
    return str(value)


def secret(value: SecretStr | str | None) -> str | None:
    """The plain text of a secret, None when unset."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


# ---------------------------------------------------------------- URLs


def http_base_url(value: str) -> str:
    """``value`` without the final ``/`` when it is an absolute http(s) URL without query or
    fragment; ValueError otherwise."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            "expected an absolute http(s) URL without query or fragment, "
            "e.g. https://content.example.fi/api"
        )
    return value.strip().rstrip("/")


def mask_url(url: str) -> str:
    """``url`` with its password, if any, replaced by ``****`` (also in a malformed URL)."""
    head, at, host = url.rpartition("@")
    if not at:
        return url
    start = head.find("://") + 3 if "://" in head else 0
    user, colon, _password = head[start:].partition(":")
    if not colon:
        return url
    return f"{head[:start]}{user}:{MASK}@{host}"


def check_sql_url(url: str) -> None:
    """ValueError unless SQLAlchemy can read ``url`` and knows its database."""
    from sqlalchemy.engine.url import make_url

    example = "e.g. postgresql://kotobot@db:5432/kotobot or sqlite:////data/tracker.sqlite3"
    try:
        parsed = make_url(url)
    except Exception:  # ArgumentError, ValueError (a bad port)
        raise ValueError(f"expected an SQLAlchemy URL, {example}") from None
    try:
        parsed.get_dialect()
    except Exception:  # NoSuchModuleError: postgres://, mysql+unknown://...
        raise ValueError(f"unknown database {parsed.drivername!r}, {example}") from None


def sql_url(url: str, password: SecretStr | str | None = None) -> str:
    """The SQLAlchemy URL to connect to: ``url`` with ``password`` (from its own variable, never
    a committed file) put in, quoted as URLs need; ``url`` unchanged without a password."""
    password = secret(password)
    if not password:
        return url
    from sqlalchemy.engine.url import make_url

    return make_url(url).set(password=password).render_as_string(hide_password=False)


def redis_options(url: str, password: SecretStr | str | None = None) -> dict[str, Any]:
    """Redis connection arguments (Rasa's RedisLockStore's) from ``redis://host:port/db``
    (``rediss://`` for TLS); ``password`` wins over one in the URL. ValueError if malformed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError(
            f"expected redis://host:port/db or rediss://host:port/db (got scheme {parts.scheme!r})"
        )
    db = parts.path.strip("/") or "0"
    try:
        port = parts.port or DEFAULT_REDIS_PORT
    except ValueError as error:
        raise ValueError(f"expected redis://host:port/db ({error})") from None
    if not db.isdigit() or parts.query or parts.fragment:
        raise ValueError("expected redis://host:port/db: the path must be a database number")
    return {
        "host": parts.hostname,
        "port": port,
        "db": int(db),
        "username": unquote(parts.username) if parts.username else None,
        "password": secret(password) or (unquote(parts.password) if parts.password else None),
        "use_ssl": parts.scheme == "rediss",
    }


# ---------------------------------------------------------------- loading


def config_file_path(env: Mapping[str, str], cwd: Path | None = None) -> Path | None:
    """``KOTOBOT_CONFIG``, else ``./kotobot.yml`` when it exists, else None."""
    configured = env.get(CONFIG_ENV, "").strip()
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise SettingsError(f"{CONFIG_ENV}={configured!r} is not valid: no such file")
        return path
    default = (cwd or Path.cwd()) / CONFIG_FILE
    return default if default.is_file() else None


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's settings by field name; SettingsError for anything but known keys."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SettingsError(f"{path}: cannot be read as YAML ({error})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of KOTOBOT_* names to values")
    values = {}
    for key, value in data.items():
        field = field_of(str(key))
        if field is None:
            raise SettingsError(f"{path}: {key!r} is not a Kotobot setting (see README.md)")
        if isinstance(value, list) and field == "cors_origins":
            value = " ".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "1" if value else "0"
        if value is not None:
            values[field] = str(value)
    return values


def _clean(field: str, raw: str) -> str | None:
    """A raw text value as the field takes it; None: as if unset (empty means default)."""
    extra = Settings.__fields__[field].field_info.extra
    value = raw if extra.get("strip") is False else raw.strip()
    if value or extra.get("keep_empty"):
        return value
    return None


def load_settings(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """The settings from ``env`` (default: the process environment) and the config file;
    :class:`SettingsError` naming every bad value."""
    env = os.environ if env is None else env
    path = config_file_path(env, cwd)
    raw: dict[str, tuple[str, str]] = {}  # field: (text, where from)
    if path is not None:
        for field, text in read_config_file(path).items():
            raw[field] = (text, f"file {path}")
    for field in Settings.__fields__:
        if env_name(field) in env:
            raw[field] = (env[env_name(field)], "env")
    values, sources = {}, {}
    for field, (text, where) in raw.items():
        value = _clean(field, text)
        if value is not None:
            values[field], sources[field] = value, where
    try:
        settings = Settings(**values)
    except ValidationError as error:
        problems = [_problem(item, raw) for item in error.errors()]
        raise SettingsError(_joined(problems)) from None
    settings._sources.update(sources)
    settings._config_file = path
    return settings


def _problem(error: dict[str, Any], raw: Mapping[str, tuple[str, str]]) -> str:
    """One line: ``KOTOBOT_X='value' is not valid: what is allowed``."""
    field = str(error["loc"][0])
    model_field = Settings.__fields__[field]
    allowed = typing.get_args(model_field.outer_type_)
    if error["type"] == "value_error":  # our own validators say what is expected
        expected = error["msg"]
    elif typing.get_origin(model_field.outer_type_) is Literal:
        expected = "allowed values are " + ", ".join(map(str, allowed))
    elif "format" in model_field.field_info.extra:
        expected = "expected " + model_field.field_info.extra["format"]
    else:
        expected = error["msg"]
    if field not in raw:
        return f"{env_name(field)} is not set: {expected}"
    text, where = raw[field]
    value = show(field, text)
    origin = f" (from {where.removeprefix('file ')})" if where != "env" else ""
    return f"{env_name(field)}={value!r}{origin} is not valid: {expected}"


def _joined(problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} settings are not valid:\n" + "\n".join(f"  {p}" for p in problems)


class _CachedSettings:
    """:func:`get_settings`: one parse per distinct environment (and working directory)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], Settings] = {}

    def __call__(self) -> Settings:
        key = (tuple(sorted(kotobot_variables().items())), _cwd())
        settings = self._cache.get(key)
        if settings is None:
            settings = load_settings()  # a SettingsError is raised again on every call
            if len(self._cache) >= 16:
                self._cache.clear()
            self._cache[key] = settings
        return settings

    def cache_clear(self) -> None:
        self._cache.clear()


get_settings = _CachedSettings()


def kotobot_variables(env: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    return {name: value for name, value in env.items() if name.startswith(PREFIX)}


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # the working directory was deleted
        return ""


def unknown_variables(env: Mapping[str, str] | None = None) -> list[str]:
    """``KOTOBOT_*`` variables that are no setting: most likely typos."""
    known = {env_name(field) for field in Settings.__fields__} | {CONFIG_ENV} | TOOL_VARIABLES
    return sorted(name for name in kotobot_variables(env) if name not in known)


def describe(settings: Settings) -> Iterator[str]:
    """``KOTOBOT_X=value  (source)`` for every setting, secrets masked: what --check prints."""
    config = str(settings.config_file) if settings.config_file else "(none)"
    width = max(len(env_name(field)) for field in Settings.__fields__)
    yield f"{CONFIG_ENV.ljust(width)} = {config}"
    for field in Settings.__fields__:
        where = settings.source(field)
        yield f"{env_name(field).ljust(width)} = {settings.shown(field)}  ({where})"


def markdown_table() -> str:
    """The variables table of README.md, from the fields above."""
    lines = ["| variable | default | what |", "|---|---|---|"]
    lines.append(f"| `{CONFIG_ENV}` | `./{CONFIG_FILE}` if present | YAML file of settings "
                 "(keys: these names); the environment wins over it |")  # fmt: skip
    for field, model_field in Settings.__fields__.items():
        default = model_field.default
        if "default_text" in model_field.field_info.extra:
            shown = model_field.field_info.extra["default_text"]
        elif default is None:
            shown = "(none)"
        elif isinstance(default, tuple):
            shown = f"`{' '.join(default)}`"
        elif isinstance(default, bool):
            shown = "off"
        elif isinstance(default, float) and default.is_integer():
            shown = str(int(default))
        else:
            shown = str(default) if isinstance(default, int) else f"`{default}`"
        kind = typing.get_args(model_field.outer_type_)
        what = model_field.field_info.description or ""
        if typing.get_origin(model_field.outer_type_) is Literal and field != "content_source":
            what += f" ({', '.join(map(str, kind))})"
        lines.append(f"| `{env_name(field)}` | {shown} | {what} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
