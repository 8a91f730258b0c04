"""Finnish municipalities: names in Finnish and Swedish, codes, and their inflected forms.

People write "Tampereella", "Helsingissä", "i Helsingfors", "Turussa": a name matches when a word
is the name (or its weak-grade stem) followed by a Finnish case ending or Swedish genitive -s.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from bot.core.paths import data_path

# Case endings (and a few with possessive/clitic) that may follow a municipality's stem.
_ENDINGS = (
    "", "n", "ssa", "ssä", "sta", "stä", "lla", "llä", "lta", "ltä", "lle", "an", "en", "in",
    "on", "un", "yn", "än", "ön", "hin", "seen", "na", "nä", "ksi", "a", "ä", "ta", "tä", "s",
    "sta?", "ssa?", "lla?", "ssakin", "ssäkin", "llakin", "lläkin", "ssako", "ssäkö",
)  # fmt: skip

# Consonant gradation and stem vowel changes, strong -> weak ("Helsinki" -> "Helsingi-").
_GRADATION = (
    ("nki", "ngi"), ("nka", "nga"), ("nku", "ngu"), ("nko", "ngo"), ("hti", "hde"), ("hti", "hdi"),
    ("rku", "ru"), ("rki", "rje"), ("nta", "nna"), ("nti", "nni"), ("lta", "lla"),
    ("rta", "rra"), ("kka", "ka"), ("kko", "ko"), ("kki", "ki"), ("ppa", "pa"), ("ppi", "pi"),
    ("tta", "ta"), ("tti", "ti"), ("mpi", "mmi"), ("mpa", "mma"), ("oki", "oe"), ("ki", "e"),
    ("mi", "me"), ("vi", "ve"), ("si", "de"), ("nen", "se"), ("e", "ee"),
)  # fmt: skip


@dataclass(frozen=True)
class Municipality:
    code: str
    fi: str
    sv: str


@functools.lru_cache(maxsize=1)
def municipalities() -> tuple[Municipality, ...]:
    raw = json.loads(data_path("bot", "resources", "municipalities.json").read_text("utf-8"))
    return tuple(Municipality(m["code"], m["fi"], m["sv"]) for m in raw["municipalities"])


@functools.lru_cache(maxsize=1)
def _former_names() -> dict[str, str]:
    raw = json.loads(data_path("bot", "resources", "municipalities.json").read_text("utf-8"))
    return {name.lower(): code for name, code in raw["former_names"].items()}


def by_code(code: str) -> Municipality | None:
    return next((m for m in municipalities() if m.code == code), None)


def stems(name: str) -> set[str]:
    """The name and its weak-grade stems, lower case."""
    name = name.lower()
    found = {name}
    for strong, weak in _GRADATION:
        if name.endswith(strong):
            found.add(name[: -len(strong)] + weak)
    return found


@functools.lru_cache(maxsize=1)
def surface_forms() -> dict[str, str]:
    """Every accepted written form (lower case) -> municipality code."""
    forms: dict[str, str] = {}
    for municipality in municipalities():
        for name in {municipality.fi, municipality.sv}:
            if len(name) < 3:
                forms.setdefault(name.lower(), municipality.code)  # "Ii" only as it is
                continue
            for stem in stems(name):
                for ending in _ENDINGS:
                    forms.setdefault(stem + ending.rstrip("?"), municipality.code)
    for name, code in _former_names().items():
        forms.setdefault(name, code)
    return forms


def find_municipality(word: str) -> Municipality | None:
    """The municipality a single written word (or two-word name) refers to, if any."""
    code = surface_forms().get(word.lower())
    return by_code(code) if code else None


def by_name(name: str) -> Municipality | None:
    """A municipality by its Finnish or Swedish name, or any inflected form of it."""
    return find_municipality(name)
