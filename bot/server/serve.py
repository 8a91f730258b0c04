"""Starts the Rasa server with its security settings and Kotobot's Rasa patches (`make run`).

One place builds the ``rasa run`` arguments from environment variables, and the tests start
their servers through it (bot/tools/harness.py), so what tests/test_security.py checks is what
ships. Rasa's HTTP API (``/conversations``, ``/model``...) is off unless ``KOTOBOT_ENABLE_API``
is set, and then it needs ``KOTOBOT_API_TOKEN`` or ``KOTOBOT_JWT_SECRET``: Rasa itself would
serve it to anyone, and it can read every conversation and replace the model. CORS origins come
from ``KOTOBOT_CORS_ORIGINS``. Rasa runs in this process, so the token and secret never appear on
a command line (``ps`` shows command lines to every user of the machine). docs/security.md.
Every other ``KOTOBOT_*`` setting (bot/core/settings.py) is checked here too, before Rasa loads: a
bad value stops the start with one message naming it.

    python -m bot.server.serve --check            # print every setting, refuse bad or unsafe ones
    python -m bot.server.serve [--port 5005] ...  # run it (further arguments go to `rasa run`)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.settings import (
    DEFAULT_CORS_ORIGINS as DEFAULT_CORS_ORIGINS,  # re-exported: the tests'
)
from bot.core.settings import (
    DEFAULT_JWT_METHOD,
    SettingsError,
    describe,
    get_settings,
    load_settings,
    secret,
    unknown_variables,
)

ENABLE_API = "KOTOBOT_ENABLE_API"
API_TOKEN = "KOTOBOT_API_TOKEN"
JWT_SECRET = "KOTOBOT_JWT_SECRET"
JWT_METHOD = "KOTOBOT_JWT_METHOD"
CORS_ORIGINS = "KOTOBOT_CORS_ORIGINS"
# Short secrets can be guessed; `openssl rand -hex 32` gives 64 characters.
MIN_TOKEN_CHARS = 16
MIN_HMAC_SECRET_CHARS = 32
# `rasa run` options that would bypass the checks (argparse also takes their prefixes).
RESERVED_OPTIONS = ("--enable-api", "--auth-token", "-t", "--jwt-secret", "--jwt-method",
                    "--jwt-private-key", "--cors")  # fmt: skip
DOCS = "docs/security.md"


# Settings the server refuses to start with; the message says what to set.
ConfigError = SettingsError


@dataclass(frozen=True)
class Settings:
    """What the settings ask of the Rasa server."""

    api: bool
    token: str | None
    jwt_secret: str | None
    jwt_method: str
    cors_origins: tuple[str, ...]

    def describe(self) -> str:
        if not self.api:
            api = f"off (set {ENABLE_API}=1 and a token to enable it)"
        else:
            ways = ["token"] if self.token else []
            ways += [f"JWT {self.jwt_method}"] if self.jwt_secret else []
            api = "on, behind " + " or ".join(ways)
        return f"Rasa HTTP API {api}; CORS origins: {' '.join(self.cors_origins) or '(none)'}"


def read_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The server's settings from ``env`` (default: the process's settings, bot/core/settings.py);
    :class:`ConfigError` when any setting is bad, or the API's unsafe."""
    kotobot = get_settings() if env is None else load_settings(env)
    settings = Settings(
        kotobot.enable_api,
        secret(kotobot.api_token),
        secret(kotobot.jwt_secret),
        kotobot.jwt_method,
        kotobot.cors_origins,
    )
    if settings.api:
        _check_api(settings)
    return settings


def _check_api(settings: Settings) -> None:
    if not settings.token and not settings.jwt_secret:
        raise ConfigError(
            f"{ENABLE_API}=1 opens Rasa's HTTP API (every conversation, the model), so it needs "
            f"{API_TOKEN} (a random string of at least {MIN_TOKEN_CHARS} characters, e.g. "
            f"`openssl rand -hex 32`) or {JWT_SECRET} (with {JWT_METHOD}, default "
            f"{DEFAULT_JWT_METHOD}). Neither is set: not starting. See {DOCS}."
        )
    if settings.token and len(settings.token) < MIN_TOKEN_CHARS:
        raise ConfigError(f"{API_TOKEN} is shorter than {MIN_TOKEN_CHARS} characters")
    if settings.jwt_secret and len(settings.jwt_secret) < MIN_HMAC_SECRET_CHARS:
        raise ConfigError(f"{JWT_SECRET} is shorter than {MIN_HMAC_SECRET_CHARS} characters")


