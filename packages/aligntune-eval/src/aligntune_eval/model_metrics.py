"""Model-based metrics: perplexity (causal LM), BERTScore (bert-score), semantic similarity
(sentence-transformers). torch and transformers are imported only when they run."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from .base import BaseMetric, as_reference_lists, mean
from .models import context_length, default_device, load_causal_lm, resolve_embedding_model

logger = logging.getLogger("aligntune.eval.model_metrics")


class Perplexity(BaseMetric):
    """Token-weighted perplexity of a causal LM over texts: ``exp(sum NLL / sum scored tokens)``.

    Texts longer than ``max_length`` (default: the model's context) are scored with a sliding window
    that advances ``stride`` tokens; each token is scored once, with up to ``max_length - 1`` tokens of
    context. ``predictions`` are the texts; references are not used.
    """

    name = "perplexity"
    description = "Token-weighted perplexity of a causal LM (sliding window for long texts)."
    needs_references = False
    uses_generations = False

    def __init__(self, model: Any = None, tokenizer: Any = None, *, max_length: int | None = None,
                 stride: int | None = None, batch_size: int = 8, device: str | None = None,
                 add_special_tokens: bool = True, model_loader: Callable[[str], Any] | None = None):
        if model is None:
            raise ValueError("perplexity needs model= (a transformers causal LM object or a local folder)")
        self._model_arg, self._tokenizer_arg, self._loader = model, tokenizer, model_loader
        self._model = self._tokenizer = None
        self.max_length, self.stride, self.batch_size = max_length, stride, batch_size
        self.device, self.add_special_tokens = device, add_special_tokens

    def _load(self):
        if self._model is None:
            self._model, self._tokenizer = load_causal_lm(self._model_arg, self._tokenizer_arg,
                                                          model_loader=self._loader, device=self.device)
        return self._model, self._tokenizer

    def _windows(self, n_tokens: int, max_length: int, stride: int) -> list[tuple[int, int, int]]:
        """(start, end, first scored position) of each window over a text of ``n_tokens``."""
        windows, prev_end, begin = [], 0, 0
        while prev_end < n_tokens:
            end = min(begin + max_length, n_tokens)
            first = max(prev_end, begin + 1)
            if first < end:
                windows.append((begin, end, first))
            prev_end = end
            begin += stride
        return windows

    def nll(self, texts: Sequence[str]) -> tuple[float, int]:
        """``(sum of token NLL in nats, number of scored tokens)`` over ``texts``."""
        import torch

        model, tokenizer = self._load()
        device = next(model.parameters()).device
        max_length = self.max_length or context_length(model, tokenizer)
        stride = self.stride or max(1, max_length // 2)
        if not 0 < stride < max_length:
            raise ValueError(f"perplexity: stride must be in [1, max_length - 1] = [1, {max_length - 1}], "
                             f"got {stride}")
        pieces: list[tuple[list[int], int]] = []  # (window ids, index of first scored position)
        for text in texts:
            ids = tokenizer(str(text), add_special_tokens=self.add_special_tokens)["input_ids"]
            for start, end, first in self._windows(len(ids), max_length, stride):
                pieces.append((ids[start:end], first - start))
        total_nll, total_tokens = 0.0, 0
        pieces.sort(key=lambda p: len(p[0]))
        with torch.no_grad():
            for i in range(0, len(pieces), self.batch_size):
                batch = pieces[i:i + self.batch_size]
                width = max(len(ids) for ids, _ in batch)
                input_ids = torch.zeros(len(batch), width, dtype=torch.long)
                attention = torch.zeros(len(batch), width, dtype=torch.long)
                score = torch.zeros(len(batch), width, dtype=torch.bool)
                for row, (ids, first) in enumerate(batch):  # right padding: real tokens never see pads
                    input_ids[row, :len(ids)] = torch.tensor(ids)
                    attention[row, :len(ids)] = 1
                    score[row, first:len(ids)] = True
                logits = model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).logits
                logits = logits[:, :-1].float()
                target = input_ids[:, 1:].to(device)
                token_nll = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), target.reshape(-1), reduction="none").view(target.shape)
                mask = score[:, 1:].to(device)
                total_nll += float(token_nll[mask].sum())
                total_tokens += int(mask.sum())
        return total_nll, total_tokens

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"perplexity": exp(mean NLL), "mean_nll": ..., "num_tokens": ...}``."""
        self._check(predictions, references)
        total_nll, total_tokens = self.nll(predictions)
        if total_tokens == 0:
            raise ValueError("perplexity: no token could be scored (every text is shorter than 2 tokens)")
        mean_nll = total_nll / total_tokens
        return {"perplexity": math.exp(mean_nll), "mean_nll": mean_nll, "num_tokens": float(total_tokens)}


class BERTScore(BaseMetric):
    """BERTScore precision/recall/F1 (bert-score), no baseline rescaling by default.

    ``model`` defaults to the packaged all-MiniLM-L6-v2 folder (offline); a folder or Hub name works.
    ``num_layers`` defaults to bert-score's table for known names, else the model's last layer.
    """

    name = "bertscore"
    description = "BERTScore P/R/F1 (bert-score; default backbone: packaged all-MiniLM-L6-v2)."

    def __init__(self, model: str | None = None, num_layers: int | None = None, batch_size: int = 32,
                 idf: bool = False, rescale_with_baseline: bool = False, lang: str = "en",
                 device: str | None = None):
        self.model = resolve_embedding_model(model)
        self.num_layers, self.batch_size, self.idf = num_layers, batch_size, idf
        self.rescale_with_baseline, self.lang, self.device = rescale_with_baseline, lang, device

    def _layers(self) -> int:
        if self.num_layers is not None:
            return self.num_layers
        from bert_score.utils import model2layers

        if self.model in model2layers:
            return model2layers[self.model]
        from transformers import AutoConfig

        return int(AutoConfig.from_pretrained(self.model).num_hidden_layers)

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"bertscore_precision", "bertscore_recall", "bertscore_f1"}`` averaged over rows.

        A row whose prediction or every reference is empty scores 0 (as bert-score itself does); such
        rows are not sent to bert-score, whose empty-string path fails with transformers 5.
        """
        import bert_score

        self._check(predictions, references)
        preds = [str(x) for x in predictions]
        refs = [[r for r in row if r.strip()] for row in as_reference_lists(references)]
        keep = [i for i, (p, row) in enumerate(zip(preds, refs)) if p.strip() and row]
        totals = [0.0, 0.0, 0.0]
        if keep:
            sub_refs = [refs[i] for i in keep]
            if all(len(row) == 1 for row in sub_refs):
                sub_refs = [row[0] for row in sub_refs]
            scores = bert_score.score([preds[i] for i in keep], sub_refs, model_type=self.model,
                                      num_layers=self._layers(), batch_size=self.batch_size, idf=self.idf,
                                      lang=self.lang, rescale_with_baseline=self.rescale_with_baseline,
                                      device=self.device or default_device(), verbose=False)
            totals = [float(t.sum()) for t in scores]
        n = max(len(preds), 1)
        return {"bertscore_precision": totals[0] / n, "bertscore_recall": totals[1] / n,
                "bertscore_f1": totals[2] / n}


class SemanticSimilarity(BaseMetric):
    """Mean cosine similarity of sentence embeddings (sentence-transformers) of prediction and reference;
    with several references the best one counts. Default model: the packaged all-MiniLM-L6-v2."""

    name = "semantic_similarity"
    description = "Embedding cosine similarity (sentence-transformers; default packaged all-MiniLM-L6-v2)."

    def __init__(self, model: str | None = None, batch_size: int = 32, device: str | None = None):
        self.model = resolve_embedding_model(model)
        self.batch_size, self.device = batch_size, device
        self._encoder = None

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"semantic_similarity": mean best cosine}``."""
        self._check(predictions, references)
        if self._encoder is None:
            from sentence_transformers import SentenceTransformer

            self._encoder = SentenceTransformer(self.model, device=self.device or default_device())
        refs = as_reference_lists(references)
        flat = [r for row in refs for r in row]
        enc = {"batch_size": self.batch_size, "normalize_embeddings": True, "convert_to_numpy": True,
               "show_progress_bar": False}
        pred_emb = self._encoder.encode([str(p) for p in predictions], **enc)
        ref_emb = self._encoder.encode(flat, **enc)
        scores, pos = [], 0
        for i, row in enumerate(refs):
            sims = ref_emb[pos:pos + len(row)] @ pred_emb[i]
            scores.append(float(sims.max()))
            pos += len(row)
        return {"semantic_similarity": mean(scores)}
