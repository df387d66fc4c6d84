"""The whole torch map: importing the topic modules fills ``registry.REGISTRY`` (each
registers what it defines with ``@implements``); ``register_all`` hands it to polyfunc."""
from __future__ import annotations

from typing import Any, Callable

from . import (autograd, conversion, creation, elementwise, indexing, inplace, linalg, random, reductions, shapes,
               sorting, variants)
from .nn import (activations, attention, convolution, distances, embedding, losses, normalization,
                 recurrent, resampling)
from .registry import REGISTRY

TOPICS = (elementwise, reductions, sorting, shapes, indexing, linalg, creation, conversion, random, inplace,
          activations, losses, convolution, resampling, normalization, attention, recurrent, embedding,
          distances, variants)


def register_all(register: Callable[[Any, Callable[..., Any]], None]) -> None:
    """``register(torch_object_or_key, polyfunc_callable)`` for every entry of the map (and torch's
    grad mode as the one polyfunc's autodiff transforms follow)."""
    autograd.install()
    for key, fn in REGISTRY.items():
        register(key, fn)
