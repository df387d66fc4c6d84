"""The whole torch map: importing the topic modules fills ``registry.REGISTRY`` (each
registers what it defines with ``@implements``); ``register_all`` hands it to polyfunc."""
from __future__ import annotations

from typing import Any, Callable

from . import conversion, creation, elementwise, indexing, inplace, linalg, random, reductions, shapes, sorting
from .nn import (activations, attention, convolution, distances, embedding, losses, normalization,
                 recurrent, resampling)
from .registry import REGISTRY

TOPICS = (elementwise, reductions, sorting, shapes, indexing, linalg, creation, conversion, random, inplace,
          activations, losses, convolution, resampling, normalization, attention, recurrent, embedding,
          distances)


def register_all(register: Callable[[Any, Callable[..., Any]], None]) -> None:
    """``register(torch_object_or_key, polyfunc_callable)`` for every entry of the map."""
    for key, fn in REGISTRY.items():
        register(key, fn)
