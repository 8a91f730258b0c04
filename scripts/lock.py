"""The hash-pinned lock files of requirements/, compiled from pyproject.toml (`make lock`) and
checked against it (`make check-lock`, the first step of `make test` and so of CI).

    requirements/runtime.txt    pyproject.toml's dependencies, every package pinned with hashes
    requirements/dev.txt        the same plus the `dev` extra (tests, lint, the lock tool itself)
    requirements/bootstrap.txt  pip, setuptools and wheel (requirements/bootstrap.in), installed
                                first; setuptools and wheel are also the project's build backend

`make install` installs them with `pip install --require-hashes --no-deps`: nothing is resolved at
install time, so every machine and the image get exactly these files. Each lock's first line holds
the sha256 of the pyproject.toml sections it is compiled from; when it differs, the lock is stale.
A lock is rewritten only when its contents change (a new runtime.txt retrains the model).

    python scripts/lock.py compile [--upgrade-package NAME ...] [--upgrade]
    python scripts/lock.py check
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
PYTHON_VERSION = "3.10"
# Linux x86-64 with glibc >= 2.28 (Debian 10+, the python:3.10-slim-bookworm image). Every file
# of each pinned version is hashed, so other platforms' wheels verify too.
PLATFORM = "x86_64-manylinux_2_28"
HEADER = "# pyproject.toml dependencies sha256: "
LOCKS = ("runtime.txt", "dev.txt", "bootstrap.txt")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def load_toml(path: Path) -> dict:
    """tomllib is 3.11+; pip vendors tomli, so this runs on any Python with pip, venv or not."""
    try:
        import tomllib  # type: ignore[import-not-found]
    except ModuleNotFoundError:
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            from pip._vendor import tomli as tomllib  # type: ignore[no-redef]
    with path.open("rb") as file:
        return tomllib.load(file)


def dependency_digest(pyproject: Path, lock: str, requirements: Path = REQUIREMENTS) -> str:
    """sha256 of what ``lock`` is compiled from (comments and formatting aside): the Python
    version range and, for runtime.txt, the dependencies; for dev.txt, those and the extras; for
    bootstrap.txt, the build requirements and bootstrap.in."""
    data = load_toml(pyproject)
    project = data.get("project", {})
    sections: dict = {"requires-python": project.get("requires-python", "")}
    if lock in ("runtime.txt", "dev.txt"):
        sections["dependencies"] = project.get("dependencies", [])
    if lock == "dev.txt":
        sections["optional-dependencies"] = project.get("optional-dependencies", {})
    if lock == "bootstrap.txt":
        sections["build-system.requires"] = data.get("build-system", {}).get("requires", [])
        bootstrap_in = requirements / "bootstrap.in"
        lines = bootstrap_in.read_text("utf-8").splitlines() if bootstrap_in.is_file() else []
        sections["bootstrap.in"] = [line for line in lines if line and not line.startswith("#")]
    canonical = json.dumps(sections, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def pins(lock: Path) -> dict[str, str]:
    """{normalised name: version} of a lock file."""
    found = {}
    for line in lock.read_text("utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def unhashed(lock: Path) -> list[str]:
    """Pinned requirements without a --hash (pip would refuse the whole file)."""
    text = lock.read_text("utf-8").replace("\\\n", " ")
    return [
        line.split()[0]
        for line in text.splitlines()
        if PIN.match(line) and "--hash=sha256:" not in line
    ]


def problems(pyproject: Path, requirements: Path) -> list[str]:
    found = []
    for name in LOCKS:
        lock = requirements / name
        if not lock.is_file():
            found.append(f"{lock.name} is missing")
            continue
        first = lock.read_text("utf-8").partition("\n")[0]
        if first != HEADER + dependency_digest(pyproject, name, requirements):
            found.append(f"{lock.name} was compiled from other dependencies than pyproject.toml's")
        if missing := unhashed(lock):
            found.append(f"{lock.name} pins without hashes: {', '.join(missing)}")
    if not found:
        runtime, dev = pins(requirements / "runtime.txt"), pins(requirements / "dev.txt")
        bootstrap = pins(requirements / "bootstrap.txt")
        differ = sorted(n for n in runtime if dev.get(n) != runtime[n])
        differ += sorted(n for n in bootstrap if n in dev and dev[n] != bootstrap[n])
        if differ:
            found.append(f"runtime.txt, dev.txt and bootstrap.txt pin {', '.join(differ)} apart")
        for tool in ("pip", "setuptools", "wheel"):
            if tool not in bootstrap:
                found.append(f"bootstrap.txt does not pin {tool}")
    return found


def check(pyproject: Path, requirements: Path) -> int:
    found = problems(pyproject, requirements)
    if found:
        for problem in found:
            print(f"check-lock: {requirements.name}/{problem}", file=sys.stderr)
        print(
            "check-lock: the lock files do not match pyproject.toml: run `make lock` and commit "
            "requirements/ (`make lock UPGRADE=name` to upgrade one package)",
            file=sys.stderr,
        )
        return 1
    print(f"check-lock: {', '.join(LOCKS)} match pyproject.toml")
    return 0


def uv() -> str:
    """uv beside this Python; else dev.txt's uv (hash-checked) installed there first, so that
    `make lock` works in a venv whose packages no longer match pyproject.toml (a new dependency
    fails `make install`'s pip check until the locks have it)."""
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return str(beside)
    dev = REQUIREMENTS / "dev.txt"
    joined = dev.read_text("utf-8").replace("\\\n", " ").splitlines() if dev.is_file() else []
    pinned = [line for line in joined if line.startswith("uv==")]
    if not pinned:
        return "uv"  # not in the lock (yet): whichever uv is on PATH
    print(f"installing {pinned[0].split()[0]} from requirements/dev.txt to compile the locks")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as requirement:
        requirement.write(pinned[0] + "\n")
    try:
        install = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
                   "--require-hashes", "--no-deps", "-r", requirement.name]  # fmt: skip
        subprocess.run(install, check=True)
    finally:
        os.unlink(requirement.name)
    return str(beside)


