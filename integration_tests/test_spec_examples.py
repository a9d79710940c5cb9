"""Every YAML block and every configuration in the Python blocks of ../shared/spec loads, validates and
trains.

Python blocks run top to bottom in one namespace per page, like a reader would paste them. Calls of the
trainer factories (create_sft_trainer, create_rl_trainer, TrainerFactory.create_trainer) resolve their
arguments into a UnifiedConfig exactly as the factories do. YAML blocks: the spec's pages lost the
indentation of list items' keys (``- name: x`` followed by ``split: y`` at the same column), which is
invalid YAML; the test restores it before loading.

``test_spec_config_trains`` then TRAINS every distinct configuration so collected, as written except
for these documented substitutions (see ``substitute``): the model (and any reward/value model) becomes
``embedded:tiny-random``; Hub datasets become the same data from ../shared/data (gsm8k, hh-rlhf, alpaca,
MBPP, whose sanitized file names the ``text`` column ``prompt``; CodeAlpaca -> MBPP, the local code data) or, for the spec's placeholders (``dataset_name``, the
section snippets), a built-in dataset of the algorithm's format; 2 steps, batch 2, at most 32 rows per
dataset, 2 generations of 8 tokens; wandb dropped from the trackers (it needs an account). Configs that
need hardware not present are skipped with the reason (Unsloth and fp16/quantization need CUDA, several
processes need ``accelerate launch``, tested by test_ddp.py).
"""

import ast
import pathlib
import re

import pytest
import yaml

import aligntune
from aligntune_config import ConfigLoader, ConfigValidationError, SFTConfigLoader, UnifiedConfig

SPEC = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "spec"
FACTORIES = {"create_sft_trainer": "sft", "create_rl_trainer": None}
PAGES = ["api-reference.md", "basic-concepts.md", "parameters.md", "summary-and-quickstart.md", "unified-rlhf-api.md"]

pytestmark = pytest.mark.skipif(not SPEC.is_dir(), reason=f"spec folder {SPEC} not present")


def restore_indentation(text: str) -> str:
    """Indent keys that follow a ``- key: value`` list item at the same column under that item."""
    out, item_col = [], None
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        col = len(line) - len(stripped)
        if stripped.startswith("- "):
            item_col = col
            out.append(line)
        elif item_col is not None and col == item_col and stripped and not stripped.startswith("#"):
            out.append(" " * (col + 2) + stripped)
        else:
            if stripped and col < (item_col or 0) + 1 and not stripped.startswith("#"):
                item_col = None
            out.append(line)
    return "\n".join(out) + "\n"


def blocks(page: str, lang: str) -> list[tuple[str, str]]:
    """(block, the text just before it) for every fenced block of ``lang``."""
    text = (SPEC / page).read_text()
    return [(m.group(2), text[max(0, m.start() - 200):m.start()]) for m in re.finditer(r"```(\w+)\n(.*?)```", text, re.S)
            if m.group(1) == lang]


def restore_python_indentation(source: str) -> str:
    """The spec's pages flattened one-statement blocks (``if x:`` then ``return 1.0`` at the same
    column); indent the single line after a colon-terminated line when it is not indented."""
    lines = source.splitlines()
    for i in range(1, len(lines)):
        prev, line = lines[i - 1], lines[i]
        prev_col = len(prev) - len(prev.lstrip())
        col = len(line) - len(line.lstrip())
        if prev.rstrip().endswith(":") and line.strip() and col <= prev_col:
            lines[i] = " " * (prev_col + 1) + line.lstrip()
    return "\n".join(lines) + "\n"


BASE = {"algo": "sft", "model": {"name_or_path": "m"}, "datasets": [{"name": "d"}]}


def load_yaml_block(block: str) -> UnifiedConfig | None:
    data = yaml.safe_load(restore_indentation(block))
    if set(data) <= {"distributed", "logging", "caching"}:  # a snippet of one section
        return ConfigLoader.load(dict(BASE, **data))
    loader = ConfigLoader if ("algo" in data or "algorithm" in data) else SFTConfigLoader
    return loader.load(data)


YAML_BLOCKS = [(page, i, b) for page in PAGES for i, (b, _) in enumerate(blocks(page, "yaml"))] if SPEC.is_dir() else []


@pytest.mark.parametrize("page,index,block", YAML_BLOCKS, ids=[f"{p}#{i}" for p, i, _ in YAML_BLOCKS])
def test_yaml_block_validates(page, index, block):
    config = load_yaml_block(block)
    assert isinstance(config, UnifiedConfig)