def check_extra_arguments(extra: Sequence[str]) -> None:
    """Refuses `rasa run` options that would switch the API or CORS on behind the checks."""
    for argument in extra:
        name = argument.split("=", 1)[0]
        if name.startswith("--"):
            reserved = len(name) > 2 and any(o.startswith(name) for o in RESERVED_OPTIONS)
        else:  # "-t", "-tSECRET"
            reserved = name[:2] in RESERVED_OPTIONS
        if reserved:
            raise ConfigError(
                f"{name}: set {ENABLE_API}, {API_TOKEN}, {JWT_SECRET}, {JWT_METHOD} or "
                f"{CORS_ORIGINS} instead (see {DOCS})"
            )


def rasa_arguments(
    settings: Settings, options: argparse.Namespace, extra: Sequence[str] = ()
) -> list[str]:
    """The ``rasa run`` command line (without the program name); ``extra`` goes last."""
    arguments = [
        "run", "--model", options.model, "--port", str(options.port),
        "--credentials", options.credentials, "--endpoints", options.endpoints,
        "--cors", *settings.cors_origins,
    ]  # fmt: skip
    if options.interface:
        arguments += ["--interface", options.interface]
    if settings.api:
        arguments.append("--enable-api")
        if settings.token:
            arguments += ["--auth-token", settings.token]
        if settings.jwt_secret:
            arguments += ["--jwt-secret", settings.jwt_secret, "--jwt-method", settings.jwt_method]
    return [*arguments, *extra]


def parse_options(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python -m bot.server.serve", description=__doc__.split("\n\n")[0], allow_abbrev=False
    )
    parser.add_argument("--check", action="store_true", help="check the settings and exit")
    parser.add_argument("--model", default="models/kotobot.tar.gz")
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--interface", help="address to listen on (Rasa's default: all)")
    parser.add_argument("--credentials", default="credentials.yml")
    parser.add_argument("--endpoints", default="endpoints.yml")
    return parser.parse_known_args(argv)


def skip_unused_imports() -> None:
    """TensorFlow (which Rasa imports whatever the pipeline) imports JAX when it is installed,
    only for TF Lite's JAX converter, which a Rasa server never uses: ~70 MB of resident memory.
    Marking it missing makes TensorFlow skip it, as it does on machines without JAX."""
    sys.modules.setdefault("jax", None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    options, extra = parse_options(sys.argv[1:] if argv is None else argv)
    try:
        settings = read_settings()
        check_extra_arguments(extra)
    except ConfigError as error:
        print(f"Kotobot: {error}", file=sys.stderr)
        return 2
    for name in unknown_variables():
        print(f"Kotobot: WARNING {name} is not a Kotobot setting (a typo?)", file=sys.stderr)
    if "*" in settings.cors_origins:
        print(f"Kotobot: WARNING {CORS_ORIGINS} contains '*': any web site may use the chat")
    if options.check:
        print("Kotobot settings (source: env, file or default; secrets masked):")
        print("\n".join(f"  {line}" for line in describe(get_settings())))
    print(f"Kotobot: {settings.describe()}", flush=True)
    if options.check:
        return 0
    return run_patched_rasa(rasa_arguments(settings, options, extra))


def run_patched_rasa(arguments: Sequence[str]) -> int:
    """Rasa's command line with Kotobot's patches installed (bot/server/rasa_patches.py); 2
    when this Rasa is not the one they were written for."""
    skip_unused_imports()
    from rasa.__main__ import main as rasa_main  # heavy: only when it really starts

    from bot.server.rasa_patches import PatchError, install

    try:
        install()
    except PatchError as error:
        print(f"Kotobot: {error}", file=sys.stderr)
        return 2
    sys.argv = ["rasa", *arguments]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
