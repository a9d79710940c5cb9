"""EvaluationConfig: which metrics are computed on evaluation and how."""

from __future__ import annotations

from pydantic import Field

from ._base import CallableRef, StrictModel


class EvaluationConfig(StrictModel):
    """Metrics of ``trainer.evaluate()`` and of the evaluator (``evaluation:``)."""

    compute_perplexity: bool = Field(True, description="Perplexity of the eval set (token-weighted).")
    compute_rouge: bool = Field(True, description="ROUGE-1/2/L/Lsum of generations against references.")
    compute_bleu: bool = Field(True, description="BLEU and chrF (sacrebleu).")
    compute_meteor: bool = Field(False, description="METEOR (nltk).")
    compute_bertscore: bool = Field(False, description="BERTScore (bert-score).")
    compute_semantic_similarity: bool = Field(False, description="Embedding cosine similarity (sentence-transformers).")
    compute_codebleu: bool = Field(False, description="CodeBLEU (code tasks).")
    custom_metrics: list[CallableRef] | None = Field(
        None, description="Callables fn(predictions, references) -> float or dict of floats, or import paths."
    )
    metrics: list[str] | None = Field(None, description="Extra metric names from the metric registry.")
    holdout_fraction: float | None = Field(
        None, gt=0, lt=1, description="Hold out this fraction of the training rows (seeded by train.data_seed) as "
        "evaluation data when no eval_datasets are given."
    )
    max_samples_for_quality_metrics: int = Field(50, gt=0, description="Rows generated and scored for quality metrics.")
    bertscore_model: str = Field("microsoft/deberta-xlarge-mnli", min_length=1, description="BERTScore backbone.")
    semantic_similarity_model: str = Field(
        "sentence-transformers/all-MiniLM-L6-v2", min_length=1, description="Sentence-embedding model."
    )
    before_after: bool = Field(
        False, description="Evaluate the eval data with `metrics` before and after training and report both "
        "(`aligntune train` prints a before/after table; needs eval_datasets or holdout_fraction)."
    )
    eval_batch_size: int = Field(8, gt=0, description="Prompts generated together during evaluation.")
    max_new_tokens: int = Field(128, gt=0, description="Tokens generated per evaluation prompt.")
    eval_temperature: float = Field(0.0, ge=0, description="Generation temperature for evaluation (0 = greedy).")
    dpo_eval_enabled: bool = Field(
        False, description="After DPO training, evaluate on the eval data: preference accuracy, reward margins, "
        "implicit rewards, and the win rate against the reference model judged by `rewards` (report in "
        "<output_dir>/dpo_eval; needs eval_datasets or holdout_fraction)."
    )
    dpo_eval_max_samples: int | None = Field(None, gt=0, description="Preference pairs the DPO evaluation scores (default: all).")
    dpo_zero_shot_max_samples: int = Field(
        50, gt=0, description="Prompts on which policy and reference generate for the DPO win rate."
    )
    dpo_few_shot_max_samples: int = Field(
        30, gt=0, description="Prompts, preceded by dpo_few_shot_examples_text, for the few-shot DPO win rate."
    )
    dpo_few_shot_examples_text: str | None = Field(
        None, description="Few-shot examples put before each prompt for the few-shot DPO win rate (unset: none)."
    )