def test_yaml_block_values_survive():
    multi = load_yaml_block(next(b for b, _ in blocks("unified-rlhf-api.md", "yaml") if "Multi" in b or "tasks:" in b))
    assert [d.name for d in multi.datasets] == ["gsm8k", "sahil2801/CodeAlpaca-20k", "Anthropic/hh-rlhf"]
    assert [d.weight for d in multi.datasets] == [0.4, 0.3, 0.3]
    assert [r.type for r in multi.rewards] == ["math", "code", "length", "safety"] and multi.rewards[3].shield
    assert [t.name.value for t in multi.tasks] == ["math", "code", "conversation"]


class _Runner:
    """Runs a page's Python blocks; trainer calls become config resolutions."""

    def __init__(self, page: str, tmp_path: pathlib.Path):
        self.page, self.tmp = page, tmp_path
        self.ns: dict = {}
        self.configs: list[UnifiedConfig] = []
        self.skipped: list[str] = []
        self.foreign: set[str] = set()
        for block, before in blocks(page, "yaml"):
            named = re.findall(r"\*\*([\w/.-]+\.ya?ml):\*\*", before) or re.findall(r"#\s*([\w/.-]+\.ya?ml)", block)
            if named:
                path = tmp_path / named[-1]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(restore_indentation(block))

    def _import(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name in FACTORIES or alias.name in ("TrainerFactory", "BackendFactory"):
                # resolve the config the call describes; the training runs are tests of their own
                self.ns[alias.asname or alias.name] = _Factory(self, alias.name)
                continue
            try:
                module = __import__(node.module, fromlist=[alias.name])
                self.ns[alias.asname or alias.name] = getattr(module, alias.name)
            except (ImportError, AttributeError):
                if alias.name in FACTORIES or alias.name in ("TrainerFactory", "BackendFactory"):
                    self.ns[alias.asname or alias.name] = _Factory(self, alias.name)
                else:
                    self.skipped.append(f"import {node.module}.{alias.name}")

    def run_block(self, source: str) -> None:
        try:
            tree = ast.parse(source)
        except IndentationError:
            tree = ast.parse(restore_python_indentation(source))
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aligntune"):
                self._import(node)
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):  # other libraries: used on a trained model
                self.foreign.update(a.asname or a.name for a in node.names)
                continue
            if self.foreign & {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}:
                self.skipped.append(f"schematic: uses a trained model: {ast.unparse(node)[:60]}")
                continue
            if any(isinstance(n, ast.Constant) and n.value is Ellipsis for n in ast.walk(node)):
                self.skipped.append(f"schematic: {ast.unparse(node)[:60]}")
                continue
            code = compile(ast.Module([node], []), self.page, "exec")
            try:
                exec(code, self.ns)
            except NameError as exc:
                self.skipped.append(f"undefined {exc.name}: {ast.unparse(node)[:60]}")
            except ConfigValidationError as exc:
                if "does not exist" not in str(exc):
                    raise
                self.skipped.append(f"undefined file: {ast.unparse(node)[:60]}")


class _Factory:
    """Stands in for a trainer factory: resolves the config the call describes, trains nothing."""

    def __init__(self, runner: _Runner, name: str):
        self.runner, self.name = runner, name

    def __call__(self, config=None, **kwargs):
        if isinstance(config, str) and not pathlib.Path(config).is_absolute():
            config = str(self.runner.tmp / config)
        default_algo = FACTORIES.get(self.name)
        resolved = ConfigLoader.from_kwargs(config, default_algo=default_algo, **kwargs)
        self.runner.configs.append(resolved)
        return _NoTrainer()

    def create_trainer(self, config, *args):
        if args:
            self.runner.skipped.append("BackendFactory.create_trainer(config, BackendConfig): BackendConfig not built")
            return _NoTrainer()
        self.runner.configs.append(ConfigLoader.validate_config(config))
        return _NoTrainer()


class _NoTrainer:
    def __getattr__(self, name):
        return lambda *a, **k: None


