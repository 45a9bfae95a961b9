"""The language model's state after its tool prompt, kept on disk.

Reading the tool prompt (instructions, tools and devices: about 1200 tokens) is most of the cost
of a language model's first call: 4 s for SmolLM2-135M, 25 s for Qwen2.5-Coder-0.5B on a busy
2-core machine. llama.cpp can hand over its state (the key-value cache of the prompt) as bytes,
so after the prompt was read once the state is written to ``<cache>/prompts/<key>.npz``; the next
start, ``hearth ask`` and a reload read it back in a fraction of a second. The key is a hash of
everything that makes the state valid: the model file (path, size, modification time),
llama-cpp-python's version, the context settings, and the prompt and schema themselves. A state
that is missing, damaged or from another build is simply not used: the prompt is read again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

__all__ = ["restore_state", "save_state", "state_path"]

_LOGGER = logging.getLogger(__name__)
_KEEP: Final = 8  # saved states kept per folder, newest first


def state_path(
    folder: Path,
    model_file: Path,
    settings: Mapping[str, Any],
    messages: Sequence[Mapping[str, str]],
    schema: Mapping[str, Any],
) -> Path:
    """Where the state for this model, these settings and this prompt is kept."""
    import llama_cpp

    try:
        stat = model_file.stat()
        identity = [str(model_file.resolve()), stat.st_size, stat.st_mtime_ns]
    except OSError:
        identity = [str(model_file)]
    key = json.dumps(
        [identity, llama_cpp.__version__, dict(settings), [dict(m) for m in messages], schema],
        sort_keys=True,
        default=str,
    )
    return folder / f"{model_file.stem[:40]}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"


def save_state(llama: Any, path: Path) -> None:
    """Write the model's current state to ``path`` (atomically); a failure is only logged."""
    import numpy as np

    state = llama.save_state()
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as out:
            np.savez(
                out,
                input_ids=state.input_ids[: state.n_tokens],
                n_tokens=np.int64(state.n_tokens),
                seed=np.int64(state.seed),
                llama_state=np.frombuffer(state.llama_state, dtype=np.uint8),
            )
        os.replace(partial, path)
    except OSError as err:
        partial.unlink(missing_ok=True)
        _LOGGER.warning("cannot keep the prompt state in %s: %s", path.parent, err.strerror)
        return
    _prune(path.parent)
    _LOGGER.info("prompt state kept: %s (%.1f MB)", path, path.stat().st_size / 1e6)


def restore_state(llama: Any, path: Path) -> bool:
    """Load the state kept in ``path`` into the model; ``False`` if there is none or it is not
    usable (then the model is as it was)."""
    import numpy as np
    from llama_cpp.llama import LlamaState

    if not path.is_file():
        return False
    try:
        with np.load(path) as saved:
            n_tokens = int(saved["n_tokens"])
            input_ids = np.zeros(llama.n_ctx(), dtype=np.intc)
            input_ids[:n_tokens] = saved["input_ids"]
            data = saved["llama_state"].tobytes()
            seed = int(saved["seed"])
        # the logits rows are not kept: every later call evaluates its own words first
        scores = np.zeros((1, llama.n_vocab()), dtype=np.single)
        llama.load_state(LlamaState(input_ids, scores, n_tokens, data, len(data), seed))
    except (OSError, EOFError, ValueError, KeyError, RuntimeError, zipfile.BadZipFile) as err:
        _LOGGER.warning("prompt state %s not used (%s); reading the prompt again", path, err)
        llama.reset()
        return False
    os.utime(path)  # recently used: kept by _prune
    return True


def _prune(folder: Path) -> None:
    states = sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in states[_KEEP:]:
        old.unlink(missing_ok=True)
