"""`aligntune --help` through the installed console script: every command listed, fast, no heavy imports."""

import json
import os
import pathlib
import resource
import subprocess
import sys

SCRIPT = pathlib.Path(sys.executable).parent / "aligntune"
COMMANDS = ("validate", "train", "eval", "resume", "report", "list", "doctor", "schema", "version")


def _cpu_seconds_of(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def test_console_script_help_lists_every_command_quickly():
    # CPU time, not wall time: the machine may be shared, the work the command does is what we bound
    timings = []
    for _ in range(3):
        cpu, out = _cpu_seconds_of([str(SCRIPT), "--help"])
        assert out.returncode == 0, out.stderr
        timings.append(cpu)
    for command in COMMANDS:
        assert f"  {command} " in out.stdout, (command, out.stdout)
    assert min(timings) < 0.5, timings


def test_help_of_every_command_imports_no_heavy_library():
    # (typer itself imports pydantic to coerce parameters of a command)
    code = ("import sys, json\nfrom aligntune.cli.main import app\nfor cmd in [[]] + [[c] for c in sys.argv[1:]]:\n"
            "    try:\n        app(cmd + ['--help'], prog_name='aligntune')\n    except SystemExit as e:\n"
            "        assert e.code == 0, (cmd, e.code)\n"
            "print(json.dumps([m for m in ('torch', 'transformers', 'trl', 'datasets', 'matplotlib', 'rich')"
            " if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code, *COMMANDS], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_console_script_validate_exit_codes_and_every_error():
    root = pathlib.Path(__file__).resolve().parents[3]
    ok = subprocess.run([str(SCRIPT), "validate", str(root / "examples" / "quickstart.yaml")], capture_output=True,
                        text=True, env={**os.environ, "COLUMNS": "200"})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "valid: sft on embedded:smollm2-135m-instruct" in ok.stdout
    bad = subprocess.run([str(SCRIPT), "validate", "--algo", "grpo", "--model", "m", "--dataset", "d#max=0",
                          "--reward", "length:weight=x", "--set", "train.learning_rate=-1"],
                         capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert bad.returncode == 1
    for expected in ("3 errors", "max must be > 0", "weight must be a number", "train.learning_rate: must be > 0"):
        assert expected in bad.stdout, (expected, bad.stdout)


def test_train_unified_help_lists_the_spec_flags_without_torch():
    code = ("import runpy, sys, json\nsys.argv = ['train_unified', '--help']\ntry:\n"
            "    runpy.run_module('aligntune.cli.train_unified', run_name='__main__')\nexcept SystemExit as e:\n"
            "    assert e.code == 0\nprint(json.dumps([m for m in ('torch', 'transformers', 'trl') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "COLUMNS": "120"})
    for flag in ("--config", "--algo", "--model", "--dataset", "--reward", "--max-steps", "--set"):
        assert flag in out.stdout, flag
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
