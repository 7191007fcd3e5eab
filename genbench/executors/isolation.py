"""One isolation layer for every executor: a function run in its own child process.

:class:`IsolatedProcess` runs ``target(*args)`` in a fresh process forked from a warm
``forkserver`` (numpy and genbench already imported; no threads inherited from the parent —
forking a process where torch or jax started threads can deadlock) and watches it:

- a hard **timeout** (SIGKILL);
- a **memory cap** on the resident memory the child (with its children) adds above its own
  start (the preloaded libraries do not count), checked every 0.1 s and once more at the end;
  without a cap the growth is still sampled (every 0.5 s), so that a child the kernel's
  **OOM killer** ends is said to be that — its SIGKILL came while the machine's OOM-kill count
  (``/proc/vmstat``) rose — with the most memory it was seen to hold;
- a **process-group kill**: the child makes its own group, so it and everything it started die
  together, also when it crashed or the run's process is killed (the kernel's parent-death
  signal and a watcher thread);
- **captured output**: the child's stdout and stderr (file descriptors 1 and 2, so C libraries
  and subprocesses too) go to a file under ``cache_dir()/logs``; the parent keeps the last
  :data:`~genbench.results.schema.LOG_TAIL_BYTES` and the total size and removes the file (the next run
  removes those of a run that was killed);
- a **GPU-safe environment** (:func:`worker_environment`): jax allocates on demand, its
  persistent compilation cache is on, and ``device="cpu"`` hides every GPU.

The local executor drives many of them at once (non-blocking :meth:`IsolatedProcess.poll`), a
Dask worker starts one per task and polls it (:mod:`genbench.executors.dask`), and ``genbench
test`` runs one and waits (:func:`run_isolated`). Nothing here knows about cells;
:mod:`genbench.executors.base` turns an :class:`Outcome` into a result row.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import resource
import signal
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from ..config import DEVICE_ENV, MAIN_ENV, UNSET_ENV, cache_dir, check_device
from ..results.schema import LOG_TAIL_BYTES

__all__ = [
    "IsolatedProcess",
    "Outcome",
    "added_peak_mb",
    "context",
    "forkserver_env",
    "run_isolated",
    "worker_environment",
]

#: Held while a child starts: the forkserver reads os.environ, which only one thread may change.
_ENV_LOCK = threading.Lock()
#: Captured output of running cells: ``<pid of the run>-<random>.log`` under :func:`cache_dir`.
_LOG_DIR = "logs"

# Workers re-import the main module (the `genbench` script), so preload the CLI as well; the main
# module itself is imported once in the forkserver by genbench.executors.preload (see MAIN_ENV).
_PRELOAD = ["numpy", "genbench.executors.preload", "genbench.cli"]

#: Seconds between two memory checks of a capped process (each walks its process tree).
_MEM_CHECK_S = 0.1
#: Seconds between two looks at an uncapped process's memory (the peak an OOM-killed cell reached).
_PEAK_CHECK_S = 0.5
#: The kernel's event counters; ``oom_kill`` counts every OOM kill, a cgroup's limit included (Linux ≥ 4.13).
_VMSTAT = "/proc/vmstat"

#: Resident memory of this process when it started as an isolated child, in MB (0 in a parent).
_BASELINE_MB = 0.0


def worker_environment(device: str = "auto", threads: int = 1) -> dict[str, str]:
    """Environment variables of a worker (also set in the forkserver before it imports jax).

    jax preallocates 75 % of a GPU per process at its first use, so ``-j N`` workers ran out of
    device memory: allocation on demand instead. jax's persistent compilation cache lives
    under :func:`cache_dir`, so a jit compile is paid once per machine, not once per cell.
    ``device="cpu"`` hides the GPUs from CUDA (torch and jax) before anything initialises it;
    ``"cuda"`` makes jax use its CUDA backend (an error in the cell where there is none) and keeps
    its CPU device for host work (the closure datasets' sequential integrators);
    ``"auto"`` leaves the choice to each library. A variable the user has set is left alone.
    """
    check_device(device)
    env = {
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "JAX_COMPILATION_CACHE_DIR": str(cache_dir() / "jax"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True",
    }
    if device == "cpu":
        env.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    elif device == "cuda":
        env["JAX_PLATFORMS"] = "cuda,cpu"  # the first is jax's default device
    env = {k: v for k, v in env.items() if k not in os.environ}
    # What this device must not inherit from a forkserver that an earlier run started (the user's own
    # settings are in os.environ and stay).
    env[UNSET_ENV] = ",".join(
        v for v in ("CUDA_VISIBLE_DEVICES", "JAX_PLATFORMS") if v not in env and v not in os.environ
    )
    env.update({var: str(threads) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    env[DEVICE_ENV] = device
    return env


# The parent's console script (MAIN_ENV) is imported once by the forkserver (genbench.executors.preload)
# so that its children skip importing it again: multiprocessing's own "__main__" preload never receives
# the path (CPython's forkserver asks for a key `get_preparation_data` does not give). A Dask worker's
# main is the `dask` script, which costs a cell 0.26 s to import in the child and 0.02 s preloaded.
def _main_path() -> str:
    """The console script (``genbench``, ``dask``, ``pytest``) a child would import as the parent's
    main module, for the forkserver to import once; "" otherwise. A user's own script is not
    imported in the forkserver: its top level may start CUDA or threads, which must not happen
    before a fork (each child imports it after the fork, as multiprocessing does)."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:  # run with -m: imported by name
        return ""
    path = getattr(main, "__file__", None)
    if not path:
        return ""
    path = os.path.abspath(path)
    scripts = {os.path.abspath(sysconfig.get_path("scripts")), os.path.dirname(os.path.abspath(sys.executable))}
    return path if os.path.dirname(path) in scripts else ""


def context() -> mp.context.ForkServerContext | mp.context.SpawnContext:
    """The multiprocessing context of every isolated process: forkserver (spawn elsewhere)."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return mp.get_context("spawn")


@contextlib.contextmanager
def forkserver_env(env: dict[str, str]) -> Iterator[None]:
    """Set ``env`` while a process is started (a forkserver started now reads it: the plugin
    dirs, the slow modules to preload, the worker environment), then restore the caller's."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, so that they cannot fall between starting a
    child and recording it (an unrecorded child would not be killed). Python handlers that only
    note the signal stand in for the block (a thread mask would not do: the kernel may deliver the
    signal to a BLAS thread, and Python still raises in the main thread); the noted signal is
    delivered again afterwards. Outside the main thread, where handlers cannot be set, a no-op."""
    noted: list[int] = []
    held = [signal.SIGINT, signal.SIGTERM]
    try:
        previous = {sig: signal.signal(sig, lambda signum, frame: noted.append(signum)) for sig in held}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(noted):
            signal.raise_signal(signum)


# ----------------------------------------------------------------------------- memory


def current_rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def added_peak_mb() -> float:
    """Peak resident memory this isolated process added above its start, in MB: the libraries
    preloaded for the whole run (numpy, and jax or POT when a component asks) do not count."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    return max(0.0, peak_mb - _BASELINE_MB)


def oom_kills() -> int | None:
    """How many processes the kernel's out-of-memory killer has killed since boot (``None``: not
    Linux, or a kernel that does not count them)."""
    try:
        with open(_VMSTAT) as f:
            for line in f:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _tree_rss_mb(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        return 0.0
    return total / 2**20


# ----------------------------------------------------------------------------- the child side


def _set_parent_death_signal() -> None:
    """Linux: have the kernel SIGKILL this process when the process that forked it dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except Exception:
        pass


def _watch_parent(parent_pid: int) -> None:
    """Exit at once if the run's main process goes away (no orphan keeps computing)."""

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, daemon=True, name="genbench-parent-watch").start()


def _isolate() -> None:
    """Its own process group (the parent kills it and everything it started at once), Ctrl-C
    left to the parent, death with the process that forked it."""
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    if hasattr(signal, "pthread_sigmask"):  # whatever mask the forkserver had, signals reach us
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_parent_death_signal()


def _apply_environment(env: dict[str, str]) -> None:
    os.environ.update(env)
    for var in filter(None, env.get(UNSET_ENV, "").split(",")):  # left by an earlier run's forkserver
        os.environ.pop(var, None)
    if "jax" in sys.modules:  # imported by the forkserver, which read JAX_PLATFORMS then: set it again
        with contextlib.suppress(Exception):
            sys.modules["jax"].config.update("jax_platforms", os.environ.get("JAX_PLATFORMS") or None)
    threads = int(env.get("OMP_NUM_THREADS", "0") or 0)
    if threads:
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(threads)  # in force until the process exits (libraries already loaded)
        except Exception:
            pass


def _capture_output(log_path: str) -> None:
    """Send file descriptors 1 and 2 (Python, C libraries, subprocesses) to the log file."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _child_main(
    target: Callable[..., Any], args: tuple, conn, parent_pid: int, log_path: str | None, env: dict[str, str]
) -> None:
    """Entry point of an isolated process: report its baseline memory, run ``target``, send what
    it returned (or the exception it raised), end its process group and exit hard."""
    global _BASELINE_MB
    _isolate()
    if log_path:
        _capture_output(log_path)
    _BASELINE_MB = current_rss_mb()
    try:  # the parent's memory cap counts growth above this, like added_peak_mb()
        conn.send(("baseline", _BASELINE_MB))
    except OSError:
        os._exit(1)
    _watch_parent(parent_pid)
    _apply_environment(env)
    try:
        message: tuple = ("result", target(*args))
    except BaseException as exc:  # the target's own failure: one line for the parent
        message = ("raised", f"{type(exc).__name__}: {exc}".splitlines()[0][:500])
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        conn.send(message)
        conn.close()
    except OSError:  # the run is gone (interrupted): nobody to report to
        os._exit(1)
    if os.getpgid(0) == os.getpid():  # our own group (see _isolate): end what the target started
        os.killpg(0, signal.SIGKILL)  # ... and this process with it
    # Exit now: a thread the plugin left running must not keep this process (and the run) alive.
    os._exit(0)


# ----------------------------------------------------------------------------- the parent side


@dataclass
class Outcome:
    """How an isolated process ended.

    ``state`` is ``"returned"`` (``value`` is what the target returned), ``"raised"`` (the
    target raised; ``message`` says what), ``"timeout"``, ``"memory"`` (over the cap) or
    ``"died"`` (it exited or was killed before reporting) or ``"oom"`` (the kernel's out-of-memory
    killer ended it; ``peak_mem_mb`` is the most it was seen to add).
    """

    state: str
    value: Any = None
    message: str = ""
    wall_s: float = 0.0
    peak_mem_mb: float | None = None
    log_tail: str = ""
    log_bytes: int = 0


def kill_group(pid: int) -> None:
    """SIGKILL the process group of child ``pid`` (the child and what it started)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:  # no such group (nothing left), or not ours
        pass


def kill_tree(pid: int) -> None:
    """SIGKILL child ``pid`` and everything it started: its process group (which reaches
    children whose parent already died) and, for processes that left the group, its live
    descendants."""
    kill_group(pid)
    try:
        import psutil

        proc = psutil.Process(pid)
        victims = [*proc.children(recursive=True), proc]
    except Exception:
        victims = []
    for p in victims:
        with contextlib.suppress(Exception):
            p.kill()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def describe_exit(code: int | None) -> str:
    """Why a child that never reported ended, in words."""
    if code is None:
        return "worker vanished"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker process died ({name}) before reporting a result"
    return f"worker process exited with status {code} before reporting a result"


_swept: set[str] = set()


def _new_log_path() -> str:
    """A fresh log file for one child, in ``cache_dir()/logs``; the first call of a run also
    removes the logs of runs whose process is gone (killed before they could clean up)."""
    root = cache_dir() / _LOG_DIR
    root.mkdir(parents=True, exist_ok=True)
    if str(root) not in _swept:
        _swept.add(str(root))
        for old in root.glob("*.log"):
            pid = old.name.split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    old.unlink()
    fd, path = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".log", dir=root)
    os.close(fd)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_log(path: str | None) -> tuple[str, int]:
    """The last :data:`LOG_TAIL_BYTES` of the log (as text) and its size; removes the file."""
    if not path:
        return "", 0
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - LOG_TAIL_BYTES))
            tail = f.read()
    except OSError:
        return "", 0
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    return tail.decode("utf-8", errors="replace"), size


