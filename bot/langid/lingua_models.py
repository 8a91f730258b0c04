"""Reads lingua's n-gram models out of the installed lingua-language-detector wheel.

lingua 2.x compiles its models into its extension module as brotli-compressed JSON files (Rust's
``include_dir``), and holds them in memory as hash maps: ~370 MB for our 13 languages. The same
numbers fit in ~60 MB of arrays (:mod:`bot.langid.ngram_tables`), so we read them once, at install
time, from the library file itself: no download, and always the models of the pinned version.

Each embedded file is a static record ``(path pointer, path length, contents pointer, contents
length)`` whose pointers are filled in by the dynamic loader; the relocation table tells where they
point. Only 64-bit little-endian ELF (Linux x86-64 and aarch64) is understood: anywhere else
:class:`ModelsNotFound` is raised and the caller falls back to lingua itself.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

ORDERS = {"unigrams": 1, "bigrams": 2, "trigrams": 3, "quadrigrams": 4, "fivegrams": 5}
_FILE_NAMES = {f"{name}.json.br".encode(): order for name, order in ORDERS.items()}
# Relocation types "base address + addend" of the architectures lingua ships wheels for.
_RELATIVE = {62: 8, 183: 1027}  # e_machine x86-64 -> R_X86_64_RELATIVE, aarch64 -> R_AARCH64_...

# {language name as lingua spells it ("FINNISH"): {n: {ngram: probability}}}
Models = dict[str, dict[int, dict[str, float]]]


class ModelsNotFound(RuntimeError):
    """The library file is not laid out as expected (another lingua version or platform)."""


def lingua_library() -> Path:
    """The compiled lingua extension module of this environment."""
    import lingua

    folder = Path(lingua.__file__).parent
    found = sorted(folder.glob("lingua*.so"))
    if not found:
        raise ModelsNotFound(f"no compiled lingua module in {folder}")
    return found[0]


def lingua_version() -> str:
    from importlib.metadata import version

    return version("lingua-language-detector")


def read_models(language_names: Iterable[str], library: Path | None = None) -> Models:
    """The n-gram probabilities (orders 1-5) of the named languages, from lingua's library."""
    import brotli

    wanted = set(language_names)
    models: Models = {}
    for order, blob in _embedded_files(Path(library or lingua_library()).read_bytes()):
        try:
            document = json.loads(brotli.decompress(blob))
        except (brotli.error, ValueError) as error:
            raise ModelsNotFound(f"an embedded model file does not decode: {error}") from error
        name = document.get("language")
        if name in wanted:
            models.setdefault(name, {})[order] = _probabilities(document["ngrams"])
    missing = {name for name in wanted if len(models.get(name, {})) == 0}
    if missing:
        raise ModelsNotFound(f"no models found for {sorted(missing)}")
    return models


def _probabilities(grouped: dict[str, str]) -> dict[str, float]:
    """lingua groups n-grams by probability: {"3/1000": "abc abd ..."}."""
    out: dict[str, float] = {}
    for fraction, ngrams in grouped.items():
        probability = float(Fraction(fraction))
        for ngram in ngrams.split(" "):
            out[ngram] = probability
    return out


def _embedded_files(image: bytes) -> Iterable[tuple[int, bytes]]:
    """(n-gram order, compressed contents) of every embedded ``<order>grams.json.br``."""
    if image[:4] != b"\x7fELF" or image[4] != 2 or image[5] != 1:
        raise ModelsNotFound("not a 64-bit little-endian ELF file")
    machine = struct.unpack_from("<H", image, 0x12)[0]
    if machine not in _RELATIVE:
        raise ModelsNotFound(f"unsupported machine type {machine}")
    sections = _sections(image)
    if ".rela.dyn" not in sections:
        raise ModelsNotFound("no .rela.dyn section")
    targets = _relative_relocations(image, sections[".rela.dyn"], _RELATIVE[machine])
    to_offset = _address_mapper(sections)
    longest = max(len(name) for name in _FILE_NAMES)
    for slot, address in targets.items():
        path_at, slot_at = to_offset(address), to_offset(slot)
        if path_at is None or slot_at is None:
            continue
        length = struct.unpack_from("<Q", image, slot_at + 8)[0]
        if length > longest:
            continue
        order = _FILE_NAMES.get(image[path_at : path_at + length])
        contents = targets.get(slot + 16)
        if order is None or contents is None or to_offset(contents) is None:
            continue
        start = to_offset(contents)
        size = struct.unpack_from("<Q", image, slot_at + 24)[0]
        yield order, image[start : start + size]


def _sections(image: bytes) -> dict[str, tuple[int, int, int, int]]:
    """name -> (type, address, file offset, size)."""
    table, entry_size, count, names_index = (
        struct.unpack_from("<Q", image, 0x28)[0],
        *struct.unpack_from("<HHH", image, 0x3A),
    )
    raw = [struct.unpack_from("<IIQQQQ", image, table + i * entry_size) for i in range(count)]
    names_offset = raw[names_index][4]

    def name(index: int) -> str:
        start = names_offset + index
        return image[start : image.index(b"\0", start)].decode("ascii", "replace")

    return {name(n): (kind, address, offset, size) for n, kind, _, address, offset, size in raw}


def _relative_relocations(image: bytes, rela: tuple[int, int, int, int], kind: int) -> dict:
    """slot address -> the address the loader writes into it."""
    _, _, offset, size = rela
    out = {}
    for slot, info, addend in struct.iter_unpack("<QQq", image[offset : offset + size]):
        if info & 0xFFFFFFFF == kind:
            out[slot] = addend
    return out


def _address_mapper(sections: dict[str, tuple[int, int, int, int]]):
    """Virtual address -> file offset, for addresses inside sections stored in the file."""
    spans = sorted(
        (address, address + size, offset)
        for kind, address, offset, size in sections.values()
        if address and kind != 8  # SHT_NOBITS (.bss) has no bytes in the file
    )

    def to_offset(address: int) -> int | None:
        for start, end, offset in spans:
            if start <= address < end:
                return address - start + offset
        return None

    return to_offset
