"""Settings for the notebooks run under nbval (``python -m pytest``).

Their kernels inherit this process's environment. Without ``MPLBACKEND``, a kernel draws
with matplotlib's inline backend, which adds each figure to its cell's outputs; the
stored outputs hold none (the notebooks draw into axes and show values), so the cells
would differ. Agg, unless the environment already chose a backend.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
