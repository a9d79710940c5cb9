"""Run untrusted Python (model completions) in isolated subprocesses.

Every run gets:

- its own process, ``python -I -S`` (isolated mode: no user site, no ``PYTHON*`` variables, no cwd on
  ``sys.path``; no ``site`` hooks, the site-packages folders are appended to ``sys.path`` directly) in a
  new session, so the whole process group can be killed;
- where ``unshare`` works (checked once), new user, network and PID namespaces: no network interface
  at all, and the parent's processes are invisible; when the child (PID 1 there) dies, so does
  everything it started;
- resource limits set before any untrusted code: CPU seconds (``RLIMIT_CPU``), address space
  (``RLIMIT_AS``), file size (``RLIMIT_FSIZE``, which also caps captured output), open files, no core
  files, ``RLIMIT_NPROC`` (ineffective for root, hence the next point);
- an audit hook that refuses process creation (fork/exec/spawn/subprocess/system), signals to other
  processes, sockets, ctypes, ``setrlimit``, writes and deletions outside the sandbox directory, and
  reads outside the sandbox directory and Python's installation (see :mod:`._sandbox_boot`);
- a fresh temporary working directory (also ``HOME`` and ``TMPDIR``), deleted afterwards;
- a scrubbed environment: only ``PATH``, ``LANG``, ``HOME``, ``TMPDIR`` (no tokens or keys);
- a wall-clock timeout after which the process group is killed with SIGKILL.

Success is reported on a private pipe with a random nonce, so a program that exits early (``os._exit(0)``)
or prints a fake success line fails. :class:`SandboxPool` runs many programs in parallel.
This is defence in depth for reward computation, not a security boundary against a determined
attacker with kernel exploits: run training on machines you are prepared to lose.
"""

from __future__ import annotations

import logging
import marshal
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

from ._sandbox_boot import BOOTSTRAP

