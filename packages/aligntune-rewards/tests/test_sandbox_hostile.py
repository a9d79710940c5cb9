"""Hostile completions: each one would score 1 if its attack worked (it defines a correct ``add`` after
the attack). Contained, each scores 0, and the host (files, environment, this process) is unharmed."""

from __future__ import annotations

import os
import socket
import time

import pytest
from aligntune_rewards import get_reward
from aligntune_rewards.sandbox import SandboxLimits, namespaces_available, run_python

SECRET = "sk-test-secret-do-not-leak-1234567890"
GOOD = "\ndef add(a, b):\n    return a + b\n"
TESTS = ["assert add(2, 3) == 5"]


def _children() -> set[int]:
    me, out = os.getpid(), set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                out.add(int(pid))
    return out


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    base = tmp_path_factory.mktemp("host")
    victim = base / "victim.txt"
    victim.write_text("precious")
    os.environ["ALIGNTUNE_TEST_SECRET"] = SECRET
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    yield {"dir": base, "victim": victim, "port": listener.getsockname()[1], "listener": listener}
    listener.close()
    os.environ.pop("ALIGNTUNE_TEST_SECRET", None)


def attacks(host):
    d, victim, port = host["dir"], host["victim"], host["port"]
    return {
        "infinite_loop": "while True:\n    pass\n",
        "fork_bomb": "import os\nwhile True:\n    os.fork()\n",
        "subprocess_bomb": "import subprocess\nsubprocess.Popen(['sh', '-c', ':(){ :|:& };:'])\n",
        "multiprocessing": "import multiprocessing\nmultiprocessing.Process(target=print).start()\n",
        "memory_bomb": "x = bytearray(8 * 1024 ** 3)\n",
        "write_outside": f"open({str(d / 'pwned.txt')!r}, 'w').write('owned')\n",
        "delete_outside": f"import os\nos.remove({str(victim)!r})\n",
        "rmtree_outside": f"import shutil\nshutil.rmtree({str(d)!r})\n",
        "read_env_secret": "import os\nprint(os.environ['ALIGNTUNE_TEST_SECRET'])\n",
        "read_parent_environ": "import os\nprint(open(f'/proc/{os.getppid()}/environ').read())\n",
        "kill_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
        "killpg_zero": "import os, signal\nos.killpg(0, signal.SIGKILL)\n",
        "pidfd_kill": "import os, signal\nsignal.pidfd_send_signal(os.pidfd_open(os.getppid()), signal.SIGKILL)\n",
        "ctypes_kill": "import ctypes\nctypes.CDLL(None).kill(__import__('os').getppid(), 9)\n",
        "socket_connect": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n",
        "raw_socket_module": f"import _socket\n_socket.socket().connect(('127.0.0.1', {port}))\n",
        "huge_output": "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
        "recursion_bomb": "def r(n):\n    return r(n + 1)\nr(0)\n",
        "sys_exit": "import sys\nsys.exit(0)\n",
        "os_exit": "import os\nos._exit(0)\n",
        "ignore_cpu_limit_signals": "import signal\nfor s in (signal.SIGXCPU, signal.SIGTERM, signal.SIGINT):\n"
                                    "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass\n",
        "alarm_trick": "import signal, time\nsignal.signal(signal.SIGALRM, lambda *a: None)\nsignal.alarm(1)\n"
                       "time.sleep(60)\n",
        "raise_limits": "import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n",
        "setsid_escape": "import os\nos.setsid()\n",
        "reload_to_restore_kill": "import importlib, os, signal\nimportlib.reload(os)\nimportlib.reload(signal)\n"
                                  "signal.pidfd_send_signal(os.pidfd_open(os.getppid()), signal.SIGKILL)\n",
        "fake_success_line": "print('0' * 32 + ' 1 1 1')\nimport os\nos._exit(0)\n",
    }


