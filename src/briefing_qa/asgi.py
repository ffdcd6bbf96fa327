"""ASGI entry point for uvicorn workers: settings from the environment."""

import os

# One thread per BLAS call, set before numpy loads. A server runs requests in
# parallel threads; multi-threaded BLAS on top of that makes each small
# matrix product wait for a second core that is busy: measured here, the
# 1,510 x 384 cosine product took 8 ms with OpenBLAS's threads on a loaded
# two-core machine and 0.04 ms with one.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from .api import create_app  # noqa: E402

app = create_app()
