"""Give freed heap memory back to the operating system between the check's stages.

The stages allocate and free hundreds of megabytes of numpy temporaries. glibc
keeps freed chunks of its main heap (below its mmap threshold, which it raises
as large blocks are freed) for reuse, so the process's resident size keeps the
high-water mark of every earlier stage; `malloc_trim` returns those pages.
Elsewhere (another C library, no ctypes) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Return the heap's free pages to the system (glibc's malloc_trim), if possible."""
    trim = _trim()
    if trim is not None:
        trim(0)
