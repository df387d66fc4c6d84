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

from polyfunc_numpy.kernels import make_kernels


def make_dask_kernels(backend: Any) -> dict[str, Callable]:
    """The kernel table of the Dask backend ``backend``."""
    import dask.array as da

    host = make_kernels(backend, np)     # NumPy's own kernels, run per block by map_blocks/apply_gufunc
    kernels = make_kernels(backend, da)

    def per_block(name: str) -> Callable:
        """An elementwise kernel that dask lacks: the NumPy kernel on every block."""
        fn = host[name]

        def kernel(x):
            x = da.asarray(x)
            out_dtype = fn(np.zeros((1,), dtype=x.dtype)).dtype
            return da.map_blocks(fn, x, dtype=out_dtype)
        return kernel

    def on_core(fn: Callable, signature: str, n_out: int = 1, axis: int | None = None) -> Callable:
        """A kernel over core axes (a matrix, a sorted axis): the core axes become one chunk and
        the NumPy function runs once per block of the other (batch) axes, which keep their chunks."""
        def kernel(*xs):
            xs = [da.asarray(x) for x in xs]
            dtype = np.result_type(*[x.dtype for x in xs])    # linear algebra keeps its float dtype
            dtypes = [dtype] * n_out if n_out > 1 else dtype
            kw = {} if axis is None else {"axis": axis}
            out = da.apply_gufunc(fn, signature, *xs, output_dtypes=dtypes, allow_rechunk=True, **kw)
            return list(out) if n_out > 1 else out
        return kernel

    def dot_general(x, y, *, dimension_numbers):
        # one einsum: batch axes stay blockwise, contracted chunked axes become a tree sum,
        # and no reshape merges a chunked batch axis with another axis
        (lc, rc), (lb, rb) = dimension_numbers
        letters = iter(string.ascii_letters)
        xs, ys = [""] * x.ndim, [""] * y.ndim
        for i, j in list(zip(lb, rb)) + list(zip(lc, rc)):
            xs[i] = ys[j] = next(letters)
        for subs in (xs, ys):
            for i, s in enumerate(subs):
                if not s:
                    subs[i] = next(letters)
        xf = [xs[i] for i in range(x.ndim) if i not in lb and i not in lc]
        yf = [ys[j] for j in range(y.ndim) if j not in rb and j not in rc]
        out = "".join([xs[i] for i in lb] + xf + yf)
        dtype = np.result_type(x.dtype, y.dtype)
        return da.einsum(f"{''.join(xs)},{''.join(ys)}->{out}", x, y, dtype=dtype)

    def broadcast_in_dim(x, *, shape, broadcast_dimensions):
        x = da.asarray(x)
        src = tuple(x.shape[broadcast_dimensions.index(i)] if i in broadcast_dimensions else 1
                    for i in range(len(shape)))
        x = x.reshape(src)
        new = backend.chunks_for(shape)
        chunks = tuple(c if s == 1 and n != 1 else old for c, s, n, old in zip(new, src, shape, x.chunks))
        return da.broadcast_to(x, shape, chunks=chunks)

    def full_like(like, *, fill_value, shape, dtype):
        return da.full(shape, fill_value, dtype=dtype, chunks=backend.chunks_for(shape))

    def iota(*, dtype, shape, dimension):
        n = shape[dimension]
        shp = [1] * len(shape)
        shp[dimension] = n
        line = da.arange(n, dtype=dtype, chunks=backend.chunks_for((n,))).reshape(shp)
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
                x = da.pad(x, widths, mode="constant", constant_values=padding_value)
        return x

    def gather(x, idx, *, axis):
        # np.take per block of the indices, over the whole indexed axis: the index's chunks
        # (a chunked batch of indices) and x's other axes stay as they are
        idx = da.asarray(idx)
        k = idx.ndim
        letters = iter(string.ascii_letters)
        xi = [next(letters) for _ in range(x.ndim)]
        ii = [next(letters) for _ in range(k)]
        out_ind = xi[:axis] + ii + xi[axis + 1:]
        x = x.rechunk({axis: -1})

        def take(xb, ib):
            return np.take(xb, ib, axis=axis)
        return da.blockwise(take, "".join(out_ind), x, "".join(xi), idx, "".join(ii), dtype=x.dtype,
                            concatenate=True)

    def scatter_add(x, idx, upd, *, axis):
        # the sum of updates landing on each position, as a product with the one-hot of the
        # indices: an einsum, so chunks of indices and updates reduce as a tree, with no writes
        n = x.shape[axis]
        idx = da.asarray(idx)
        idx = da.where(idx < 0, idx + n, idx)
        positions = da.arange(n, chunks=(x.chunks[axis],))
        onehot = (idx[..., None] == positions).astype(upd.dtype)
        k = idx.ndim
        letters = iter(string.ascii_letters)
        pre = "".join(next(letters) for _ in range(axis))
        ind = "".join(next(letters) for _ in range(k))
        post = "".join(next(letters) for _ in range(upd.ndim - axis - k))
        target = next(letters)
        added = da.einsum(f"{pre}{ind}{post},{ind}{target}->{pre}{target}{post}", upd, onehot, dtype=upd.dtype)
        return (x + added).astype(x.dtype)

    def normal(*, shape, dtype):
        floats = dtype if np.dtype(dtype) in (np.float32, np.float64) else np.float64
        return backend.rng.standard_normal(size=shape, dtype=floats,
                                           chunks=backend.chunks_for(shape)).astype(dtype, copy=False)

    def uniform(*, shape, dtype):
        floats = dtype if np.dtype(dtype) in (np.float32, np.float64) else np.float64
        return backend.rng.random(size=shape, dtype=floats, chunks=backend.chunks_for(shape)).astype(dtype, copy=False)

    def randint(*, shape, low, high, dtype):
        return backend.rng.integers(low, high, size=shape, dtype=dtype, chunks=backend.chunks_for(shape))

    def argsort(x, *, axis, descending, index_dtype):
        def sort_last(b):
            return host["argsort"](b, axis=-1, descending=descending, index_dtype=index_dtype)
        return da.apply_gufunc(sort_last, "(n)->(n)", x, axis=axis, output_dtypes=np.dtype(index_dtype),
                               allow_rechunk=True)

    def integer_pow(x, *, y):
        if y < 0 and x.dtype.kind in "iu":
            raise ValueError("integer_pow: integers to negative integer powers are not allowed")
        return da.power(x, y) if y >= 0 else da.power(x, float(y)).astype(x.dtype)

    kernels.update({
        "dot_general": dot_general, "broadcast_in_dim": broadcast_in_dim, "full_like": full_like,
        "iota": iota, "eye": eye, "pad": pad, "gather": gather, "scatter_add": scatter_add,
        "random_normal": normal, "random_uniform": uniform, "random_randint": randint,
        "argsort": argsort, "integer_pow": integer_pow,
        "erf": per_block("erf"), "erfc": per_block("erfc"),
        "solve": on_core(np.linalg.solve, "(n,n),(n,k)->(n,k)"),
        "det": on_core(np.linalg.det, "(n,n)->()"),
        "slogdet": on_core(np.linalg.slogdet, "(n,n)->(),()", n_out=2),
        "cholesky": on_core(np.linalg.cholesky, "(n,n)->(n,n)"),
        "convert_element_type": lambda x, *, new_dtype: da.asarray(x).astype(new_dtype),
    })
    return kernels
