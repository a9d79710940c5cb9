"""The program the sandbox child runs before any untrusted code (``python -I -c BOOTSTRAP``).

It is shipped to the child as source text (:data:`BOOTSTRAP`), never imported there, so the child
does not import ``aligntune_rewards``. In order, it:

1. reads a random nonce and its settings (marshal) from stdin, then closes stdin;
2. sets resource limits: CPU seconds, address space, file size, open files, no core dumps, processes;
3. removes process-spawning and signalling entry points that have no audit event
   (``os.fork``, ``os.pidfd_open``, ``signal.pidfd_send_signal``, ``_posixsubprocess.fork_exec``, ...),
   also from ``posix``/``_signal``, so that ``importlib.reload(os)`` cannot bring them back. A determined attacker with deeper introspection may
   still get at them; the PID namespace (when ``unshare`` works) is what keeps other processes out of
   reach for certain;
4. installs an audit hook (which cannot be removed) that refuses: spawning processes, signals to other
   processes, sockets, ctypes, changing resource limits, writing/removing/renaming anything outside the
   sandbox directory, and reading outside the sandbox directory and Python's own installation;
5. runs the program, then each test, in one namespace, counting the tests that pass;
6. writes ``NONCE PASSED TOTAL`` to the result file descriptor. A run that exits early (``sys.exit``
   inside the program is caught; ``os._exit`` is not) writes nothing and so counts as a failure.
"""

BOOTSTRAP = r'''
def _aligntune_boot():
    import sys, os, marshal, resource, signal, builtins
    data = sys.stdin.buffer.read()
    nonce, settings = data[:32].decode(), marshal.loads(data[32:])
    del data
    sys.stdin.close()
    sys.stdin = open(os.devnull)
    result_fd = settings["result_fd"]
    lim = settings["limits"]
    def setlim(kind, value):
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass
    cpu = lim["cpu_seconds"]
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    except (ValueError, OSError):
        pass
    setlim(resource.RLIMIT_AS, lim["memory_bytes"])
    setlim(resource.RLIMIT_FSIZE, lim["file_bytes"])
    setlim(resource.RLIMIT_CORE, 0)
    setlim(resource.RLIMIT_NOFILE, 64)
    setlim(resource.RLIMIT_NPROC, 1)
    sys.path.extend(settings["paths"])
    sandbox = os.path.realpath(os.getcwd())
    read_ok = [sandbox] + sorted({os.path.realpath(p) for p in sys.path if p} |
                                 {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
    read_ok += ["/usr/share", "/usr/lib", "/etc/localtime", "/dev/null", "/dev/zero", "/dev/urandom"]
    write_ok = [sandbox, "/dev/null"]
    def under(path, roots):
        if isinstance(path, int):
            return True
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots)
    blocked = {
        "os.system", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen",
        "os.kill", "os.killpg", "signal.pthread_kill", "socket.__new__", "socket.connect", "socket.bind",
        "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto", "resource.setrlimit", "resource.prlimit",
        "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "ctypes.call_function", "ctypes.addressof",
        "os.setuid", "os.setgid", "os.chroot", "os.setsid", "os.setpgid", "sys._current_frames",
        "mmap.__new__", "os.startfile", "webbrowser.open", "pty.spawn",
    }
    blocked_imports = {"ctypes", "_ctypes", "_posixsubprocess", "multiprocessing", "_multiprocessing",
                       "socket", "_socket", "ssl", "_ssl", "pty", "mmap", "cffi", "_xxsubinterpreters",
                       "_testcapi", "_testinternalcapi", "faulthandler"}
    path_events = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.chmod": 1, "os.chown": 1,
                   "os.truncate": 1, "os.utime": 1, "shutil.rmtree": 1, "os.rename": 2, "os.link": 2,
                   "os.symlink": 2, "shutil.copyfile": 2, "shutil.move": 2, "os.chflags": 1, "os.setxattr": 1,
                   "os.removexattr": 1, "os.mkfifo": 1, "os.mknod": 1}
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    def hook(event, args):
        if event in blocked:
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "import" and args and str(args[0]).split(".")[0] in blocked_imports:
            raise PermissionError(f"sandbox: importing {args[0]} is not allowed")
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            if path is None:
                return
            writing = bool(mode and any(c in str(mode) for c in "wax+")) or bool(
                isinstance(flags, int) and flags & write_flags)
            if not under(path, write_ok if writing else read_ok):
                raise PermissionError(f"sandbox: {'writing' if writing else 'reading'} {path!r} is not allowed")
            return
        count = path_events.get(event)
        if count:
            for path in args[:count]:
                if path is not None and not under(path, [sandbox]):
                    raise PermissionError(f"sandbox: {event} outside the sandbox directory is not allowed")
    for module, names in ((os, ("fork", "forkpty", "pidfd_open", "setsid", "setpgid", "setpgrp", "register_at_fork",
                                 "posix_spawn", "posix_spawnp", "kill", "killpg", "system", "popen")),
                          (signal, ("pidfd_send_signal", "pthread_kill")),
                          (sys.modules.get("posix"), ("fork", "forkpty", "pidfd_open", "kill", "killpg", "setsid",
                                                      "posix_spawn", "posix_spawnp", "system")),
                          (sys.modules.get("_signal"), ("pidfd_send_signal", "pthread_kill"))):
        for name in names:
            if module is not None and hasattr(module, name):
                delattr(module, name)
    for name in list(sys.modules):
        if name.split(".")[0] in blocked_imports:
            del sys.modules[name]
    sys.addaudithook(hook)
    out = os.write
    program, tests = settings["program"], settings["tests"]
    del settings
    sys.argv = ["solution.py"]
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    run, comp, err = exec, compile, sys.stderr
    def fmt(exc):
        try:
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}: " if tb is not None else ""
            err.write(f"{where}{type(exc).__name__}: {exc}\n"[:2000])
        except BaseException:
            pass
    loaded = True
    try:
        run(comp(program, "solution.py", "exec"), namespace)
    except BaseException as exc:
        loaded = False
        fmt(exc)
    passed = 0
    if loaded:
        for index, test in enumerate(tests):
            try:
                run(comp(test, f"test_{index}.py", "exec"), namespace)
                passed += 1
            except BaseException as exc:
                fmt(exc)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    out(result_fd, f"{nonce} {int(loaded)} {passed} {len(tests)}\n".encode())
_aligntune_boot()
'''
