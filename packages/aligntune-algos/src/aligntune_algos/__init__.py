"""Algorithm definitions of AlignTune and their maths.

- ``aligntune_algos.specs``: one AlgorithmSpec per algorithm (data format, paper defaults, the ``train``
  fields it uses, its checks), registered under the ``aligntune.algorithms`` entry points. No torch.
- ``aligntune_algos.grpo_math``: group-normalised advantages, DAPO dynamic sampling and soft overlong
  punishment, decoupled clipping, GSPO's sequence ratio, the k3 KL estimator, loss aggregations.
- ``aligntune_algos.ppo_math``: GAE, whitening, clipped policy and value losses, k1/k2/k3 KL estimators,
  fixed and adaptive KL controllers.

- ``aligntune_algos.mirror``: NM-GRPO's learned convex mirror map h_φ and its Bregman divergence.
- ``aligntune_algos.meta_es``: Meta-ES, antithetic evolution strategies over φ, checkpointed and resumable.

Not built yet: the NM-GRPO and Meta-ES training runs on an engine.
"""

__version__ = "0.1.0"
