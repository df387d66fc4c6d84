"""Remembering pure functions of hashable parameters (rule plans, kernel axis plans)."""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["remembered"]


def remembered(cache: dict, make: Callable, *key: Any, limit: int = 4096) -> Any:
    """``make(*key)``, remembered in ``cache``; unhashable keys (lists bound directly) are not
    cached, and the cache is cleared when it outgrows ``limit``."""
    try:
        hit = cache.get(key)
    except TypeError:
        return make(*key)
    if hit is None:
        if len(cache) > limit:
            cache.clear()
        hit = cache[key] = make(*key)
    return hit