def test_hostile_completions_are_contained_and_score_zero(host):
    names_codes = list(attacks(host).items())
    assert len(names_codes) >= 12
    before_children = _children()
    fn = get_reward("code_execution", timeout=3, memory_mb=512)
    start = time.monotonic()
    scores = fn([code + GOOD for _, code in names_codes], tests=[TESTS] * len(names_codes))
    elapsed = time.monotonic() - start
    results = dict(zip([n for n, _ in names_codes], fn.last_results))
    for (name, _), value in zip(names_codes, scores):
        assert value == 0.0, (name, results[name].stderr[-300:])
    # the host is unharmed
    assert host["victim"].read_text() == "precious"
    assert not (host["dir"] / "pwned.txt").exists()
    assert os.environ["ALIGNTUNE_TEST_SECRET"] == SECRET
    assert all(SECRET not in r.stdout and SECRET not in r.stderr for r in results.values())
    with pytest.raises(BlockingIOError):
        host["listener"].accept()  # nobody connected
    assert len(results["huge_output"].stdout) <= SandboxLimits().output_bytes
    assert results["infinite_loop"].timed_out and results["alarm_trick"].timed_out
    assert elapsed < 60
    time.sleep(0.2)
    assert _children() - before_children == set()  # no process left behind


def test_the_same_code_without_the_attack_passes(host):
    fn = get_reward("code_execution", timeout=3)
    assert fn([GOOD], tests=[TESTS]) == [1.0]


def test_sandbox_has_a_fresh_directory_and_a_scrubbed_environment():
    probe = ("import os, sys\nassert os.listdir('.') in ([], ['.stdout', '.stderr'], ['.stderr', '.stdout'])\n"
             "open('scratch.txt', 'w').write('ok')\nassert open('scratch.txt').read() == 'ok'\n"
             "bad = [k for k in os.environ if any(w in k.upper() for w in ('TOKEN', 'KEY', 'SECRET', 'PASS'))]\n"
             "assert not bad, bad\nassert os.environ['HOME'] == os.getcwd()\n")
    os.environ["HF_TOKEN"] = "hf_should_not_leak"
    try:
        result = run_python(probe, ["import numbers"], SandboxLimits(timeout=5))
    finally:
        os.environ.pop("HF_TOKEN")
    assert result.ok, result.stderr
    assert result.passed == 1 and result.fraction == 1.0


@pytest.mark.skipif(not namespaces_available(), reason="unshare cannot create namespaces here")
def test_network_namespace_has_no_interfaces_even_without_the_audit_hook():
    # read the kernel's own view: inside the new net namespace only the (down) loopback device exists
    code = "devices = open('/proc/net/dev').read().split('\\n')[2:]\nprint(sorted(l.split(':')[0].strip() for l in devices if l.strip()))\n"
    result = run_python("", [], SandboxLimits(timeout=5))
    assert result.ok
    import subprocess
    import sys

    from aligntune_rewards.sandbox import _UNSHARE

    done = subprocess.run([*_UNSHARE, sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=30,
                          check=False)
    assert done.stdout.strip() == "['lo']", done.stdout + done.stderr


def test_attacks_are_contained_without_namespaces_too(host):
    """Where unshare is unavailable (some CI containers) the audit hook and limits still hold."""
    chosen = ["fork_bomb", "kill_parent", "pidfd_kill", "reload_to_restore_kill", "write_outside", "delete_outside",
              "socket_connect", "read_env_secret", "os_exit", "infinite_loop"]
    table = attacks(host)
    limits = SandboxLimits(timeout=2, use_namespaces=False)
    from aligntune_rewards.sandbox import SandboxPool

    results = SandboxPool(limits=limits).map([(table[name] + GOOD, TESTS) for name in chosen])
    for name, result in zip(chosen, results):
        assert not result.ok and result.fraction == 0.0, (name, result.stderr[-200:])
    assert host["victim"].read_text() == "precious"
    assert not (host["dir"] / "pwned.txt").exists()
    assert SandboxPool(limits=limits).map([(GOOD, TESTS)])[0].ok
