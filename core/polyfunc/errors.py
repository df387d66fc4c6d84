"""Exceptions.  Every message names what was wrong and how to fix it."""

__all__ = ["PolyfuncError", "BackendError", "MissingKernelError", "TransformError", "EscapedTracerError",
           "ConcretizationError", "ShapeError", "DTypeError", "MissingBatchRuleError", "KernelError"]


class PolyfuncError(Exception):
    """Base class of every error polyfunc raises on purpose."""


class BackendError(PolyfuncError, ValueError):
    """An unknown, unavailable or mixed backend."""


class MissingKernelError(PolyfuncError, NotImplementedError):
    """The active backend has no kernel for a primitive."""


class TransformError(PolyfuncError, ValueError):
    """Bad arguments to a transform (argnums, in_dims, has_aux, ...)."""


class EscapedTracerError(PolyfuncError, RuntimeError):
    """A traced value was used after the transform that made it returned."""


class ConcretizationError(PolyfuncError, TypeError):
    """Python control flow needed a concrete value but got a traced one."""


class ShapeError(PolyfuncError, ValueError):
    """Shapes that do not fit together."""


class DTypeError(PolyfuncError, TypeError):
    """A dtype that is not supported or does not fit."""


class MissingBatchRuleError(PolyfuncError, NotImplementedError):
    """vmap met a primitive without a batching rule while the loop fallback is off."""


class KernelError(BackendError):
    """A backend's kernel broke its contract (a result of the wrong library, shape or dtype):
    a fault of the backend plugin, not of the calling code."""
