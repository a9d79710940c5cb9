"""Algorithm definitions of AlignTune and their maths.

- ``aligntune_algos.specs``: one AlgorithmSpec per algorithm (data format, paper defaults, the ``train``
  fields it uses, its checks), registered under the ``aligntune.algorithms`` entry points. No torch.
- ``aligntune_algos.grpo_math``: group-normalised advantages, DAPO dynamic sampling and soft overlong
  punishment, decoupled clipping, GSPO's sequence ratio, the k3 KL estimator, loss aggregations.
- ``aligntune_algos.ppo_math``: GAE, whitening, clipped policy and value losses, k1/k2/k3 KL estimators,
  fixed and adaptive KL controllers.

Not built yet: the training loops (PPO loop, NM-GRPO mirror map, Meta-ES) and their backends.
"""

__version__ = "0.1.0"
