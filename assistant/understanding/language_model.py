"""The local language model: llama.cpp (llama-cpp-python) on the CPU.

:class:`LlamaCppModel` loads and warms a GGUF file once, then answers chat messages in two ways:
:meth:`~LlamaCppModel.complete_json` with grammar-constrained decoding (router layer 2, a tool
call that can only be a valid JSON object of the given schema) and :meth:`~LlamaCppModel.stream`,
text pieces as they are generated (layer 3, a free answer).

llama.cpp keeps the key-value cache of the last prompt and re-evaluates only what follows the
longest common prefix. Callers keep the system prompt (instructions, tool and device list) as the
first message and byte-for-byte identical between calls, so a second call pays only for the new
turn: on the 2-core development machine the ~1000-token tool prompt of SmolLM2-135M costs ~4 s
the first time and ~0.07 s after. A small RAM cache of prompt snapshots
(:data:`PROMPT_CACHE_BYTES`) keeps that saving when a call with other instructions (a free
answer) came between.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from ..config import LlmConfig
from ..errors import ModelError, RouterError
from ..models import ModelFile
from .cpu_share import lower_this_thread

_STOPPED: Final = "llama_decode returned 2"  # what llama-cpp-python raises for an aborted decode

__all__ = [
    "PROMPT_CACHE_BYTES",
    "GenerationStats",
    "LanguageModel",
    "LlamaCppModel",
    "Message",
    "token_counter",
]

_LOGGER = logging.getLogger(__name__)

# A snapshot of the evaluated prompt is kept after each call (about 25 MB of keys and values
# for 1000 tokens of SmolLM2-135M, plus _BATCH_TOKENS rows of logits), so that layer 2's tool
# prompt is still evaluated after a layer-3 answer with other instructions came between.
PROMPT_CACHE_BYTES: Final = 160 << 20
_BATCH_TOKENS: Final = 128  # prompt tokens per decode; also the logits rows each snapshot copies

Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}


@dataclass(frozen=True, slots=True)
class GenerationStats:
    """What the last call cost: pieces generated (about one token each), the seconds to the
    first piece (mostly prompt evaluation) and in all, and whether the deadline cut it short."""

    tokens: int
    first_token_s: float
    total_s: float
    timed_out: bool
    threads: int = 0  # llama.cpp threads used

    @property
    def tokens_per_s(self) -> float:
        """Generation speed after the first piece, tokens per second."""
        generating_s = self.total_s - self.first_token_s
        return (self.tokens - 1) / generating_s if self.tokens > 1 and generating_s > 0 else 0.0


def _cpu_advertises_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU claims Intel AMX tiles (Xeon 4th generation and later)."""
    try:
        flags = next(
            (line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), ""
        )
    except OSError:
        return False
    return "amx_tile" in flags.split()


@contextlib.contextmanager
def _weights_in_plain_memory(enabled: bool) -> Iterator[None]:
    """Load the weights without llama.cpp's "extra buffer types" (AMX tiles, repacking).

    A llama.cpp built with ``-march=native`` on a CPU that advertises AMX multiplies prompt
    batches with AMX tiles; in virtual machines that advertise AMX without enabling it
    (Firecracker, some clouds) the first ``ldtilecfg`` kills the process with SIGSEGV.
    llama-cpp-python has no argument for ``use_extra_bufts``, so its default model parameters
    are wrapped while the model loads. Only AMX machines are affected; they are fast enough
    without it, and the small home machines Hearth targets keep repacking.
    """
    if not enabled:
        yield
        return
    import llama_cpp.llama_cpp as native

    original = native.llama_model_default_params

    def params() -> Any:
        found = original()
        found.use_extra_bufts = False
        return found

    native.llama_model_default_params = params
    try:
        yield
    finally:
        native.llama_model_default_params = original


@dataclass(slots=True)
class Exchange:
    """One consultation of the model, kept for the journal: the messages as sent, the raw text
    of each try and what was made of it."""

    layer: str
    prompt: list[Message]
    outputs: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)


class LanguageModel(Protocol):
    def load(self) -> None: ...

    def complete_json(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any],
        max_tokens: int,
        deadline_s: float,
    ) -> str:
        """A JSON object that follows ``schema``, at most ``max_tokens`` tokens, within
        ``deadline_s`` seconds of the call (else :class:`RouterError` ``llm_timeout``)."""
        ...

    def stream(
        self, messages: Sequence[Message], max_tokens: int, deadline_s: float
    ) -> Iterator[str]:
        """Text pieces as they are generated; stops after ``max_tokens`` tokens, or
        ``deadline_s`` seconds after the call."""
        ...

    def prepare(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any],
        deadline_s: float,
        gives_way: bool = False,
    ) -> bool:
        """Read ``messages`` (a prompt later calls start with) into the model's cache now;
        ``True`` when a state saved earlier made that instant. With ``gives_way`` the read
        stops (:class:`RouterError` ``llm_cancelled``) as soon as another call waits."""
        ...

    def cancel(self) -> None:
        """Stop the running call soon; it raises or ends, and the next call runs normally."""
        ...


