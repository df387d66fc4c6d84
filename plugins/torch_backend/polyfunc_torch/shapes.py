"""Shape functions and methods of torch code on traced tensors: views, permutations,
joins and splits, repeats, diagonals."""
from __future__ import annotations

import math

import torch

import polyfunc.numpy as pnp

from .arguments import device_of, dim_kw, kw_shape, ndim, norm_dim, shape
from .registry import implements, tensor_property


@implements(torch.reshape, method="reshape")
def reshape(input, *args, shape=None):
    return pnp.reshape(input, kw_shape("reshape", args, shape, "shape"))


@implements(method="view")
def view(input, *args, size=None, dtype=None):
    if dtype is not None or len(args) == 1 and isinstance(args[0], torch.dtype):
        raise NotImplementedError("x.view(dtype) (reinterpreting the bits) is not supported inside polyfunc "
                                  "transforms; use x.to(dtype)")
    return pnp.reshape(input, kw_shape("view", args, size, "size"))


@implements(method=("view_as", "reshape_as"))
def view_as(input, other):
    return pnp.reshape(input, shape(other))


@implements(torch.flatten, method="flatten")
def flatten(input, start_dim=0, end_dim=-1):
    s = shape(input)
    if not s:
        return pnp.reshape(input, (1,))
    a, b = norm_dim(start_dim, len(s)), norm_dim(end_dim, len(s))
    return pnp.reshape(input, s[:a] + (math.prod(s[a:b + 1]),) + s[b + 1:])


