"""The language tables' files: written once at install, mapped read-only by every process.

``np.savez`` writes each array uncompressed into a zip file; here each is a view of the file
(``mmap``) at its offset. The kernel then loads only the pages that lookups touch and shares
them between every process reading the file (Rasa workers, replicas on one host); an array is
read-only, so no process can change another's tables. ``np.load`` would copy every array into
the process (~75 MB per Rasa server, issue #17's memory budget).
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from bot.core.settings import get_settings

FILE_MODE, FOLDER_MODE = 0o644, 0o755
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra field length


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of the uncompressed ``.npz`` file at ``path``, by name, mapped read-only."""
    arrays: dict[str, np.ndarray] = {}
    with open(path, "rb") as raw, zipfile.ZipFile(raw) as archive:
        whole = mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ)
        for member in archive.infolist():
            if member.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{path}: {member.filename} is compressed; cannot map it")
            raw.seek(member.header_offset)
            signature, name_length, extra_length = _LOCAL_HEADER.unpack(raw.read(30))
            if signature != b"PK\x03\x04":
                raise ValueError(f"{path}: {member.filename} has no local file header")
            raw.seek(member.header_offset + 30 + name_length + extra_length)
            version = np.lib.format.read_magic(raw)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)  # fmt: skip
            shape, fortran, dtype = read_header(raw)
            if dtype.hasobject:
                raise ValueError(f"{path}: {member.filename} holds Python objects")
            count = int(np.prod(shape))
            array = np.frombuffer(whole, dtype=dtype, count=count, offset=raw.tell())
            name = member.filename.removesuffix(".npy")
            arrays[name] = array.reshape(shape, order="F" if fortran else "C")
    return arrays


def tables_folder() -> Path:
    """Where the tables live: beside ``KOTOBOT_LANGID_TABLES`` if set, else in the environment
    (``<venv>/share/kotobot``), built by ``make install`` for that environment."""
    configured = get_settings().langid_tables
    return configured.parent if configured else Path(sys.prefix) / "share" / "kotobot"


def make_folders(folder: Path) -> None:
    """``mkdir -p`` with mode 0755 whatever the umask, on the folders it creates only."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
        os.chmod(created, FOLDER_MODE)


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An uncompressed ``.npz`` (what :func:`load_arrays` maps), written to a temporary file
    first so that readers never see half a table, readable by every user (0644, folders 0755):
    whoever builds it at install (root, in the image), the servers read it as another user."""
    make_folders(path.parent)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as out:
        try:
            np.savez(out, **arrays)
            out.flush()
            os.chmod(out.name, FILE_MODE)  # mkstemp's 0600, before it takes the real name
        except BaseException:
            os.unlink(out.name)
            raise
    os.replace(out.name, path)
