"""PPO honours the general training fields it can (learning-rate schedule with warmup, periodic
evaluation, checkpoint limit, evaluation batch size) and refuses, before any model is loaded, those its
loop does not build."""

from __future__ import annotations

import datasets
import pytest


def train_config(**fields):
    from aligntune_config import TrainingConfig

    return TrainingConfig(**{"rollout_batch_size": 4, "per_device_batch_size": 2, "num_ppo_epochs": 2, **fields})


@pytest.mark.parametrize("fields, message", [
    ({"use_vllm": True}, "train.use_vllm=True: vLLM rollouts are not built"),
    ({"optimizer": "sgd"}, "train.optimizer='sgd': the PPO loop uses AdamW"),
    ({"resume_from_checkpoint": True}, "train.resume_from_checkpoint"),
    ({"eval_strategy": "epoch"}, "train.eval_strategy='epoch'"),
    ({"save_strategy": "best"}, "train.save_strategy='best'"),
    ({"max_completion_length": 64, "response_length": 16}, "set train.response_length instead"),
])
def test_fields_the_loop_does_not_build_are_refused(fields, message):
    from aligntune_backends.ppo.options import check_train_fields

    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_train_fields(train_config(**fields))
    check_train_fields(train_config(use_vllm=False, optimizer="adamw_torch", max_completion_length=53,
                                    response_length=53))  # defaults and consistent values pass


def test_scheduler_counts_optimizer_updates_and_warms_up():
    import torch
    from aligntune_backends.ppo.options import build_scheduler, updates_per_step

    t = train_config(gradient_accumulation_steps=1, learning_rate=1.0, warmup_steps=2, lr_scheduler="linear")
    assert updates_per_step(t) == 2 * 2  # 2 epochs x (4 rollouts / minibatch 2)
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = build_scheduler(t, opt, total_steps=3)  # 12 updates: 2 of warmup, then linear to 0
    lrs = []
    for _ in range(12):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert lrs[:3] == pytest.approx([0.0, 0.5, 1.0]) and lrs[-1] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="train.lr_scheduler='wobbly'"):
        build_scheduler(train_config(lr_scheduler="wobbly"), opt, total_steps=3)


def test_periodic_evaluation_checkpoint_limit_and_cosine_schedule(tmp_path, tiny_random_path):
    from aligntune_backends.ppo import PPOTrainer
    from aligntune_config import UnifiedConfig

    config = UnifiedConfig(
        algo="ppo", backend="trl", datasets=["prompts"], eval_datasets=["held-out prompts"], rewards=["length"],
        model={"name_or_path": "embedded:tiny-random", "use_peft": False, "precision": "fp32"},
        train={"rollout_batch_size": 4, "per_device_batch_size": 4, "per_device_eval_batch_size": 2, "max_steps": 3,
               "response_length": 3, "num_ppo_epochs": 1, "learning_rate": 1e-3, "lr_scheduler": "cosine",
               "eval_strategy": "steps", "eval_interval": 2, "save_strategy": "steps", "save_interval": 1,
               "save_total_limit": 1},
        logging={"output_dir": str(tmp_path), "loggers": [], "disable_tqdm": True})
    data = datasets.Dataset.from_list([{"prompt": p} for p in ["a", "b", "c", "d"]])
    trainer = PPOTrainer(config, data, reward_fn=lambda completions, **kw: [float(len(c)) for c in completions],
                         eval_dataset=data.select(range(3)))
    trainer.train()
    lrs = [h["lr"] for h in trainer.history]
    assert lrs == pytest.approx([0.75e-3, 0.25e-3, 0.0])  # cosine over the 3 updates, the rate after each step
    assert "eval_reward_mean" in trainer.history[1] and "eval_reward_mean" not in trainer.history[0]
    assert sorted(p.name for p in tmp_path.glob("checkpoint-*")) == ["checkpoint-2"]  # limit 1; last step not a checkpoint
