"""``polyfunc.numpy``: NumPy's names and semantics, portable over every backend.

Everything here is written with the primitives of :mod:`polyfunc.ops`, so it
runs on any backend's arrays and under every transform (tracers in, tracers
out).  Dtype promotion is NumPy 2's (NEP 50: Python scalars are weak), the
same on every backend.

>>> import polyfunc.numpy as pnp
>>> x = pnp.asarray([1.0, 2.0, 3.0])
>>> float(pnp.sum(x * 2.0))
12.0
"""

import math as _math

import numpy as _np  # dtype objects only

from ._creation import *  # noqa: F401,F403
from ._dtypes import (bool_, float16, float32, float64, int8, int16, int32, int64,  # noqa: F401
                      uint8, uint16, uint32, uint64, result_type)
from ._elementwise import *  # noqa: F401,F403
from ._reductions import *  # noqa: F401,F403
from ._shape import *  # noqa: F401,F403
from ._indexing import *  # noqa: F401,F403
from ._indexing import _getitem  # noqa: F401  (the torch plugin maps Tensor.__getitem__ to it)
from ._products import *  # noqa: F401,F403
from ._complex import *  # noqa: F401,F403
from ._assembly import *  # noqa: F401,F403
from ._numeric_extras import *  # noqa: F401,F403
from ._methods import TRACER_METHODS as _TRACER_METHODS
from ..trace import install_methods as _install_methods
from . import linalg  # noqa: F401

from . import _assembly, _complex, _creation, _elementwise, _indexing, _numeric_extras, _products, _reductions, _shape

# tracers get their operators and array methods from here (NumPy's semantics, or a backend's own)
_install_methods(_TRACER_METHODS)

# dtype helpers are NumPy's own: they only describe dtypes
dtype = _np.dtype
finfo = _np.finfo
iinfo = _np.iinfo
issubdtype = _np.issubdtype
can_cast = _np.can_cast
promote_types = _np.promote_types
bool = bool_  # noqa: A001  (NumPy 2 and the Array API name it so)
floating, integer, signedinteger, unsignedinteger, number, inexact, generic = (
    _np.floating, _np.integer, _np.signedinteger, _np.unsignedinteger, _np.number, _np.inexact, _np.generic)

__version__ = _np.__version__   # the NumPy whose names and semantics this namespace follows
pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan
euler_gamma = 0.5772156649015329
newaxis = None

__all__ = sorted({
    *_creation.__all__, *_elementwise.__all__, *_reductions.__all__, *_shape.__all__, *_indexing.__all__,
    *_products.__all__, *_complex.__all__, *_assembly.__all__, *_numeric_extras.__all__, "linalg",
    "bool_", "bool", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
    "uint32", "uint64", "result_type", "dtype", "finfo", "iinfo", "issubdtype", "can_cast", "promote_types",
    "floating", "integer", "signedinteger", "unsignedinteger", "number", "inexact", "generic",
    "pi", "e", "inf", "nan", "euler_gamma", "newaxis", "__version__",
})
