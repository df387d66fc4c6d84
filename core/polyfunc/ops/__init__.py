"""The primitives.  One block per primitive (or one factory call per family)
fills every rule table: abstract eval, jvp, transpose and batching.  Rules are
written with ``bind`` of other primitives, never with backend calls, so every
rule is itself differentiable and batchable."""
from .structural import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .matrix import *  # noqa: F401,F403
from .random import *  # noqa: F401,F403
from .custom import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .windowed import *  # noqa: F401,F403
