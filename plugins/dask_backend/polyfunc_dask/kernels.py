"""Kernels over ``dask.array``.

Most come from the NumPy plugin's factory over the ``dask.array`` module, which
mirrors NumPy's API.  The rest are written here because the NumPy form writes
in place (pad, scatter_add, small broadcasts), calls a function dask lacks
(argsort, det, slogdet, erf without SciPy) or one whose dask signature differs
(eye, random numbers), or would gather a chunked axis into one task
(dot_general's reshapes, gather with a multi-axis index).  Every kernel only
adds tasks to the graph; none computes.
"""
from __future__ import annotations

import string
from typing import Any, Callable

import numpy as np

from polyfunc.plugin import ShapedArray, abstract_eval
from polyfunc_numpy.kernels import make_kernels


class _Missing:
    """A name the NumPy factory reads that dask.array lacks; its kernel is replaced below."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:   # pragma: no cover - always replaced
        raise NotImplementedError(f"dask.array has no {self.name}")


class _DaskModule:
    """``dask.array`` as the NumPy kernel factory sees it: dask's names, plus placeholders for the
    few it lacks (those kernels are written in this module instead)."""

    def __init__(self, da: Any, prefix: str = ""):
        self._da, self._prefix = da, prefix
        self.__name__ = da.__name__

    def __getattr__(self, name: str) -> Any:
        if name == "linalg":
            return _DaskModule(self._da.linalg, "linalg.")
        value = getattr(self._da, name, None)
        return _Missing(self._prefix + name) if value is None else value


_host_kernels: dict[str, Callable] = {}


def _host(name: str) -> Callable:
    """The NumPy backend's kernel ``name``, built in the process that runs the task: blocks are
    computed on workers, and a task names its kernel rather than carrying the table's closures."""
    if not _host_kernels:
        _host_kernels.update(make_kernels(None, np))   # no random kernels are used per block
    return _host_kernels[name]


def _on_host(name: str, *blocks: Any, **params: Any) -> Any:
    return _host(name)(*blocks, **params)