class IsolatedProcess:
    """``target(*args)`` in its own process, watched until it ends (see the module docstring).

    Call :meth:`start`, then :meth:`poll` whenever one of :attr:`handles` is ready or
    :attr:`due` has passed; it returns the :class:`Outcome` once the process is over (and
    cleans up). :meth:`kill` ends it early. ``target`` and ``args`` must be picklable.
    """

    def __init__(
        self,
        target: Callable[..., Any],
        args: tuple = (),
        *,
        timeout: float,
        max_memory_mb: float | None = None,
        env: dict[str, str] | None = None,
        capture: bool = True,
        name: str = "genbench-worker",
        ctx: mp.context.ForkServerContext | mp.context.SpawnContext | None = None,
    ) -> None:
        self.target, self.args = target, args
        self.timeout, self.cap = float(timeout), max_memory_mb
        self.env = dict(env or {})
        self.capture, self.name = capture, name
        self._ctx = ctx or context()
        self.proc: Any = None
        self.conn: Any = None  # the parent's end of the pipe
        self.started = self.deadline = 0.0
        self.baseline_mb: float | None = None
        self._next_mem_check = float("inf")
        self.peak_added_mb: float | None = None  # the most memory the process was seen to add
        self._oom_before: int | None = None
        self._log_path: str | None = None
        self.outcome: Outcome | None = None

    def start(self) -> IsolatedProcess:
        if self.capture:
            self._log_path = _new_log_path()
        parent_conn, child_conn = self._ctx.Pipe(duplex=False)
        self.conn = parent_conn
        self.proc = self._ctx.Process(
            target=_child_main,
            args=(self.target, self.args, child_conn, os.getpid(), self._log_path, self.env),
            name=self.name[:120],
            daemon=False,
        )
        env = {**self.env, MAIN_ENV: _main_path()}
        try:
            # A (re)started forkserver reads the environment: one process changes it at a time.
            with _ENV_LOCK, _signals_deferred(), forkserver_env(env):
                self.proc.start()
        except BaseException:  # failed to start, or Ctrl-C noted while starting: leave nothing behind
            self.kill()
            raise
        finally:
            child_conn.close()
        self.started = time.monotonic()
        self.deadline = self.started + self.timeout
        self._next_mem_check = self.started
        self._oom_before = oom_kills()
        return self

    @property
    def handles(self) -> list:
        """What :func:`multiprocessing.connection.wait` can wait on for this process."""
        return [self.conn, self.proc.sentinel]

    @property
    def due(self) -> float:
        """The monotonic time by which :meth:`poll` must be called even if nothing is ready."""
        return min(self.deadline, self._next_mem_check)

    def _finish(self, outcome: Outcome, now: float) -> Outcome:
        self.proc.join(timeout=0.5)
        if self.proc.exitcode is None:  # reported, but lingers (or was over a limit): do not wait
            kill_tree(self.proc.pid)
            self.proc.join(timeout=1)
        else:  # what it started is left in its process group
            kill_group(self.proc.pid)
        self.conn.close()
        outcome.wall_s = now - self.started
        outcome.log_tail, outcome.log_bytes = _read_log(self._log_path)
        self.outcome = outcome
        return outcome

    def poll(self, now: float | None = None) -> Outcome | None:
        """The outcome if the process is over (reported, died, timed out, over memory), else ``None``."""
        if self.outcome is not None:
            return self.outcome
        now = time.monotonic() if now is None else now
        alive = self.proc.is_alive()
        while self.conn.poll():  # messages, or end-of-file because the child died
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError):
                self.proc.join(timeout=5)
                alive = False
                break
            if kind == "baseline":  # the started child's resident memory
                self.baseline_mb = float(payload)
                continue
            return self._finish(Outcome("returned" if kind == "result" else "raised", payload, "", 0.0), now)
        if not alive:
            self.proc.join(timeout=1)
            return self._finish(self._died(), now)
        if now >= self.deadline:
            kill_tree(self.proc.pid)
            return self._finish(Outcome("timeout", message=f"killed after the {self.timeout:g} s timeout"), now)
        if self.baseline_mb is not None and now >= self._next_mem_check:
            self._next_mem_check = now + (_PEAK_CHECK_S if self.cap is None else _MEM_CHECK_S)
            added = _tree_rss_mb(self.proc.pid) - self.baseline_mb
            self.peak_added_mb = max(added, self.peak_added_mb or 0.0)
            if self.cap is not None and added > self.cap:
                kill_tree(self.proc.pid)
                msg = (
                    f"killed: the cell's resident memory grew by {added:.0f} MB and "
                    f"exceeded the {self.cap:g} MB cap (--max-memory)"
                )
                return self._finish(Outcome("memory", message=msg, peak_mem_mb=added), now)
        return None

    def _died(self) -> Outcome:
        """The outcome of a process that ended without reporting: an OOM kill when it died of SIGKILL
        (which genbench had not sent) while the kernel's OOM-kill count rose; else how it exited."""
        code = self.proc.exitcode
        after = oom_kills() if code == -signal.SIGKILL and self._oom_before is not None else None
        if after is None or self._oom_before is None or after <= self._oom_before:
            return Outcome("died", message=describe_exit(code), peak_mem_mb=self.peak_added_mb)
        peak = self.peak_added_mb
        seen = "" if peak is None else f"; it was seen holding {peak:.0f} MB above its start"
        message = (
            "killed by the kernel's out-of-memory killer (SIGKILL while the machine's OOM-kill count rose "
            f"{self._oom_before} → {after}){seen}: the machine or its container ran out of memory — "
            "set --max-memory to stop such a cell first, or run fewer cells at once"
        )
        return Outcome("oom", message=message, peak_mem_mb=self.peak_added_mb)

    def wait(self) -> Outcome:
        """Block until the process is over; ``KeyboardInterrupt`` kills it and propagates."""
        try:
            while True:
                wait_any([self])
                outcome = self.poll()
                if outcome is not None:
                    return outcome
        finally:
            self.kill()

    def kill(self) -> None:
        """End the process now (and what it started); its outcome is dropped."""
        if self.outcome is not None:
            return
        if self.proc is not None and self.proc.pid is not None:
            kill_tree(self.proc.pid)
            self.proc.join(timeout=1)
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
        _read_log(self._log_path)


def wait_any(procs: list[IsolatedProcess], poll_interval: float = 0.02) -> None:
    """Block until one of ``procs`` has something to report or is due for a check."""
    if not procs:
        return
    due = min(p.due for p in procs)
    handles = [h for p in procs for h in p.handles]
    wait(handles, timeout=min(max(due - time.monotonic(), 0.0), 0.5) + poll_interval)


def run_isolated(target: Callable[..., Any], args: tuple = (), **kwargs: Any) -> Outcome:
    """Run ``target(*args)`` in an :class:`IsolatedProcess` and wait for its :class:`Outcome`."""
    return IsolatedProcess(target, args, **kwargs).start().wait()
