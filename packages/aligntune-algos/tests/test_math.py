"""The maths against values computed by hand."""

import math

import pytest
import torch

from aligntune_algos import grpo_math as G
from aligntune_algos import ppo_math as P

approx = lambda values, rel=1e-4: pytest.approx(values, rel=rel, abs=1e-6)  # noqa: E731


def test_gae_by_hand():
    rewards = torch.tensor([[0.0, 0.0, 1.0]])
    values = torch.tensor([[0.5, 0.4, 0.3]])
    mask = torch.ones(1, 3)
    adv, ret = P.gae(rewards, values, mask, gamma=1.0, lam=0.95)
    assert adv[0].tolist() == approx([0.43675, 0.565, 0.7])
    assert ret[0].tolist() == approx([0.93675, 0.965, 1.0])
    adv, _ = P.gae(rewards, values, mask, gamma=0.9, lam=0.5)
    assert adv[0].tolist() == approx([-0.05675, 0.185, 0.7])


def test_gae_ignores_positions_after_the_response():
    adv, _ = P.gae(torch.tensor([[0.0, 1.0, 5.0]]), torch.tensor([[0.5, 0.4, 9.0]]), torch.tensor([[1.0, 1.0, 0.0]]),
                   gamma=1.0, lam=0.95)
    assert adv[0].tolist() == approx([0.47, 0.6, 0.0])


def test_clipped_surrogate_by_hand():
    logps = torch.log(torch.tensor([[1.5, 0.5, 1.1]]))
    old = torch.zeros(1, 3)
    adv = torch.tensor([[1.0, -1.0, 1.0]])
    loss, clipfrac = P.policy_loss(logps, old, adv, torch.ones(1, 3), cliprange=0.2)
    # token 1: max(-1.5, -1.2) = -1.2; token 2: max(0.5, 0.8) = 0.8; token 3: -1.1 (inside the clip range)
    assert loss.item() == pytest.approx((-1.2 + 0.8 - 1.1) / 3)
    assert clipfrac.item() == pytest.approx(2 / 3)


def test_clipped_value_loss_by_hand():
    loss, clipfrac = P.value_loss(torch.tensor([[1.0, 1.9]]), torch.tensor([[0.5, 1.8]]), torch.tensor([[2.0, 2.0]]),
                                  torch.ones(1, 2), cliprange_value=0.2)
    # first: clipped V = 0.7, max((1-2)^2, (0.7-2)^2) = 1.69; second: inside the range, (1.9-2)^2 = 0.01
    assert loss.item() == pytest.approx(0.5 * (1.69 + 0.01) / 2)
    assert clipfrac.item() == pytest.approx(0.5)


def test_three_kl_estimators_by_hand():
    logp, ref = torch.tensor([math.log(0.5)]), torch.tensor([math.log(0.25)])
    assert P.kl_estimate(logp, ref, "k1").item() == pytest.approx(math.log(2))
    assert P.kl_estimate(logp, ref, "k2").item() == pytest.approx(0.5 * math.log(2) ** 2)
    assert P.kl_estimate(logp, ref, "k3").item() == pytest.approx(-0.5 + math.log(2))
    assert G.k3_kl(logp, ref).item() == pytest.approx(P.kl_estimate(logp, ref, "k3").item())
    with pytest.raises(ValueError, match="valid: k1, k2, k3"):
        P.kl_estimate(logp, ref, "k4")


def test_kl_estimators_unbiasedness_on_samples():
    torch.manual_seed(0)
    p = torch.tensor([0.6, 0.3, 0.1])
    q = torch.tensor([0.2, 0.5, 0.3])
    true_kl = (p * (p / q).log()).sum().item()
    samples = torch.multinomial(p, 200_000, replacement=True)
    logp, logq = p.log()[samples], q.log()[samples]
    assert P.kl_estimate(logp, logq, "k1").mean().item() == pytest.approx(true_kl, rel=0.02)
    assert P.kl_estimate(logp, logq, "k3").mean().item() == pytest.approx(true_kl, rel=0.02)
    assert (P.kl_estimate(logp, logq, "k3") >= 0).all()


