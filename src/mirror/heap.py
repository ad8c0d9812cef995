"""Hand large freed buffers back to the system at once (glibc), so that peak memory is what is in use.

Example::

    from mirror.heap import return_large_buffers
    return_large_buffers()     # once, before create's passes

`mirror create` allocates many short-lived buffers of one to a few MiB (accounts read, blocks gathered,
the encoders of LZMA2 on several threads). glibc serves such a buffer by mmap at first, but after the first
one is freed it raises its threshold (up to 32 MiB) and serves the next ones from its heaps, one per thread,
which keep freed memory: measured on 20,000 accounts, the peak RSS was 20-25 MB higher than with a fixed
threshold, for the same work and the same time (bench/analysis.md). Setting the threshold fixes it and turns
the raising off. The setting is the whole process's, for good. Elsewhere (musl, macOS) this does nothing.
It has a cost: every such buffer is a new mapping whose pages the system must clear as they are first touched.
Photos alone (a few MB each) spent 1.5-2 s more system time per GB with it than with glibc's own behaviour, for
10-15 MB less at the peak: create serves them from the heap again (`reuse_large_buffers`) once it knows the
collection has little text.
"""

from __future__ import annotations

import _thread
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -2, -3, -8  # glibc's malloc.h
THRESHOLD = 1 << 20
HEAP_MAX = 32 << 20  # glibc's own ceiling for the threshold it raises (DEFAULT_MMAP_THRESHOLD_MAX, 64-bit)
HEAP_KEPT = 16 << 20  # free memory a heap keeps before it gives some back: a few photos' worth
HEAPS = 2  # heaps at most, shared by all threads: each keeps up to HEAP_KEPT
TOP_PAD = 16 << 20  # free memory kept at the top of each heap while reading ahead: the chunks in flight
DEFAULT_TOP_PAD = 128 << 10  # glibc's own (mallopt(3))
_keeping = 0  # read-aheads running that asked for TOP_PAD
_keeping_lock = _thread.allocate_lock()  # `threading` is not loaded for a small verify


def return_large_buffers() -> bool:
    """Serve every allocation of THRESHOLD bytes or more by its own mapping, returned when it is freed.

    Returns whether the C library took the setting (glibc does; others have no such setting).
    """
    return _mallopt(M_MMAP_THRESHOLD, THRESHOLD)


def reuse_large_buffers() -> bool:
    """Serve allocations below HEAP_MAX from the heap again, where a freed buffer is reused at once, and let
    each heap keep up to HEAP_KEPT of free memory (a fixed threshold leaves glibc's 128 KiB: every freed photo
    would be handed back, and its pages cleared again for the next).

    At most HEAPS heaps: glibc gives each new thread a heap of its own (up to eight per core), and each would keep
    what its thread freed. Create's threads (photos examined on two, LZMA2 encoders of 13 MB on two, the page's,
    the read-ahead) left S's peak at 99-101 MB; with two heaps 85-92 MB, in the same time."""
    return (_mallopt(M_MMAP_THRESHOLD, HEAP_MAX) and _mallopt(M_TRIM_THRESHOLD, HEAP_KEPT)
            and _mallopt(M_ARENA_MAX, HEAPS))


def keep_heap_top() -> bool:
    """Keep TOP_PAD bytes of free memory at the top of each heap when memory is freed there, and grow a heap by as
    much beyond what is asked, until the matching `release_heap_top()` (calls nest, from any thread).

    For read_ahead (sevenzip/ahead.py): its thread reads chunks of 1 MiB into new buffers that the caller frees
    once hashed or written. Verify fixes the mmap threshold at 1 MiB from 1,000 members on (return_large_buffers),
    so each chunk was a new mapping, and its pages were cleared again as it was read into: on a 1 GB bundle
    150,000 page faults and 0.3-2 s of system time for verify and extract, against 8,000 with this, for 3-4 MB
    more at the peak (bench/analysis.md). The chunks then come from the free top of the heap (a request is served
    from there before any threshold is looked at).
    """
    global _keeping
    with _keeping_lock:
        _keeping += 1
        return _keeping > 1 or _mallopt(M_TOP_PAD, TOP_PAD)


def release_heap_top() -> bool:
    """The end of a `keep_heap_top()`: when no other is running, glibc's default top pad again, so that memory freed
    at the top of a heap goes back to the system as before, and the main heap's free memory handed back now
    (malloc_trim leaves the top of a thread's heap to its next free there). A room server verifies its bundles
    once, then serves for hours: measured on M, it held 66 MB after the check with this, 69 MB without, and 57 MB
    before read_ahead kept the top at all. Returns whether memory was handed back."""
    global _keeping
    with _keeping_lock:
        _keeping = max(_keeping - 1, 0)
        return _keeping == 0 and _mallopt(M_TOP_PAD, DEFAULT_TOP_PAD) and trim()


def trim() -> bool:
    """Hand the free memory of every heap back to the system now (glibc's malloc_trim): after a phase that
    freed much, so that the next one does not start above a floor of memory no longer in use. Create does,
    between writing a bundle and checking it (measured at 20,000 accounts: 52 -> 36 MB before the check)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (ImportError, OSError, AttributeError):
        return False
    malloc_trim.argtypes = (ctypes.c_size_t,)
    malloc_trim.restype = ctypes.c_int
    return bool(malloc_trim(0))


def _mallopt(param: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt  # the C library this interpreter runs on
    except (ImportError, OSError, AttributeError):  # a Python without ctypes, or a C library without mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(param, value))
