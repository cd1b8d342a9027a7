"""How many CPU threads torch trains with: one decision per process, and why.

torch's default (one thread per core) is the worst choice on a shared or busy
machine: its spinning workers fight each other and the window for the same
cores, and a small CNN then trains several times slower than on one thread.
So:

* the app keeps one core for the window (:func:`for_the_app`);
* the CLI uses what was measured fastest on this machine (:func:`for_the_cli`):
  a short, bounded probe over a few candidate counts, run once and remembered
  in ``$LOOM_HOME/threads.json`` keyed by CPU model, core count and torch
  version, so later runs start at once; fewer when other programs hold
  cores right now (:mod:`engine.cpu_load`); ``--threads N`` overrides it and
  ``OMP_NUM_THREADS`` is respected;
* distributed CPU ranks divide the cores among themselves
  (engine.distributed.rank_run).

:func:`apply` sets the count and remembers the choice, which the training loop
records in run.json and the log.  This module imports torch only when it acts,
so the idle app can import it.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine import cpu_load

THREADS_FILE = "threads.json"
PROBE_ROUNDS = 3  # candidates are measured interleaved, this many times each (median kept)
PROBE_SECONDS = 0.1  # each measurement's rough length: the whole probe stays within a few seconds


@dataclass(frozen=True)
class ThreadChoice:
    """A thread count and the reason it was chosen (both go to run.json and the log)."""

    threads: int
    reason: str
    oversubscribed: bool = False  # more threads than cores, as asked with --threads (the CLI warns)


_current: ThreadChoice | None = None


@contextlib.contextmanager
def one_intraop_thread() -> Iterator[None]:
    """Torch's intra-op threads at 1 for a block of small ops, then given back.

    Small work (a token at a time, a tiny conv net's quality check) runs fastest on one thread; on a
    busy machine (more runnable threads than cores) several wait on each other, 5-20x slower.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def cores() -> int:
    """The cores this process may use (its CPU affinity where the OS says, else all)."""
    with contextlib.suppress(AttributeError, OSError):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def candidates(n_cores: int) -> list[int]:
    """The counts worth trying: 1, 2, half and all of the cores."""
    return sorted({c for c in (1, 2, n_cores // 2, n_cores) if 1 <= c <= n_cores})


def _omp_threads() -> int | None:
    with contextlib.suppress(ValueError):
        value = int(os.environ.get("OMP_NUM_THREADS", ""))
        return value if value >= 1 else None
    return None


def for_the_app(n_cores: int | None = None) -> ThreadChoice:
    """The window's share: every core but one (so redraws never wait on torch's workers), OMP_NUM_THREADS at most."""
    n = cores() if n_cores is None else n_cores
    omp = _omp_threads()
    if omp is not None and omp < n - 1:
        return ThreadChoice(omp, "OMP_NUM_THREADS")
    return ThreadChoice(max(1, n - 1), f"cores - 1 ({n} cores): one core left for the window")


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    import platform

    return platform.processor() or platform.machine() or "unknown cpu"


def machine_key(n_cores: int | None = None) -> str:
    """What a remembered measurement is valid for: the same CPU, core count and torch."""
    import torch

    return f"{cpu_model()} | {cores() if n_cores is None else n_cores} cores | torch {torch.__version__}"


def probe(measure: Callable[[int], float], counts: list[int], rounds: int = PROBE_ROUNDS) -> dict[int, float]:
    """Median seconds per unit of work for each count; the counts alternate so a passing load hits all alike."""
    times: dict[int, list[float]] = {n: [] for n in counts}
    for r in range(rounds):
        order = counts if r % 2 == 0 else list(reversed(counts))
        for n in order:
            times[n].append(measure(n))
    return {n: statistics.median(ts) for n, ts in times.items()}


def probe_on_own_thread(measure: Callable[[int], float], counts: list[int]) -> dict[int, float]:
    """:func:`probe` on a thread of its own that ends with it.

    Run on the CLI's main thread, the probe left that thread's OpenMP worker
    team behind, and every run after it trained about 3x slower per epoch
    (the digits CNN: 0.45-0.47 s against 0.14-0.16 s an epoch, on 2 cores).
    A team belongs to the thread that started it and goes when that
    thread ends, so the probe's thread takes its team away with it.
    """
    out: dict[str, dict[int, float] | BaseException] = {}

    def work() -> None:
        try:
            out["timings"] = probe(measure, counts)
        except BaseException as exc:  # handed back to the caller below
            out["error"] = exc

    thread = threading.Thread(target=work, name="loom-thread-probe")
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["timings"]  # type: ignore[return-value]


def fastest(timings: dict[int, float]) -> int:
    """The count with the least time; a tie (within 3 %) goes to fewer threads (kinder to the machine)."""
    best = min(timings.values())
    return min(n for n, t in timings.items() if t <= best * 1.03)


def measure_training_work(threads: int) -> float:
    """Seconds per unit of a small training-like workload (conv + matmul, forward and backward) at ``threads``.

    Bounded: a fixed number of repetitions sized to take about PROBE_SECONDS on one thread of a
    modern CPU; what matters is the comparison between counts, not the absolute figure.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(32, 16, 16, 16, generator=gen)
        w = torch.randn(32, 16, 3, 3, generator=gen, requires_grad=True)
        a = torch.randn(256, 256, generator=gen)
        b = torch.randn(256, 256, generator=gen, requires_grad=True)

        def unit() -> None:
            y = torch.nn.functional.conv2d(x, w, padding=1).relu().sum() + (a @ b).tanh().sum()
            y.backward()

        unit()  # warm the thread pool
        start = time.perf_counter()
        reps = 0
        while reps < 200 and (reps < 3 or time.perf_counter() - start < PROBE_SECONDS):
            unit()
            reps += 1
        return (time.perf_counter() - start) / reps
    finally:
        torch.set_num_threads(previous)


def _read(path: Path) -> dict:
    from engine.fileio import read_json

    try:
        data = read_json(path)
    except Exception:  # noqa: BLE001 - a damaged or missing memory only means measuring again
        return {}
    return data if isinstance(data, dict) else {}


def remembered(home: Path, key: str) -> int | None:
    entry = _read(home / THREADS_FILE).get(key)
    if isinstance(entry, dict) and isinstance(entry.get("threads"), int) and entry["threads"] >= 1:
        return int(entry["threads"])
    return None


def remember(home: Path, key: str, threads: int, timings: dict[int, float]) -> None:
    """Keep the measurement (atomically; other machines' entries stay). A write that fails costs a re-probe."""
    from engine.fileio import atomic_write_json

    data = _read(home / THREADS_FILE)
    data[key] = {"threads": threads, "seconds_per_unit": {str(n): round(t, 6) for n, t in timings.items()},
                 "measured": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with contextlib.suppress(OSError):
        home.mkdir(parents=True, exist_ok=True)
        atomic_write_json(home / THREADS_FILE, data)


def for_the_cli(requested: int | None, home: Path, measure: Callable[[int], float] | None = None,
                n_cores: int | None = None, busy: Callable[[], float | None] | None = None) -> ThreadChoice | None:
    """The CLI's count: ``--threads``, else OMP_NUM_THREADS (None: leave torch as it is), else the fastest.

    The fastest is measured once per machine and remembered, then fitted to
    the moment: cores that other programs are busy with right now are left
    to them (:mod:`engine.cpu_load`, read around the torch import).
    ``measure`` (seconds per unit of work at a count) and ``busy`` (cores
    busy elsewhere) are injectable so tests never time anything.
    """
    n = cores() if n_cores is None else n_cores
    if requested is not None:
        over = requested > n
        note = f", more than this machine's {n} cores: the threads take turns on them, which is usually slower " \
               f"than {n}" if over else ""
        return ThreadChoice(max(1, requested), f"--threads {requested}{note}", over)
    if _omp_threads() is not None:
        return None
    counts = candidates(n)
    if len(counts) == 1:
        return ThreadChoice(counts[0], "the only core")
    window = cpu_load.sample() if busy is None else None
    key = machine_key(n)  # imports torch: about a second in which to see what else the cores are doing
    elsewhere = busy() if busy is not None else cpu_load.busy_elsewhere(window, cpu_load.sample())
    known = remembered(home, key)
    if known is not None and known <= n:
        choice = ThreadChoice(known, f"measured fastest on this machine earlier ({home / THREADS_FILE})")
    elif cpu_load.fit_threads(n, n, elsewhere) < n:  # a probe now would measure the other programs: later
        left = cpu_load.fit_threads(n, n, elsewhere)
        return ThreadChoice(left, f"other programs keep {elsewhere:.1f} of the {n} cores busy right now, so {left} "
                                  "(the fastest count is measured on a quieter start)")
    else:
        timings = probe_on_own_thread(measure or measure_training_work, counts)
        best = fastest(timings)
        remember(home, key, best, timings)
        shown = ", ".join(f"{c}: {t * 1000:.1f} ms" for c, t in sorted(timings.items()))
        choice = ThreadChoice(best, f"measured fastest on this machine just now ({shown}; kept in {home / THREADS_FILE})")
    fitted = cpu_load.fit_threads(choice.threads, n, elsewhere)
    if fitted < choice.threads:
        return ThreadChoice(fitted, f"{choice.threads} {choice.reason}, but other programs keep {elsewhere:.1f} of "
                                    f"the {n} cores busy right now, so {fitted}")
    return choice


def apply(choice: ThreadChoice) -> None:
    """Set torch's intra-op threads and remember why (for run.json)."""
    global _current
    import torch

    torch.set_num_threads(choice.threads)
    _current = choice


def current() -> ThreadChoice:
    """The choice this process made, or torch's own setting when none was made here."""
    import torch

    n = torch.get_num_threads()
    if _current is not None and _current.threads == n:
        return _current
    why = "OMP_NUM_THREADS" if os.environ.get("OMP_NUM_THREADS") else "torch's setting"
    return ThreadChoice(n, why)