_CHARS_PER_TOKEN: Final = 3  # English names and short sentences, with BPE vocabularies


def token_counter(model: object) -> Callable[[str], int]:
    """The model's own token count (:meth:`LlamaCppModel.count_tokens`) where it has one, else
    an estimate from the length of the text."""
    counter = getattr(model, "count_tokens", None)
    if callable(counter):
        return counter
    return lambda text: -(-len(text) // _CHARS_PER_TOKEN)


class LlamaCppModel:
    """llama-cpp-python with a GGUF file; loaded and warmed once in :meth:`load`.

    One call at a time: a second caller waits for the first to finish (llama.cpp contexts are
    not thread-safe), except behind a read that gives way (the tool prompt read at the lowest
    priority after start), which stops as soon as a command needs the model. A call is
    stopped, never abandoned: llama.cpp asks an abort callback after every node of its compute
    graph, and the callback says stop once the call's deadline has passed or :meth:`cancel`
    was called, so even a long prompt ends within milliseconds of its deadline. At exit (and
    in :meth:`close`) the running call is stopped and waited for before the model is freed: a
    thread still inside llama.cpp while the interpreter tears down, or a model freed under a
    running call, is what crashes a process with SIGSEGV.
    """

    def __init__(
        self,
        model: ModelFile,
        config: LlmConfig,
        prompt_cache_bytes: int = PROMPT_CACHE_BYTES,
        state_dir: Path | None = None,
    ) -> None:
        self._files = model
        self._config = config
        self._state_dir = state_dir  # where prompt states are kept on disk, if anywhere
        self._cache_bytes = prompt_cache_bytes
        self._llama: Any = None
        self._lock = threading.Lock()
        self._waiting = 0  # callers waiting for the lock (counted under _counting)
        self._counting = threading.Lock()
        self._gives_way = False  # the running call stops when a caller waits
        self._stop = threading.Event()  # cancel() or closing: the running call stops
        self._until = float("inf")  # the running call's deadline (monotonic)
        self._abort_callback: Any = None  # kept: llama.cpp holds a pointer to it
        self.last: GenerationStats | None = None  # the last call's cost, for metrics and bench

    def load(self) -> None:
        from llama_cpp import Llama, LlamaRAMCache

        path = self._files.paths[0]
        cfg = self._config
        try:
            with _weights_in_plain_memory(_cpu_advertises_amx()):
                self._llama = Llama(
                    model_path=str(path),
                    n_ctx=cfg.n_ctx,
                    n_threads=cfg.n_threads,
                    n_threads_batch=cfg.n_threads,
                    n_batch=_BATCH_TOKENS,
                    chat_format=cfg.chat_format or None,
                    verbose=False,
                    seed=0,
                )
        except (ValueError, RuntimeError, OSError) as err:
            raise ModelError(
                "model_load",
                f"{path}: cannot load the language model ({self._files.key}); llama.cpp: "
                f"{(str(err).splitlines() or [type(err).__name__])[0][:200]}. Is it a complete "
                "GGUF file? Download it again, or point llm.model at another one",
            ) from None
        if self._cache_bytes > 0:
            self._llama.set_cache(LlamaRAMCache(capacity_bytes=self._cache_bytes))
        self._watch_for_stop()
        atexit.register(self.close)
        for _ in self.stream([{"role": "user", "content": "Hi"}], 2, 60.0):
            pass

    def _watch_for_stop(self) -> None:
        """The abort callback: llama.cpp stops a decode when it returns true."""
        import llama_cpp

        def should_stop(_data: Any) -> bool:
            if self._gives_way and self._waiting:
                return True
            return self._stop.is_set() or time.monotonic() >= self._until

        self._abort_callback = llama_cpp.ggml_abort_callback(should_stop)
        llama_cpp.llama_set_abort_callback(self._llama.ctx, self._abort_callback, None)

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is for this model (its own tokenizer; no context needed)."""
        if self._llama is None:
            return -(-len(text) // _CHARS_PER_TOKEN)
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def cancel(self) -> None:
        """Stop the running call (within one graph node); the next call runs normally."""
        self._stop.set()

    def close(self, wait_s: float = 10.0) -> None:
        """Stop the running call, wait for it to return, and free the model."""
        self._stop.set()
        if not self._lock.acquire(timeout=wait_s):
            _LOGGER.warning("the language model did not stop within %.0f s", wait_s)
            return
        try:
            if self._llama is not None:
                self._llama.close()
                self._llama = None
        finally:
            self._lock.release()

    def complete_json(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any],
        max_tokens: int,
        deadline_s: float,
    ) -> str:
        """Grammar-constrained decoding: the output can only be JSON that follows ``schema``
        (llama-cpp-python turns the schema into a GBNF grammar). Raises :class:`RouterError`
        ``llm_timeout`` when ``deadline_s`` seconds pass before the object is complete."""
        response_format = {"type": "json_object", "schema": dict(schema)}
        pieces = list(self._generate(messages, max_tokens, deadline_s, response_format))
        if self.last is not None and self.last.timed_out:
            raise RouterError(
                "llm_timeout",
                f"the language model did not finish a tool call within {deadline_s:g} s "
                "(llm.timeout_s)",
            )
        return "".join(pieces)

    def prepare(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any],
        deadline_s: float,
        gives_way: bool = False,
    ) -> bool:
        """Read ``messages`` into the cache: from the state kept on disk for this model and
        prompt (:mod:`assistant.understanding.prompt_state`), else by evaluating them, and then
        keep that state for the next start. ``True`` when it was read from disk. With
        ``gives_way`` the evaluation stops (``llm_cancelled``) once another call waits: a
        thread at the lowest priority on a busy machine would otherwise hold the model for
        minutes while a command waits behind it."""
        from .prompt_state import restore_state, save_state, state_path

        if self._llama is None:
            raise RouterError("llm_not_loaded", "the language model is not loaded (call load())")
        path = None
        if self._state_dir is not None:
            settings = {
                "n_ctx": self._config.n_ctx,
                "n_batch": _BATCH_TOKENS,
                "chat_format": self._config.chat_format,
            }
            path = state_path(self._state_dir, self._files.paths[0], settings, messages, schema)
            with self._turn(gives_way):
                if restore_state(self._llama, path):
                    return True
        response_format = {"type": "json_object", "schema": dict(schema)}
        for _ in self._generate(messages, 1, deadline_s, response_format, gives_way):
            pass
        if self.last is not None and self.last.timed_out:
            raise RouterError("llm_timeout", f"the prompt was not read within {deadline_s:g} s")
        if path is not None:
            with self._turn(gives_way):
                save_state(self._llama, path)
        return False

    def stream(
        self, messages: Sequence[Message], max_tokens: int, deadline_s: float
    ) -> Iterator[str]:
        """Text pieces as they come; the clock is checked after every token, so generation
        ends within one token of ``deadline_s`` seconds after this call."""
        return self._generate(messages, max_tokens, deadline_s, None)

    def _generate(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        deadline_s: float,
        response_format: dict[str, Any] | None,
        gives_way: bool = False,
    ) -> Iterator[str]:
        if self._llama is None:
            raise RouterError("llm_not_loaded", "the language model is not loaded (call load())")
        started = time.monotonic()
        until = started + deadline_s
        return self._pieces(
            [dict(m) for m in messages], max_tokens, started, until, response_format, gives_way
        )

    @contextlib.contextmanager
    def _turn(self, gives_way: bool) -> Iterator[None]:
        """Hold the model for one call; a caller that has to wait makes a running call that
        gives way stop (the abort callback reads ``_waiting``)."""
        if not self._lock.acquire(blocking=False):
            with self._counting:
                self._waiting += 1
            try:
                self._lock.acquire()
            finally:
                with self._counting:
                    self._waiting -= 1
        try:
            self._gives_way = gives_way
            yield
        finally:
            self._gives_way = False
            self._lock.release()

    def _pieces(
        self,
        messages: list[dict[str, str]],
        max_tokens: int,
        started: float,
        until: float,
        response_format: dict[str, Any] | None,
        gives_way: bool,
    ) -> Iterator[str]:
        tokens, first, timed_out = 0, 0.0, False
        lower_this_thread()
        with self._turn(gives_way):
            if self._llama is None:
                raise RouterError("llm_not_loaded", "the language model is closed")
            threads = self._config.n_threads
            self._stop.clear()
            self._until = until
            try:
                chunks = self._llama.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=self._config.temperature,
                    seed=0,
                    stream=True,
                    response_format=response_format,
                )
                try:
                    for chunk in chunks:
                        delta = chunk["choices"][0]["delta"]
                        if "content" not in delta:  # the role at the start, the finish reason
                            continue
                        piece = delta["content"] or ""
                        tokens += 1
                        now = time.monotonic()
                        first = first or now - started
                        if piece:
                            yield piece
                        if now >= until:
                            timed_out = True
                            break
                finally:
                    chunks.close()
            except (ValueError, RuntimeError) as err:  # e.g. the prompt exceeds n_ctx
                if _STOPPED in str(err):  # the abort callback stopped a decode
                    timed_out = True
                    if self._stop.is_set():
                        raise RouterError(
                            "llm_cancelled", "the language model was stopped"
                        ) from None
                    if gives_way and self._waiting:
                        raise RouterError(
                            "llm_cancelled", "the read gave way to a command"
                        ) from None
                    if response_format is None:
                        return  # a streamed answer simply ends at its deadline
                    raise RouterError(
                        "llm_timeout",
                        f"the language model did not finish a tool call within "
                        f"{until - started:g} s (llm.timeout_s)",
                    ) from None
                raise RouterError(
                    "llm_failed", f"the language model failed: {str(err)[:200]} (llm.n_ctx?)"
                ) from None
            finally:
                self._until = float("inf")
                took_s = time.monotonic() - started
                self.last = GenerationStats(tokens, first, took_s, timed_out, threads)
