"""The torch backend object: dtypes, devices, conversion, generators, kernels.

This module imports nothing heavy: torch is imported the first time the
backend is used (``is_available``, ``kernels``, ``aval``, ...), so
``import polyfunc_torch`` and plugin discovery stay fast.
"""
from __future__ import annotations

import sys
from functools import cached_property

from polyfunc.errors import BackendError, DTypeError
from polyfunc.plugin import Backend, ShapedArray, register_native

_PY_SCALARS = (bool, int, float)


def _torch():
    import torch
    return torch


class TorchBackend(Backend):
    """PyTorch tensors on the CPU or a CUDA device.

    The unbound backend (``"torch"``) computes on whatever device its input
    tensors live on and creates new tensors (``iota``, random numbers,
    ``asarray``) on the CPU; ``with_device("cuda:1")`` gives one bound to a
    device (``"torch:cuda:1"``).
    """

    name = "torch"
    native_methods = True     # torch code on a tracer means torch's method semantics

    def native_dtype(self, dtype):
        # a tracer's x.dtype lands here on every torch call that reads it: the common
        # case (a numpy dtype with a torch twin) is one dict lookup
        torch_of = self._torch_of
        if torch_of is None:
            from .dtypes import NP_TO_TORCH
            torch_of = self._torch_of = NP_TO_TORCH
        td = torch_of.get(dtype)
        if td is not None:
            return td
        from .dtypes import to_torch_dtype
        return to_torch_dtype(dtype)

    def native_shape(self, shape):
        return _torch().Size(shape)

    def __init__(self, device: str | None = None, _rng: dict | None = None):
        self.device = device
        # one generator per device, shared by "torch" and its device-bound twins, so
        # seeding through either gives the same stream on a device
        self._rng = _rng if _rng is not None else {"seed": 0, "generators": {}}
        self._bound: dict = {}
        self._np_of = None
        self._torch_of = None

    # ---------------------------------------------------------------- availability
    def is_available(self):
        try:
            import torch  # noqa: F401
        except Exception as e:  # ImportError, or a broken install raising anything else
            return False, f"torch cannot be imported ({type(e).__name__}: {e}); pip install torch"
        return True, ""

    @property
    def version(self):
        try:
            return _torch().__version__
        except Exception:
            return ""

    # ---------------------------------------------------------------- kernels (built lazily)
    # cached_property stores the table in the instance dict on first use, so the
    # eval trace's ``owner.kernels`` is a plain attribute lookup from then on.
    @cached_property
    def kernels(self):
        from .kernels import make_kernels
        _install_torch_map()
        return make_kernels(self)

    @cached_property
    def batch_rules(self):
        from .batching import batch_rules
        return batch_rules

    def multi_device(self) -> bool:
        """Whether tensors here may live on more than one kind of device."""
        torch = _torch()
        if torch.cuda.is_available():
            return True
        mps = getattr(torch.backends, "mps", None)
        return bool(mps is not None and mps.is_available())

    # ---------------------------------------------------------------- arrays
    def array_types(self):
        return (_torch().Tensor,)

    def owns_type(self, cls):
        # no tensor can exist before torch is imported, so never import it here
        torch = sys.modules.get("torch")
        if torch is None:
            return False
        try:
            owns = issubclass(cls, torch.Tensor)
        except TypeError:
            return False
        if owns:
            _install_torch_map()
        return owns

    def aval(self, x):
        np_of = self._np_of
        if np_of is None:
            from .dtypes import TORCH_TO_NP
            np_of = self._np_of = TORCH_TO_NP
        dt = np_of.get(x.dtype)
        if dt is None:
            from .dtypes import np_dtype_of_torch
            np_dtype_of_torch(x.dtype)   # raises a DTypeError naming the dtype
        if x.is_sparse or x.is_nested or x.layout is not _STRIDED:
            _refuse_layout(x)
        return ShapedArray(tuple(x.shape), dt)

    def _target_device(self, like=None):
        if self.device is not None:
            return self.device
        if like is not None:
            return like.device
        return "cpu"

    def asarray(self, obj, dtype=None):
        """A tensor from nested lists, Python scalars, numpy arrays or tensors.

        NumPy's rules pick the dtype of Python values (float64 for floats,
        int64 for ints); ``dtype`` may be a numpy or torch dtype or a string.
        A bound backend puts the tensor on its device.
        """
        import numpy as np
        torch = _torch()
        from .dtypes import NP_TO_TORCH, SUPPORTED_KINDS, TORCH_TO_NP, np_dtype_of_torch, to_torch_dtype
        td = None if dtype is None else to_torch_dtype(dtype)
        if isinstance(obj, torch.Tensor):
            np_dtype_of_torch(obj.dtype)
            if obj.requires_grad:
                obj = obj.detach()
            dev = self._target_device(obj)
            if td is not None and td != obj.dtype:
                return obj.to(device=dev, dtype=td)
            return obj if obj.device == torch.device(dev) else obj.to(dev)
        if isinstance(obj, (list, tuple)) and _has_tensor(obj, torch.Tensor):
            t = torch.stack([self.asarray(o, dtype) for o in obj])
            return t
        try:
            a = np.asarray(obj)
        except Exception as e:
            raise TypeError(f"torch backend: cannot convert {type(obj).__name__} to a tensor ({e})") from None
        if td is torch.bfloat16 or a.dtype.name == "bfloat16":
            # torch cannot read ml_dtypes' bfloat16 arrays: through float32, exactly
            return self.asarray(a.astype(np.float32), np.float32).to(td or torch.bfloat16)
        if dtype is not None:
            a = a.astype(TORCH_TO_NP[td], copy=False)
        if a.dtype.kind not in SUPPORTED_KINDS or a.dtype not in NP_TO_TORCH:
            raise DTypeError(f"dtype {a.dtype} is not supported by polyfunc's torch backend (use bool, "
                             f"integer, floating or complex arrays)")
        if not a.flags.c_contiguous or not a.flags.writeable:
            a = np.array(a, copy=True, order="C")
        t = torch.from_numpy(a) if a.ndim else torch.as_tensor(a)
        dev = self._target_device()
        return t if dev == "cpu" else t.to(dev)

    def to_numpy(self, x):
        import numpy as np
        torch = _torch()
        if isinstance(x, torch.Tensor):
            if x.requires_grad:
                x = x.detach()
            if x.dtype is torch.bfloat16:   # NumPy's bfloat16 is ml_dtypes'; torch has no .numpy() for it
                from .dtypes import TORCH_TO_NP
                return x.cpu().float().numpy().astype(TORCH_TO_NP[torch.bfloat16])
            return x.cpu().resolve_conj().numpy()
        return np.asarray(x)

    # ---------------------------------------------------------------- random numbers
    def generator(self):
        """The torch.Generator of this backend's device (made on first use)."""
        dev = self.device or "cpu"
        gens = self._rng["generators"]
        g = gens.get(dev)
        if g is None:
            g = _torch().Generator(device=dev)
            g.manual_seed(self._rng["seed"])
            gens[dev] = g
        return g

    def rng_state(self):
        return self.generator().get_state()

    def set_rng_state(self, state):
        self.generator().set_state(state)

    def seed(self, n):
        """Reseed (the generators of every device): the same seed gives the same stream."""
        self._rng["seed"] = int(n)
        for g in self._rng["generators"].values():
            g.manual_seed(self._rng["seed"])

    # ---------------------------------------------------------------- devices
    def devices(self):
        torch = _torch()
        out = ["cpu"]
        if torch.cuda.is_available():
            out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            out.append("mps")
        return out

    def with_device(self, device):
        torch = _torch()
        key = str(device).strip().lower()
        b = self._bound.get(key)
        if b is not None:
            return b
        if key == "gpu":
            key = "cuda"
        try:
            dev = torch.device(key)
        except (RuntimeError, TypeError, ValueError):
            raise BackendError(f"torch backend: {device!r} is not a device name; use one of "
                               f"{self.devices()} (e.g. 'torch:cpu', 'torch:cuda', 'torch:cuda:1').") from None
        if dev.type == "cuda":
            if not torch.cuda.is_available():
                raise BackendError(
                    f"torch backend: device {device!r} was asked for, but CUDA is not available here "
                    f"(torch {torch.__version__}, built with CUDA {torch.version.cuda or 'none'}). "
                    f"Use 'torch' or 'torch:cpu', or run on a machine with a GPU.")
            if dev.index is not None and dev.index >= torch.cuda.device_count():
                raise BackendError(f"torch backend: device {device!r} does not exist; this machine "
                                   f"has {self.devices()}.")
        elif dev.type == "mps":
            mps = getattr(torch.backends, "mps", None)
            if mps is None or not mps.is_available():
                raise BackendError(f"torch backend: device {device!r} is not available here; "
                                   f"available: {self.devices()}.")
        elif dev.type != "cpu":
            raise BackendError(f"torch backend: device type {dev.type!r} is not supported; "
                               f"available: {self.devices()}.")
        b = TorchBackend(device=str(dev), _rng=self._rng)
        b._bound = self._bound
        self._bound[key] = b
        return b

    def synchronize(self):
        torch = sys.modules.get("torch")
        if torch is None:
            return
        if self.device is not None:
            if self.device.startswith("cuda"):
                torch.cuda.synchronize(self.device)
        elif torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()


_map_installed = False


def _install_torch_map() -> None:
    """Install the torch map (``torch_map``) into polyfunc once torch is in use: the hook
    ``polyfunc_native_functions`` could not, when plugins were discovered before torch was
    imported."""
    global _map_installed
    if not _map_installed:
        from .torch_map import register_all
        register_all(register_native)
        _map_installed = True


def _has_tensor(obj, tensor_type) -> bool:
    for o in obj:
        if isinstance(o, tensor_type):
            return True
        if isinstance(o, (list, tuple)) and _has_tensor(o, tensor_type):
            return True
    return False


_STRIDED = _torch().strided if "torch" in sys.modules else None


def _refuse_layout(x) -> None:
    """polyfunc computes on dense strided tensors only: name the layout and the fix."""
    global _STRIDED
    torch = _torch()
    _STRIDED = torch.strided
    if x.layout is torch.strided and not x.is_nested:
        return
    kind = "nested" if x.is_nested else str(x.layout).replace("torch.", "")
    raise BackendError(f"polyfunc's torch backend computes on dense strided tensors; got a {kind} tensor "
                       f"(layout {x.layout}). Convert it first: x.to_dense() for a sparse tensor, "
                       f"x.to_padded_tensor(0) or x.unbind() for a nested one.")