def test_adaptive_kl_update_by_hand():
    ctl = P.AdaptiveKLController(value=0.2, target=0.01, horizon=10000)
    assert ctl.update(0.02, n_steps=100) == pytest.approx(0.2 * 1.002)  # error clipped to +0.2
    assert ctl.update(0.005, n_steps=100) == pytest.approx(0.2 * 1.002 * 0.998)  # error clipped to -0.2
    assert ctl.update(0.011, n_steps=100) == pytest.approx(0.2 * 1.002 * 0.998 * (1 + 0.1 * 0.01))
    assert P.FixedKLController(0.1).update(5.0, 100) == 0.1


def test_whiten_and_explained_variance():
    x = torch.tensor([[1.0, 2.0, 3.0, 100.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    w = P.whiten(x, mask)
    assert w[0, :3].tolist() == approx([-1.22474, 0.0, 1.22474])
    assert w[0, 3].item() == 0
    ret = torch.tensor([[1.0, 2.0, 3.0]])
    assert P.explained_variance(ret, ret, torch.ones(1, 3)).item() == pytest.approx(1.0)
    assert P.explained_variance(torch.zeros(1, 3) + 2, ret, torch.ones(1, 3)).item() == pytest.approx(0.0, abs=1e-6)


def test_group_advantages_by_hand():
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    std = math.sqrt(1 / 3)  # unbiased std of (1, 0, 0, 1)
    grpo = G.group_advantages(rewards, 4, "group")
    assert grpo.tolist() == approx([0.5 / (std + 1e-4), -0.5 / (std + 1e-4)] * 1 + [-0.5 / (std + 1e-4), 0.5 / (std + 1e-4)]
                                   + [0.0] * 4)
    assert G.group_advantages(rewards, 4, "none").tolist() == approx([0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0])
    batch_std = rewards.std().item()
    assert G.group_advantages(rewards, 4, "batch").tolist() == approx([0.5 / (batch_std + 1e-4)] + [-0.5 / (batch_std + 1e-4)] * 2
                                                                      + [0.5 / (batch_std + 1e-4)] + [0.0] * 4)
    with pytest.raises(ValueError, match="groups of 3"):
        G.group_advantages(rewards, 3)


def test_dynamic_sampling_and_overlong_by_hand():
    assert G.informative_groups(torch.tensor([1.0, 0, 0, 1, 2, 2, 2, 2]), 4).tolist() == [True, False]
    lengths = torch.tensor([5, 6, 8, 10, 12])
    assert G.soft_overlong_penalty(lengths, max_length=10, buffer_length=4).tolist() == approx([0, 0, -0.5, -1, -1])
    assert G.soft_overlong_penalty(lengths, 10, 4, penalty_factor=2.0).tolist() == approx([0, 0, -1.0, -2, -2])


def test_decoupled_clip_by_hand():
    ratio = torch.tensor([[1.5, 0.5, 1.25]])
    adv = torch.tensor([1.0])
    out = G.clipped_objective(ratio, adv, eps_low=0.2, eps_high=0.28)
    assert out[0].tolist() == approx([-1.28, -0.5, -1.25])
    out = G.clipped_objective(ratio, torch.tensor([-1.0]), eps_low=0.2, eps_high=0.28)
    assert out[0].tolist() == approx([1.5, 0.8, 1.25])


def test_gspo_sequence_ratio_value_and_gradient():
    logps = torch.tensor([[math.log(2.0), 0.0]], requires_grad=True)
    old = torch.zeros(1, 2)
    s = G.sequence_ratio(logps, old, torch.ones(1, 2))
    assert s[0].tolist() == approx([math.sqrt(2)] * 2)  # exp(mean log ratio), the same for every token
    s.sum().backward()
    assert logps.grad[0].tolist() == approx([math.sqrt(2)] * 2)
    masked = G.sequence_ratio(logps.detach(), old, torch.tensor([[1.0, 0.0]]))
    assert masked[0, 0].item() == pytest.approx(2.0)


def test_aggregations_by_hand():
    per_token = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    assert G.aggregate(per_token, mask, "grpo").item() == pytest.approx(3.0)  # (2 + 4) / 2
    assert G.aggregate(per_token, mask, "dapo").item() == pytest.approx(2.5)  # 10 / 4 tokens
    assert G.aggregate(per_token, mask, "dr_grpo", max_completion_length=3).item() == pytest.approx(10 / 6)
    with pytest.raises(ValueError, match="needs max_completion_length"):
        G.aggregate(per_token, mask, "dr_grpo")
