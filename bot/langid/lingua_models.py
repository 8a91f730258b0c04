"""lingua's n-gram models, read from the data files of its pure-Python release.

lingua-language-detector 1.3.5 (a ``py3-none-any`` wheel) ships its models as data files,
``lingua/language-models/<ISO 639-1>/<unigrams|bigrams|trigrams|quadrigrams|fivegrams>.json.br``:
brotli-compressed JSON, ``{"language": "FINNISH", "ngrams": {"3/1000": "abc abd ...", ...}}``
(n-grams grouped by probability). They are, file for file, the models lingua 2.1.1 compiles into
its binary.

That release cannot be installed beside Rasa 3.6 (it requires regex>=2023.12.25, Rasa <2022.11), and
no code of it runs here: :func:`models_wheel` fetches the wheel with pip (exact version, sha256
checked; pip's cache, index and ``PIP_FIND_LINKS``/``PIP_NO_INDEX`` settings apply) into a
temporary folder, :func:`read_models` reads the files out of it (a wheel is a zip archive), and the
folder is deleted. The same bytes on every platform; a wheel that cannot be had or lacks a file is
an error (:class:`ModelsNotFound`), never a fallback.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

RELEASE = "1.3.5"
REQUIREMENT = f"lingua-language-detector=={RELEASE}"
WHEEL_NAME = f"lingua_language_detector-{RELEASE}-py3-none-any.whl"
WHEEL_SHA256 = "7254696753c4ee8ce127190cfb985d8b4621690d355c55b278c883f5bb5e152b"
ORDERS = {"unigrams": 1, "bigrams": 2, "trigrams": 3, "quadrigrams": 4, "fivegrams": 5}
# The languages the release has models for (ISO 639-1; ``lingua/language-models/<code>/``): the
# languages topics.yml may list (``make check-data`` says so before any download).
LANGUAGES = frozenset(
    """af ar az be bg bn bs ca cs cy da de el en eo es et eu fa fi fr ga gu he hi hr hu hy id is it
    ja ka kk ko la lg lt lv mi mk mn mr ms nb nl nn pa pl pt ro ru sk sl sn so sq sr st sv sw ta te
    th tl tn tr ts uk ur vi xh yo zh zu""".split()
)

# {ISO 639-1 code: {n: {ngram: probability}}}
Models = dict[str, dict[int, dict[str, float]]]


class ModelsNotFound(RuntimeError):
    """lingua's model files cannot be had (no download, wrong file, a model missing)."""


# Wheels already checked, as (path, size, modification time): read once per language, hashed once.
_CHECKED: set[tuple[str, int, int]] = set()


def check_wheel(path: Path) -> Path:
    """``path`` if it is the pinned wheel (its sha256), else :class:`ModelsNotFound`."""
    path = Path(path)
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key in _CHECKED:
            return path
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise ModelsNotFound(f"cannot read lingua's wheel {path}: {error}") from error
    if digest != WHEEL_SHA256:
        raise ModelsNotFound(f"{path} is not {WHEEL_NAME} (sha256 {digest}, not {WHEEL_SHA256})")
    _CHECKED.add(key)
    return path


def download_wheel(folder: Path) -> Path:
    """The pinned wheel, downloaded by pip (hash-checked) into ``folder``."""
    requirements = Path(folder) / "lingua-models.txt"
    requirements.write_text(f"{REQUIREMENT} --hash=sha256:{WHEEL_SHA256}\n", "utf-8")
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--require-hashes", "--disable-pip-version-check", "--quiet",
        "--requirement", str(requirements), "--dest", str(folder),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheel = Path(folder) / WHEEL_NAME
    if result.returncode != 0 or not wheel.is_file():
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ModelsNotFound(
            f"could not download {REQUIREMENT} (lingua's n-gram models) with pip: "
            + " / ".join(detail or [f"exit status {result.returncode}"])
        )
    return check_wheel(wheel)


@contextmanager
def models_wheel(wheel: Path | None = None) -> Iterator[Path]:
    """The given wheel (checked), or the pinned one downloaded for the ``with`` block only."""
    if wheel is not None:
        yield check_wheel(wheel)
        return
    with tempfile.TemporaryDirectory(prefix="kotobot-lingua-") as folder:
        yield download_wheel(Path(folder))


def read_models(
    codes: Iterable[str], wheel: Path | None = None, orders: Iterable[int] = (1, 2, 3, 4, 5)
) -> Models:
    """The n-gram probabilities of the given orders (those the release has: Chinese 1 only) per
    language; unigrams always."""
    import brotli

    wanted = {1, *orders}
    models: Models = {}
    with models_wheel(wheel) as path, zipfile.ZipFile(path) as archive:
        present = set(archive.namelist())
        for code in codes:
            for name, order in ORDERS.items():
                member = f"lingua/language-models/{code}/{name}.json.br"
                if order not in wanted or member not in present:
                    continue
                try:
                    document = json.loads(brotli.decompress(archive.read(member)))
                    models.setdefault(code, {})[order] = _probabilities(document["ngrams"], order)
                except (brotli.error, ValueError, KeyError, TypeError) as error:
                    raise ModelsNotFound(
                        f"{member} in {path.name} does not decode: {error}"
                    ) from error
            if 1 not in models.get(code, {}):
                raise ModelsNotFound(f"{path.name} has no model for {code!r}")
    return models


def _probabilities(grouped: dict[str, str], order: int) -> dict[str, float]:
    """lingua groups n-grams by probability: {"3/1000": "abc abd ..."}."""
    out: dict[str, float] = {}
    for fraction, ngrams in grouped.items():
        probability = float(Fraction(fraction))
        for ngram in ngrams.split(" "):
            if len(ngram) != order:
                raise ValueError(f"{ngram!r} is not a {order}-gram")
            out[ngram] = probability
    return out