logger = logging.getLogger("aligntune.rewards.sandbox")
_UNSHARE = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child"]


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one sandboxed run."""

    timeout: float = 10.0  # wall-clock seconds
    cpu_seconds: int | None = None  # default: ceil(timeout) + 1
    memory_mb: int = 1024  # address space
    output_bytes: int = 1_000_000  # per captured stream, and the largest file the program may write
    use_namespaces: bool = True  # unshare user/net/pid namespaces when available
    site_packages: bool = True  # let the program import installed packages (numpy, ...)


@dataclass
class SandboxResult:
    """What a sandboxed run did. ``passed``/``total`` count the tests that ran without an exception."""

    loaded: bool = False
    passed: int = 0
    total: int = 0
    returncode: int | None = None
    timed_out: bool = False
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    error: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """The program loaded and every test passed (and there was at least one test or none were asked)."""
        return self.loaded and self.passed == self.total and not self.timed_out

    @property
    def fraction(self) -> float:
        if not self.loaded or self.timed_out:
            return 0.0
        return self.passed / self.total if self.total else 1.0


@lru_cache(maxsize=1)
def namespaces_available() -> bool:
    """Whether ``unshare`` can create user/net/pid namespaces here (checked once)."""
    exe = shutil.which("unshare")
    if exe is None:
        return False
    try:
        done = subprocess.run([*_UNSHARE, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    if done.returncode != 0:
        logger.info("sandbox: unshare is present but failed (%s); running without namespaces",
                    done.stderr.decode(errors="replace").strip())
    return done.returncode == 0


@lru_cache(maxsize=1)
def _site_paths() -> list[str]:
    """This interpreter's site-packages folders. The child runs with ``-S`` (no ``site``: faster, no
    ``.pth`` code) and gets these appended to ``sys.path`` instead."""
    import site

    paths = [p for p in site.getsitepackages() if os.path.isdir(p)]
    return paths or [p for p in sys.path if p.endswith("site-packages")]


def _clean_env(workdir: str) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": workdir,
            "TMPDIR": workdir, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}


def _read_capped(path: str, limit: int) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit)
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def _wait(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for ``proc`` at most ``timeout`` seconds; True if it ended. Uses a pidfd (exact wake-up,
    and the child is left unreaped so its process-group id cannot be reused before the group is
    killed) where the platform has one, else Popen.wait's polling."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        poller = select.poll()  # poll, not select: no FD_SETSIZE limit in processes with many files
        poller.register(pidfd, select.POLLIN)
        return bool(poller.poll(max(0, int(timeout * 1000))))
    finally:
        os.close(pidfd)


def run_python(program: str, tests: Sequence[str] = (), limits: SandboxLimits | None = None) -> SandboxResult:
    """Run ``program`` then each of ``tests`` (Python source) in one isolated child process."""
    limits = limits or SandboxLimits()
    cpu = limits.cpu_seconds or int(limits.timeout) + 1
    workdir = tempfile.mkdtemp(prefix="aligntune-sbx-")
    nonce = secrets.token_hex(16)
    read_fd, write_fd = os.pipe()
    result = SandboxResult(total=len(tests))
    start = time.monotonic()
    proc = None
    try:
        os.set_inheritable(write_fd, True)
        settings = {"result_fd": write_fd, "program": program, "tests": list(tests),
                    "limits": {"cpu_seconds": cpu, "memory_bytes": limits.memory_mb * 1024 * 1024,
                               "file_bytes": limits.output_bytes},
                    "paths": _site_paths() if limits.site_packages else []}
        prefix = _UNSHARE if limits.use_namespaces and namespaces_available() else []
        command = [*prefix, sys.executable, "-I", "-S", "-c", BOOTSTRAP]
        out_path, err_path = os.path.join(workdir, ".stdout"), os.path.join(workdir, ".stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=err, cwd=workdir,
                                    env=_clean_env(workdir), pass_fds=(write_fd,), start_new_session=True,
                                    close_fds=True)
        os.close(write_fd)
        write_fd = -1
        try:
            proc.stdin.write(nonce.encode() + marshal.dumps(settings))
            proc.stdin.close()
        except (BrokenPipeError, OSError) as exc:
            result.error = f"could not send the program: {exc}"
        if not _wait(proc, limits.timeout):
            result.timed_out = True
            result.error = f"timed out after {limits.timeout:g}s"
        _kill_group(proc)  # also ends anything the run left behind
        code = proc.wait()
        result.returncode = None if result.timed_out else code
        os.set_blocking(read_fd, False)
        try:
            report = os.read(read_fd, 65536).decode("utf-8", errors="replace")
        except BlockingIOError:
            report = ""
        for line in report.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[0] == nonce and all(p.isdigit() for p in parts[1:]):
                result.loaded, result.passed = parts[1] == "1", min(int(parts[2]), len(tests))
        if not result.timed_out and result.returncode not in (0, None):
            result.error = result.error or f"exited with {result.returncode}"
        result.stdout = _read_capped(out_path, limits.output_bytes)
        result.stderr = _read_capped(err_path, limits.output_bytes)
    except OSError as exc:
        result.error = f"sandbox failure: {exc}"
        logger.warning("sandbox: %s", result.error)
        if proc is not None:
            _kill_group(proc)
    finally:
        if write_fd >= 0:
            os.close(write_fd)
        os.close(read_fd)
        shutil.rmtree(workdir, ignore_errors=True)
        result.duration = time.monotonic() - start
    return result


class SandboxPool:
    """Runs many sandboxed programs in parallel (threads that each wait on one child process)."""

    def __init__(self, max_workers: int | None = None, limits: SandboxLimits | None = None):
        # one more than the CPU count: each worker also spends time in the parent (spawn, clean-up)
        self.max_workers = max_workers or (os.cpu_count() or 1) + 1
        self.limits = limits or SandboxLimits()

    def map(self, jobs: Iterable[tuple[str, Sequence[str]]]) -> list[SandboxResult]:
        """Run each ``(program, tests)`` job; results in order."""
        jobs = list(jobs)
        if len(jobs) <= 1 or self.max_workers == 1:
            return [run_python(p, t, self.limits) for p, t in jobs]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(jobs))) as pool:
            return list(pool.map(lambda job: run_python(job[0], job[1], self.limits), jobs))


__all__ = ["SandboxLimits", "SandboxPool", "SandboxResult", "namespaces_available", "run_python"]
