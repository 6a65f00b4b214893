"""Where and how a training computes: the device, its own random generator, bfloat16, and its CPU threads.

Per-training state only: several trainings share one server process, so nothing here changes a
process-wide setting. Each fit draws from its own ``torch.Generator``, and bfloat16 matrix products are
used where the hardware runs them natively. ``torch.set_num_threads`` would change the thread count of every
thread started afterwards, so each training instead sets the OpenMP thread count of its own worker thread
(an OpenMP setting is per thread). The share is fixed, ``cores // TRAINING_SLOTS`` (at least one) whatever
else runs, so that the same seed gives the same model alone or next to another training (a parallel sum
rounds differently with another thread count), and the trainings the queue runs at once never ask for
more threads than there are cores.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import torch

TRAINING_SLOTS = max(1, int(os.environ.get("SDS_MAX_TRAININGS", "2")))  # trainings a server runs at once


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def training_threads(slots: int = TRAINING_SLOTS) -> int:
    """Threads one training may use when ``slots`` trainings may run at once."""
    return max(1, cores() // max(1, slots))


_OPENMP = None
_OPENMP_LOCK = threading.Lock()


def _openmp():
    """The OpenMP runtime PyTorch uses (None when it cannot be found, e.g. on macOS builds)."""
    global _OPENMP
    with _OPENMP_LOCK:
        if _OPENMP is None:
            _OPENMP = False
            for path in sorted((Path(torch.__file__).parent / "lib").glob("libgomp*.so*")):
                try:
                    _OPENMP = ctypes.CDLL(str(path))
                    break
                except OSError:
                    continue
        return _OPENMP or None


def current_threads() -> int:
    """Threads PyTorch uses for operations run from the calling thread."""
    return torch.get_num_threads()


@contextlib.contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """Run the block with at most ``threads`` PyTorch threads in the calling thread; other threads keep theirs.

    Without an OpenMP runtime to talk to, the block runs with the default rather than touching the
    process-wide setting.
    """
    runtime = _openmp()
    if not threads or runtime is None:
        yield
        return
    before = torch.get_num_threads()  # also makes PyTorch set up this thread before we change it
    runtime.omp_set_num_threads(int(threads))
    try:
        yield
    finally:
        runtime.omp_set_num_threads(before)


@lru_cache(maxsize=None)
def _runtime_at(path: str):
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


def _other_openmp_runtimes() -> list:
    """OpenMP runtimes loaded besides PyTorch's, e.g. the copy scikit-learn ships for its boosted trees."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # comes with scikit-learn; without it only PyTorch's runtime is limited
        return []
    torch_lib = Path(torch.__file__).parent / "lib"
    paths = [lib.filepath for lib in ThreadpoolController().select(user_api="openmp").lib_controllers
             if Path(lib.filepath).parent != torch_lib]
    return [r for r in map(_runtime_at, paths) if r is not None]


@contextlib.contextmanager
def worker_thread_limit(threads: int | None) -> Iterator[None]:
    """``thread_limit`` for every OpenMP runtime in the process (PyTorch's and scikit-learn's), in this thread only.

    For work other than trainings (scoring, exporting) that also runs scikit-learn: OpenMP settings are per
    thread, so other threads, trainings included, keep theirs. BLAS thread pools are process-wide and untouched.
    """
    if not threads:
        yield
        return
    others = _other_openmp_runtimes()
    with thread_limit(threads):
        before = [runtime.omp_get_max_threads() for runtime in others]
        for runtime in others:
            runtime.omp_set_num_threads(int(threads))
        try:
            yield
        finally:
            for runtime, count in zip(others, before):
                runtime.omp_set_num_threads(count)


def pick_device() -> torch.device:
    """A GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seeded_generator(seed: int, device: torch.device) -> torch.Generator:
    """A random generator of its own for one fit or one draw, on ``device``."""
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed) % 2**63)
    return generator


def uniform(shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Uniform draws from ``generator`` (on its own device), placed on ``device``."""
    return torch.rand(shape, generator=generator, device=generator.device).to(device)


@lru_cache(maxsize=None)
def fast_bfloat16(device_type: str) -> bool:
    """Whether bfloat16 matrix products run natively (and so about 3x faster) on this device."""
    if device_type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="ignore")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def autocast(device: torch.device, enabled: bool = True):
    """Matrix products in bfloat16 inside the block where the hardware is fast at it; a no-op elsewhere."""
    use = enabled and fast_bfloat16(device.type)
    if not use:
        return contextlib.nullcontext()
    # PyTorch's cache of bfloat16 weight copies outlives optimizer steps inside one autocast block, and with
    # it a GAN trained next to another gave other rows than one trained alone (9 of 16 runs): whether a
    # training used stale copies depended on the other thread. Casting afresh is cheap and reproducible.
    return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=False)