def make_dask_kernels(backend: Any) -> dict[str, Callable]:
    """The kernel table of the Dask backend ``backend``."""
    import dask.array as da

    kernels = make_kernels(backend, _DaskModule(da))

    def per_block(name: str) -> Callable:
        """An elementwise kernel that dask lacks: the NumPy kernel on every block."""
        def kernel(x):
            x = da.asarray(x)
            out_dtype = _host(name)(np.zeros((1,), dtype=x.dtype)).dtype
            return da.map_blocks(_on_host, name, x, dtype=out_dtype)
        return kernel

    def gufunc(fn: Callable, signature: str, *xs: Any, output_dtypes: Any) -> Any:
        """``da.apply_gufunc`` with core axes rechunked to one block, for empty operands too: dask
        divides by an empty axis's chunk size there, so an empty call runs ``fn`` on empty host
        arrays at once (nothing to compute, and its result shapes follow NumPy's)."""
        if any(0 in x.shape for x in xs):
            out = fn(*[np.zeros(x.shape, x.dtype) for x in xs])
            return tuple(da.from_array(np.asarray(o)) for o in out) if isinstance(out, tuple) \
                else da.from_array(np.asarray(out))
        return da.apply_gufunc(fn, signature, *xs, output_dtypes=output_dtypes, allow_rechunk=True)

    def on_core(fn: Callable, signature: str, n_out: int = 1, out_dtypes: Callable | None = None) -> Callable:
        """A kernel over core axes (a matrix, a sorted axis): the core axes become one chunk and
        the NumPy function runs once per block of the other (batch) axes, which keep their chunks.
        Results have the operands' dtype, or the list ``out_dtypes(dtype)`` gives."""
        def kernel(*operands):
            xs = [da.asarray(x) for x in operands]
            dtype = np.result_type(*[x.dtype for x in xs])    # linear algebra keeps its float dtype
            dtypes = out_dtypes(dtype) if out_dtypes else [dtype] * n_out if n_out > 1 else dtype
            out = gufunc(fn, signature, *xs, output_dtypes=dtypes)
            return list(out) if n_out > 1 else out
        return kernel

    def in_one_task(name: str) -> Callable:
        """Sliding windows (convolution, pooling) cross chunk borders: until they get an overlap
        (da.map_overlap) form, the NumPy kernel runs once on the whole operands, lazily, as one task
        whose shape comes from abstract evaluation (nothing is computed to learn it)."""
        def kernel(*operands, **params):
            import dask
            xs = [da.asarray(x) for x in operands]
            out = abstract_eval(name, *[ShapedArray(x.shape, x.dtype) for x in xs], **params)
            task = dask.delayed(_on_host, pure=True)(name, *xs, **params)
            return da.from_delayed(task, shape=tuple(out.shape), dtype=out.dtype)
        return kernel

    def dot_general(x, y, *, dimension_numbers):
        # the NumPy kernel on every pair of blocks: batch and free axes stay blockwise (one task per
        # chunk of a vmapped batch), and each chunk of a contracted axis gives a partial product on
        # an extra length-1 axis that sums as a tree (dask's einsum would also rechunk the operands
        # of an outer product into smaller pieces, which multiplies the tasks of per-sample gradients)
        (lc, rc), (lb, rb) = dimension_numbers
        letters = iter(string.ascii_letters)
        xs, ys = [""] * x.ndim, [""] * y.ndim
        for i, j in list(zip(lb, rb)) + list(zip(lc, rc)):
            xs[i] = ys[j] = next(letters)
        for subs in (xs, ys):
            for i, s in enumerate(subs):
                if not s:
                    subs[i] = next(letters)
        contract = [xs[i] for i in lc]
        out = [xs[i] for i in lb] + [xs[i] for i in range(x.ndim) if i not in lb and i not in lc] + \
            [ys[j] for j in range(y.ndim) if j not in rb and j not in rc]
        dtype = np.result_type(x.dtype, y.dtype)
        tail = (1,) * len(contract)

        def block(xb, yb):
            r = _host("dot_general")(xb, yb, dimension_numbers=dimension_numbers)
            return r.reshape(r.shape + tail) if tail else r
        res = da.blockwise(block, "".join(out + contract), x, "".join(xs), y, "".join(ys), dtype=dtype,
                           adjust_chunks=dict.fromkeys(contract, 1))
        if contract:
            res = res.sum(axis=tuple(range(len(out), len(out) + len(contract))), dtype=dtype)
        return res

    def broadcast_in_dim(x, *, shape, broadcast_dimensions):
        x = da.asarray(x)
        src = tuple(x.shape[broadcast_dimensions.index(i)] if i in broadcast_dimensions else 1
                    for i in range(len(shape)))
        x = x.reshape(src)
        # a new axis is chunked as DaskBackend.new_chunks says, the others keep x's; the result
        # is a view per block, so it costs no memory until an operand needs it
        new = backend.new_chunks(shape, x.dtype)
        chunks = tuple(c if s == 1 and n != 1 else old for c, s, n, old in zip(new, src, shape, x.chunks))
        return da.broadcast_to(x, shape, chunks=chunks)

    def full_like(like, *, fill_value, shape, dtype):
        # chunked like the array it stands in for (vmap's offsets over a chunked batch), else automatically
        same = isinstance(like, da.Array) and tuple(like.shape) == tuple(shape)
        return da.full(shape, fill_value, dtype=dtype, chunks=like.chunks if same else backend.new_chunks(shape, dtype))

    def iota(*, dtype, shape, dimension):
        n = shape[dimension]
        shp = [1] * len(shape)
        shp[dimension] = n
        line = da.arange(n, dtype=dtype, chunks=backend.new_chunks((n,), dtype)).reshape(shp)
        return broadcast_in_dim(line, shape=shape, broadcast_dimensions=tuple(range(len(shape))))

    def eye(like, *, shape, offset, dtype):
        return da.eye(shape[0], chunks=max(shape[0], 1), M=shape[1], k=offset, dtype=dtype)

    def pad(x, *, padding_value, padding_config):
        # axis by axis: interior padding interleaves a block of fill after every element
        # (concatenate on a new axis, merge, drop the tail), then the edges, negative ones by slicing
        for axis, (lo, hi, interior) in enumerate(padding_config):
            n = x.shape[axis]
            if interior and n > 1:
                fill = da.full(x.shape[:axis] + (n, interior) + x.shape[axis + 1:], padding_value, dtype=x.dtype,
                               chunks=x.chunks[:axis] + (x.chunks[axis], (interior,)) + x.chunks[axis + 1:])
                y = da.concatenate([da.expand_dims(x, axis + 1), fill], axis=axis + 1)
                y = y.reshape(x.shape[:axis] + (n * (interior + 1),) + x.shape[axis + 1:])
                x = y[(slice(None),) * axis + (slice(0, n + (n - 1) * interior),)]
            cut = slice(max(-lo, 0), x.shape[axis] - max(-hi, 0))
            if lo < 0 or hi < 0:
                x = x[(slice(None),) * axis + (cut,)]
            if lo > 0 or hi > 0:
                widths = [(0, 0)] * x.ndim
                widths[axis] = (max(lo, 0), max(hi, 0))
                if 0 in x.shape:    # nothing but fill (and da.pad divides by an empty axis's chunk)
                    shape = tuple(n + a + b for n, (a, b) in zip(x.shape, widths))
                    x = da.full(shape, padding_value, dtype=x.dtype)
                else:
                    x = da.pad(x, widths, mode="constant", constant_values=padding_value)
        return x

    def gather(x, idx, *, axis):
        idx = da.asarray(idx)
        if len(x.chunks[axis]) > 1:
            # a chunked indexed axis (vmap's generic rule folds a chunked batch into it): dask's own
            # indexing pairs every chunk of x with every chunk of the indices, so no task holds the axis
            flat = idx.reshape(-1) if idx.ndim != 1 else idx
            out = x[(slice(None),) * axis + (flat,)]
            return out.reshape(x.shape[:axis] + idx.shape + x.shape[axis + 1:])
        # np.take per block of the indices over the whole (one-chunk) axis: the index's chunks
        # (a chunked batch of indices) and x's other axes stay as they are
        letters = iter(string.ascii_letters)
        xi = [next(letters) for _ in range(x.ndim)]
        ii = [next(letters) for _ in range(idx.ndim)]
        out_ind = xi[:axis] + ii + xi[axis + 1:]

        def take(xb, ib):
            return np.take(xb, ib, axis=axis)
        return da.blockwise(take, "".join(out_ind), x, "".join(xi), idx, "".join(ii), dtype=x.dtype,
                            concatenate=True)

    def scatter_add(x, idx, upd, *, axis):
        # for every (chunk of indices, chunk of x's axis) pair, np.add.at of the updates that land
        # in that chunk into a zero block; the partial blocks then sum as a tree over index chunks,
        # so no task holds all the updates or the whole axis
        n = x.shape[axis]
        idx = da.asarray(idx)
        k = idx.ndim
        flat = idx.reshape(-1) if k != 1 else idx
        upd = upd.reshape(upd.shape[:axis] + (flat.shape[0],) + upd.shape[axis + k:])
        upd = upd.rechunk(x.chunks[:axis] + (flat.chunks[0],) + x.chunks[axis + 1:])
        positions = da.arange(n, chunks=(x.chunks[axis],))

        def partial(ub, ib, pb):
            out = np.zeros(ub.shape[:axis] + (len(pb),) + ub.shape[axis + 1:] + (1,), dtype=ub.dtype)
            if len(pb):
                at = np.where(ib < 0, ib + n, ib) - pb[0]
                keep = (at >= 0) & (at < len(pb))
                np.add.at(np.moveaxis(out[..., 0], axis, 0), at[keep], np.moveaxis(ub, axis, 0)[keep])
            return out
        letters = iter(string.ascii_letters)
        pre = "".join(next(letters) for _ in range(axis))
        post = "".join(next(letters) for _ in range(x.ndim - axis - 1))
        q, m = next(letters), next(letters)
        parts = da.blockwise(partial, pre + m + post + q, upd, pre + q + post, flat, q, positions, m,
                             dtype=upd.dtype, adjust_chunks={q: 1})
        return (x + parts.sum(axis=-1, dtype=upd.dtype)).astype(x.dtype, copy=False)

    def normal(*, shape, dtype):
        floats = dtype if np.dtype(dtype) in (np.float32, np.float64) else np.float64
        return backend.rng.standard_normal(size=shape, dtype=floats,
                                           chunks=backend.new_chunks(shape, floats)).astype(dtype, copy=False)

    def uniform(*, shape, dtype):
        floats = dtype if np.dtype(dtype) in (np.float32, np.float64) else np.float64
        return backend.rng.random(size=shape, dtype=floats, chunks=backend.new_chunks(shape, floats)).astype(dtype, copy=False)

    def randint(*, shape, low, high, dtype):
        return backend.rng.integers(low, high, size=shape, dtype=dtype, chunks=backend.new_chunks(shape, dtype))

    def argsort(x, *, axis, descending, index_dtype):
        def sort_last(b):
            return _host("argsort")(b, axis=-1, descending=descending, index_dtype=index_dtype)
        if 0 in x.shape:
            return da.zeros(x.shape, dtype=index_dtype)
        return da.apply_gufunc(sort_last, "(n)->(n)", x, axis=axis, output_dtypes=np.dtype(index_dtype),
                               allow_rechunk=True)

    def integer_pow(x, *, y):
        if y < 0 and x.dtype.kind in "iu":
            raise ValueError("integer_pow: integers to negative integer powers are not allowed")
        return da.power(x, y) if y >= 0 else da.power(x, float(y)).astype(x.dtype)

    def extremum(name: str, reduce: Callable) -> Callable:
        """max and min as NumPy has them on empty operands, where dask's reduction would not: no axes
        is the operand itself; an empty reduced axis is NumPy's ValueError, raised now rather than
        at compute; an empty result with nothing empty reduced is an empty array."""
        def kernel(x, *, axes):
            if not axes:
                return x
            if 0 in x.shape:
                if any(x.shape[a] == 0 for a in axes):
                    raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
                return da.zeros(tuple(n for i, n in enumerate(x.shape) if i not in axes), dtype=x.dtype)
            return reduce(x, axis=axes)
        return kernel

    kernels.update({
        "reduce_max": extremum("maximum", da.max), "reduce_min": extremum("minimum", da.min),
        "dot_general": dot_general, "broadcast_in_dim": broadcast_in_dim, "full_like": full_like,
        "iota": iota, "eye": eye, "pad": pad, "gather": gather, "scatter_add": scatter_add,
        "random_normal": normal, "random_uniform": uniform, "random_randint": randint,
        "argsort": argsort, "integer_pow": integer_pow,
        "erf": per_block("erf"), "erfc": per_block("erfc"),
        "solve": on_core(np.linalg.solve, "(n,n),(n,k)->(n,k)"),
        "det": on_core(np.linalg.det, "(n,n)->()"),
        "slogdet": on_core(np.linalg.slogdet, "(n,n)->(),()", n_out=2,
                           out_dtypes=lambda dt: [dt, np.finfo(dt).dtype]),    # log|det| is real
        "cholesky": on_core(np.linalg.cholesky, "(n,n)->(n,n)"),
        "convert_element_type": lambda x, *, new_dtype: da.asarray(x).astype(new_dtype),
        **{name: in_one_task(name) for name in ("conv_general_dilated", "reduce_window_sum", "reduce_window_max",
                                                 "window_select", "window_scatter")},
    })
    return kernels
