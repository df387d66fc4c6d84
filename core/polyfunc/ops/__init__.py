"""The primitives.  One block per primitive (or one factory call per family)
fills every rule table: abstract eval, jvp, transpose and batching.  Rules are
written with ``bind`` of other primitives, never with backend calls, so every
rule is itself differentiable and batchable."""
from .structural import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .complex import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .contraction import *  # noqa: F401,F403
from .matrix import *  # noqa: F401,F403
from .random import *  # noqa: F401,F403
from .custom import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .windowed import *  # noqa: F401,F403
from . import (complex, contraction, convolution, custom, elementwise, indexing, matrix, random, reductions, structural,
               windowed)
from . import loop as _loop  # noqa: F401  (hands vmap its loop fallback)

__all__ = [*structural.__all__, *elementwise.__all__, *complex.__all__, *reductions.__all__, *indexing.__all__,
           *contraction.__all__, *matrix.__all__,
           *convolution.__all__, *windowed.__all__,
           *random.__all__, *custom.__all__]