@implements(torch.unflatten, method="unflatten")
def unflatten(input, dim, sizes):
    s = shape(input)
    d = norm_dim(dim, len(s))
    sizes = tuple(sizes)
    if -1 in sizes:
        known = math.prod(k for k in sizes if k != -1)
        sizes = tuple(s[d] // known if k == -1 else k for k in sizes)
    return pnp.reshape(input, s[:d] + sizes + s[d + 1:])


@implements(torch.squeeze, method="squeeze")
def squeeze(input, dim=None):
    s = shape(input)
    if dim is None:
        dims = tuple(i for i, n in enumerate(s) if n == 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        # torch leaves a dimension whose size is not 1 alone
        dims = tuple(norm_dim(d, len(s)) for d in dims if s[d] == 1) if s else ()
    return pnp.squeeze(input, axis=dims) if dims else input


@implements(torch.unsqueeze, method="unsqueeze")
def unsqueeze(input, dim):
    return pnp.expand_dims(input, norm_dim(dim, ndim(input) + 1))


@implements(torch.transpose, torch.swapaxes, torch.swapdims, method=("transpose", "swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    if ndim(input) == 0 and dim0 in (0, -1) and dim1 in (0, -1):
        return input                      # torch: a 0-d tensor's only dim is 0 (or -1)
    return pnp.swapaxes(input, dim0, dim1)


@implements(torch.permute, method="permute")
def permute(input, *args, dims=None):
    return pnp.transpose(input, kw_shape("permute", args, dims, "dims"))


@implements(torch.t, method="t")
def t(input):
    return input if ndim(input) < 2 else pnp.swapaxes(input, 0, 1)


def _matrix_transpose(name: str, conj: bool):
    def f(input):
        if ndim(input) < 2:
            raise RuntimeError(f"tensor.{name}: only supported on matrices or batches of matrices, got a "
                               f"{ndim(input)}-D tensor")
        out = pnp.swapaxes(input, -2, -1)
        return pnp.conj(out) if conj else out
    f.__name__ = name
    return f


# x.mT / x.mH (and torch.adjoint, x.adjoint()): the last two dims swapped, conjugated for mH
tensor_property("mT")(_matrix_transpose("mT", conj=False))
tensor_property("mH")(_matrix_transpose("mH", conj=True))
implements(torch.adjoint, method="adjoint")(_matrix_transpose("adjoint", conj=True))


@implements(torch.movedim, torch.moveaxis, method=("movedim", "moveaxis"))
def movedim(input, source, destination):
    return pnp.moveaxis(input, source, destination)


@implements(torch.stack)
def stack(tensors, dim=0):
    return pnp.stack(list(tensors), axis=dim)


@implements(torch.cat, torch.concat, torch.concatenate)
def cat(tensors, dim=0, **kw):
    return pnp.concatenate(list(tensors), axis=dim_kw(dim, kw, 0))


@implements(torch.hstack)
def hstack(tensors):
    return pnp.hstack(list(tensors))


@implements(torch.vstack)
def vstack(tensors):
    return pnp.vstack(list(tensors))


@implements(torch.flip, method="flip")
def flip(input, *args, dims=None):
    return pnp.flip(input, axis=kw_shape("flip", args, dims, "dims"))


@implements(torch.roll, method="roll")
def roll(input, shifts, dims=None):
    if dims is None:
        return pnp.roll(input, shifts)
    return pnp.roll(input, shifts if isinstance(shifts, int) else tuple(shifts),
                    axis=dims if isinstance(dims, int) else tuple(dims))


@implements(torch.rot90, method="rot90")
def rot90(input, k=1, dims=(0, 1)):
    d0, d1 = (norm_dim(d, ndim(input)) for d in dims)
    k %= 4
    if k == 1:
        return pnp.swapaxes(pnp.flip(input, axis=d1), d0, d1)
    if k == 2:
        return pnp.flip(input, axis=(d0, d1))
    if k == 3:
        return pnp.flip(pnp.swapaxes(input, d0, d1), axis=d1)
    return input


@implements(torch.broadcast_to, method="broadcast_to")
def broadcast_to(input, size):
    return pnp.broadcast_to(input, tuple(size))


@implements(method="expand")
def expand(input, *args, size=None, implicit=False):
    sizes = kw_shape("expand", args, size, "size")
    s = shape(input)
    lead = len(sizes) - len(s)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(s)})")
    for i in range(lead):
        if sizes[i] < 0:
            raise RuntimeError(f"The expanded size of the tensor ({sizes[i]}) isn't allowed in a leading, "
                               f"non-existing dimension {i}")
    full = tuple(s[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    return pnp.broadcast_to(input, full)


@implements(method="expand_as")
def expand_as(input, other):
    return pnp.broadcast_to(input, shape(other))


@implements(method="repeat")
def repeat(input, *args, repeats=None):
    sizes = kw_shape("repeat", args, repeats, "repeats")
    s = shape(input)
    x = pnp.reshape(input, (1,) * (len(sizes) - len(s)) + s) if len(sizes) > len(s) else input
    return pnp.tile(x, sizes)


@implements(torch.tile, method="tile")
def tile(input, dims):
    return pnp.tile(input, tuple(dims))


@implements(torch.repeat_interleave, method="repeat_interleave")
def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    if dim is None:
        return pnp.repeat(pnp.reshape(input, (-1,)), repeats, axis=0)
    return pnp.repeat(input, repeats, axis=dim)


@implements(torch.narrow, method="narrow")
def narrow(input, dim, start, length):
    d = norm_dim(dim, ndim(input))
    return input[(slice(None),) * d + (slice(start, start + length),)]


@implements(torch.split, method="split")
def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    if split_size is not None:            # Tensor.split's name for it
        if split_size_or_sections is not None:
            raise TypeError("split() got multiple values for argument 'split_size'")
        split_size_or_sections = split_size
    if split_size_or_sections is None:
        raise TypeError("split() missing required argument 'split_size_or_sections'")
    n = shape(tensor)[dim]
    if isinstance(split_size_or_sections, int):
        bounds = list(range(0, n, split_size_or_sections)) + [n]
    else:
        bounds = [0]
        for k in split_size_or_sections:
            bounds.append(bounds[-1] + int(k))
        if bounds[-1] != n:
            raise RuntimeError(f"split: sizes {list(split_size_or_sections)} do not sum to {n}")
    d = norm_dim(dim, ndim(tensor))
    return tuple(tensor[(slice(None),) * d + (slice(a, b),)] for a, b in zip(bounds, bounds[1:]))


@implements(torch.chunk, method="chunk")
def chunk(input, chunks, dim=0):
    n = shape(input)[dim]
    return split(input, -(-n // chunks), dim)


@implements(torch.unbind, method="unbind")
def unbind(input, dim=0):
    d = norm_dim(dim, ndim(input))
    return tuple(input[(slice(None),) * d + (i,)] for i in range(shape(input)[d]))


@implements(torch.diagonal, method="diagonal")
def diagonal(input, offset=0, dim1=0, dim2=1):
    return pnp.diagonal(input, offset, dim1, dim2)


@implements(torch.diag, method="diag")
def diag(input, diagonal=0):
    return pnp.diag(input, diagonal)


@implements(torch.diag_embed, method="diag_embed")
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    if (dim1, dim2) not in ((-2, -1), (-1, -2)):
        raise NotImplementedError("diag_embed with dims other than the last two is not supported inside "
                                  "polyfunc transforms")
    n = shape(input)[-1]
    m = n + abs(offset)
    eye = torch.eye(n, dtype=input.dtype, device=device_of(input))
    out = pnp.multiply(pnp.expand_dims(input, -1), eye)         # (..., n, n), the values on the diagonal
    nd = ndim(out)
    pads = [(0, 0)] * (nd - 2) + ([(0, offset), (offset, 0)] if offset >= 0 else [(-offset, 0), (0, -offset)])
    out = pnp.pad(out, pads) if offset else out
    return out if (dim1, dim2) == (-2, -1) or m == 0 else pnp.swapaxes(out, -1, -2)


@implements(torch.triu, method="triu")
def triu(input, diagonal=0):
    return pnp.triu(input, diagonal)


@implements(torch.tril, method="tril")
def tril(input, diagonal=0):
    return pnp.tril(input, diagonal)


@implements(torch.diff, method="diff")
def diff(input, n=1, dim=-1, prepend=None, append=None):
    parts = [t for t in (prepend, input, append) if t is not None]
    x = pnp.concatenate(parts, axis=dim) if len(parts) > 1 else input
    return pnp.diff(x, n=n, axis=dim)


@implements(torch.tensor_split, method="tensor_split")
def tensor_split(input, indices_or_sections, dim=0):
    """n nearly equal parts (the first ``size % n`` one longer), or the pieces between given indices."""
    d = norm_dim(dim, ndim(input))
    n = shape(input)[d]
    if isinstance(indices_or_sections, torch.Tensor):    # torch's tensor form: 0-d a count, 1-d indices
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k < 1:
            raise RuntimeError(f"torch.tensor_split: the number of sections must be at least 1, got {k}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        bounds = [0]
        for sz in sizes:
            bounds.append(bounds[-1] + sz)
    else:
        bounds = [0] + [min(max(int(i) if i >= 0 else n + int(i), 0), n) for i in indices_or_sections] + [n]
    return tuple(input[(slice(None),) * d + (slice(lo, max(lo, hi)),)] for lo, hi in zip(bounds[:-1], bounds[1:]))