def compile_locks(upgrade: list[str], upgrade_all: bool) -> int:
    options = ["--generate-hashes", "--python-version", PYTHON_VERSION, "--python-platform",
               PLATFORM, "--custom-compile-command", "make lock"]  # fmt: skip
    options += ["--upgrade"] if upgrade_all else [f"--upgrade-package={name}" for name in upgrade]
    # Runtime first; dev on top of it (constrained: the dev tools never move a runtime package);
    # the installer and build backend last, constrained to the versions the others pin.
    steps = [
        ("runtime.txt", ["pyproject.toml"]),
        ("dev.txt", ["pyproject.toml", "--extra", "dev", "-c", "requirements/runtime.txt"]),
        ("bootstrap.txt", ["requirements/bootstrap.in", "-c", "requirements/dev.txt"]),
    ]
    for number, (name, inputs) in enumerate(steps, 1):
        lock, new = REQUIREMENTS / name, REQUIREMENTS / f".{name}.new"
        print(f"[{number}/{len(steps)}] compiling requirements/{name}", flush=True)
        old = lock.read_text("utf-8") if lock.is_file() else ""
        new.write_text(old, "utf-8")  # uv keeps the pins of its output file unless upgrading
        try:
            command = [uv(), "pip", "compile", *inputs, *options, "-o", str(new.relative_to(ROOT))]
            if subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL).returncode != 0:
                return 1
            text = new.read_text("utf-8")
        finally:
            new.unlink(missing_ok=True)
        if text.startswith(HEADER):
            text = text.partition("\n")[2]
        text = f"{HEADER}{dependency_digest(ROOT / 'pyproject.toml', name)}\n{text}"
        if text != old:
            lock.write_text(text, "utf-8")
            print(f"      requirements/{name} updated")
        else:
            print(f"      requirements/{name} unchanged")
    return check(ROOT / "pyproject.toml", REQUIREMENTS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    compile_parser = sub.add_parser("compile", help="refresh the locks from pyproject.toml")
    compile_parser.add_argument("--upgrade-package", action="append", default=[], metavar="NAME")
    compile_parser.add_argument("--upgrade", action="store_true", help="upgrade every package")
    check_parser = sub.add_parser("check", help="fail when the locks do not match pyproject.toml")
    check_parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    check_parser.add_argument("--requirements", type=Path, default=REQUIREMENTS)
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.pyproject, args.requirements)
    return compile_locks(args.upgrade_package, args.upgrade)


if __name__ == "__main__":
    sys.exit(main())