EXPECTED_CONFIGS = {"api-reference.md": 2, "basic-concepts.md": 8, "parameters.md": 2,
                    "summary-and-quickstart.md": 14, "unified-rlhf-api.md": 3}


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_validate(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = _Runner(page, tmp_path)
    for block, _ in blocks(page, "python"):
        runner.run_block(block)
    constructed = [v for v in runner.ns.values() if isinstance(v, UnifiedConfig)]
    total = len(runner.configs) + len(constructed)
    assert total >= EXPECTED_CONFIGS[page], (total, runner.skipped)
    # every skipped statement is schematic in the spec (placeholders, undefined names), or a part not built yet
    for reason in runner.skipped:
        assert reason.startswith(("schematic", "undefined", "BackendFactory", "import aligntune.")), reason


def test_api_reference_objects_have_documented_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = _Runner("api-reference.md", tmp_path)
    for block, _ in blocks("api-reference.md", "python"):
        runner.run_block(block)
    ns = runner.ns
    assert ns["training_config"].num_ppo_epochs == 4 and ns["training_config"].init_kl_coef == 0.2
    assert ns["reward_config"].type == "safety"
    assert ns["distributed_config"].backend is aligntune.BackendType.SINGLE
    assert ns["logging_config"].log_level == "INFO" and ns["logging_config"].hub_token is None
    config = ns["config"]
    assert config.algo == "dpo" and config.model.use_unsloth and config.backend == "unsloth"
    assert [r.weight for r in config.rewards] == [2.0, 1.5]


def test_backend_type_spellings():
    assert aligntune.BackendType.SINGLE.value == "single" and aligntune.BackendType.TRL.value == "trl"
    assert aligntune.BackendType.DEEPSPEED is aligntune.DistributedBackend.DEEPSPEED
    assert aligntune.BackendType("unsloth") is aligntune.ExecutionBackend.UNSLOTH
    assert aligntune.DistributedBackend is not aligntune.ExecutionBackend


# -- training the spec's configurations -----------------------------------------------------------------
DATA = SPEC.parent / "data"
LOCAL = {"tatsu-lab/alpaca": "alpaca_200.json", "anthropic/hh-rlhf": "hh-rlhf_harmless-base_test.jsonl.gz",
         "gsm8k": "gsm8k_test.jsonl", "openai/gsm8k": "gsm8k_test.jsonl",
         "google-research-datasets/mbpp": "sanitized-mbpp.json", "sahil2801/codealpaca-20k": "sanitized-mbpp.json"}
PLACEHOLDER_DATA = {"sft": "builtin:instructions", "dpo": "builtin:arithmetic-preferences",
                    "reward_model": "builtin:arithmetic-preferences"}  # other algorithms: builtin:arithmetic
TINY = "embedded:tiny-random"


def collect_configs() -> list[tuple[str, UnifiedConfig]]:
    """(where, config) for every configuration the spec's pages build (Python calls, constructed objects,
    YAML blocks)."""
    import os
    import tempfile

    found: list[tuple[str, UnifiedConfig]] = []
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for page in PAGES:
                runner = _Runner(page, pathlib.Path(tmp))
                for block, _ in blocks(page, "python"):
                    runner.run_block(block)
                constructed = [v for v in runner.ns.values() if isinstance(v, UnifiedConfig)]
                found += [(f"{page}:py{i}", c) for i, c in enumerate(runner.configs + constructed)]
                found += [(f"{page}:yaml{i}", load_yaml_block(b)) for i, (b, _) in enumerate(blocks(page, "yaml"))]
        finally:
            os.chdir(cwd)
    return found


def substitute(config: UnifiedConfig, output_dir: str) -> tuple[dict, str | None]:
    """The flat overrides that make ``config`` run here, or the reason it cannot."""
    import torch

    cuda = torch.cuda.is_available()
    m = config.model
    if not cuda and (config.backend.value == "unsloth" or m.use_unsloth):
        return {}, "Unsloth needs a CUDA GPU"
    if not cuda and m.precision is not None and m.precision.value == "fp16":
        return {}, "fp16 training needs a CUDA GPU"
    if not cuda and any(getattr(m.quantization, k, False) for k in ("load_in_4bit", "load_in_8bit")):
        return {}, "quantized (bitsandbytes) loading needs a CUDA GPU"
    if config.distributed.world_size > 1 or config.distributed.nodes > 1:
        return {}, (f"{config.distributed.backend.value} over {config.distributed.world_size} processes is started by "
                    "accelerate launch (multi-process training: integration_tests/test_ddp.py)")
    algo = config.algo.value
    for ds in config.datasets:
        if algo in ("dpo", "reward_model") and "gsm8k" in ds.name.lower() and ds.processing_fn is None:
            return {}, (f"{algo} on {ds.name} without a processing_fn: GSM8K has no preference pairs (question, "
                        "answer), so this spec example cannot train anywhere; its processing_fn variant trains")
    out: dict = {"model.name_or_path": TINY, "train.max_steps": 2, "train.per_device_batch_size": 2,
                 "train.per_device_eval_batch_size": 2, "train.gradient_accumulation_steps": 1,
                 "logging.output_dir": output_dir, "caching.root": output_dir + "/cache",
                 "logging.loggers": [x for x in config.logging.loggers if x != "wandb"]}
    for field in ("reward_model_name", "reward_path", "sft_path"):
        if getattr(m, field, None):
            out[f"model.{field}"] = TINY
    if algo == "ppo":
        out["model.reward_value_model"] = TINY
        out["train.response_length"] = 8
    if config.algo.is_online and algo != "ppo":
        out["train.num_generations"] = 2
        out["train.max_completion_length"] = 8
    for i, ds in enumerate(config.datasets):
        local = LOCAL.get(ds.name.lower())
        if local is not None:
            out[f"datasets[{i}].name"] = str(DATA / local)
            out[f"datasets[{i}].subset"] = None
            out[f"datasets[{i}].revision"] = None
            if not ds.split.startswith("train"):
                out[f"datasets[{i}].split"] = "train"
            if "mbpp" in local and "text" in ds.column_mapping:  # sanitized MBPP calls the task text 'prompt'
                out[f"datasets[{i}].column_mapping"] = {("prompt" if k == "text" else k): v
                                                        for k, v in ds.column_mapping.items()}
        elif not ds.name.startswith(("builtin:", "/", ".")):  # the spec's placeholders
            out[f"datasets[{i}].name"] = PLACEHOLDER_DATA.get(algo, "builtin:arithmetic")
        if ds.max_samples is None or ds.max_samples > 32:
            out[f"datasets[{i}].max_samples"] = 32
            out[f"datasets[{i}].percent"] = None
    return out, None


def apply(config: UnifiedConfig, overrides: dict) -> UnifiedConfig:
    """``config`` with the flat ``overrides`` set on a deep copy (marked as set), validated again."""
    copy = config.model_copy(deep=True)
    for key, value in overrides.items():
        obj, parts = copy, re.findall(r"\w+|\[\d+\]", key)
        for part in parts[:-1]:
            obj = obj[int(part[1:-1])] if part.startswith("[") else getattr(obj, part)
        object.__setattr__(obj, parts[-1], value)
        obj.model_fields_set.add(parts[-1])
    return ConfigLoader.validate_config(copy)


SPEC_CONFIGS = collect_configs() if SPEC.is_dir() else []
OUT = "/tmp/aligntune-spec-run"  # replaced by the test's own folder


def shape(config: UnifiedConfig) -> str:
    """What decides the code a run goes through: algorithm, data (source, schema, mapping, task), rewards,
    PEFT, precision, trackers, evaluation data, backend. Configurations that differ only in hyperparameter
    values (learning rate, step counts, intervals; all validated above) train once."""
    m = config.model
    data = [(d.name, d.split, d.format_type, sorted(d.column_mapping.items()), str(d.task_type), d.system_prompt,
             d.chat_template is not None, d.processing_fn is not None) for d in config.datasets]
    return repr((config.algo.value, config.backend.value, data, [(r.type, r.shield, r.normalize) for r in config.rewards],
                 m.use_peft, str(m.precision), sorted(config.logging.loggers), config.has_eval_data,
                 str(config.train.loss_type), config.chat_template is not None))


def _distinct(configs):
    """One case per shape after substitution (the spec repeats many configurations)."""
    seen, out = set(), []
    for where, config in configs:
        overrides, reason = substitute(config, OUT)
        try:
            key = reason or shape(apply(config, overrides))
        except ConfigValidationError as exc:  # reported by the test itself
            key = f"{where}: {exc}"
        if key not in seen:
            seen.add(key)
            out.append((where, config))
    return out


DISTINCT = _distinct(SPEC_CONFIGS)


@pytest.mark.parametrize("where,config", DISTINCT, ids=[w for w, _ in DISTINCT])
def test_spec_config_trains(where, config, tmp_path, monkeypatch):
    from aligntune.run import train

    monkeypatch.chdir(tmp_path)
    overrides, reason = substitute(config, str(tmp_path / "out"))
    if reason:
        pytest.skip(f"{where}: {reason}")
    if not DATA.is_dir():
        pytest.skip(f"{DATA} not present")
    resolved = apply(config, overrides)
    assert resolved.algo == config.algo and resolved.train.max_steps == 2
    result = train(resolved)
    assert pathlib.Path(result["model_path"]).exists()
    engine = getattr(result["trainer"], "trainer", None)
    if engine is not None and hasattr(engine, "state"):
        assert engine.state.global_step == 2


def test_every_spec_configuration_is_trained_or_skipped_for_a_reason():
    assert len(SPEC_CONFIGS) >= sum(EXPECTED_CONFIGS.values())
    algos = {c.algo.value for _, c in DISTINCT}
    assert {"sft", "dpo", "ppo", "grpo"} <= algos, algos
