import json
import subprocess
import sys


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_leaves_torch_unimported():
    result = _run(
        "import sys, json\n"
        "import aligntune_config\n"
        "from aligntune_config import UnifiedConfig, ConfigLoader\n"
        "c = UnifiedConfig(algo='grpo', model={'name_or_path': 'm'}, datasets=['d'], train={'batch_size': 2})\n"
        "ConfigLoader.dumps(c)\n"
        "heavy = [m for m in ('torch', 'transformers', 'trl', 'datasets', 'numpy') if m in sys.modules]\n"
        "print(json.dumps(heavy))\n"
    )
    assert result == []


def test_bare_import_is_lazy():
    result = _run("import sys, json; import aligntune_config; print(json.dumps('pydantic' in sys.modules))")
    assert result is False
