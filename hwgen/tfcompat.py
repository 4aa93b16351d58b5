"""Import TensorFlow with Keras 2 settled before QKeras/tfmot are imported.

tensorflow-model-optimization 0.8 sets TF_USE_LEGACY_KERAS=1 when imported; with TF 2.15
that makes the still-lazy `tf.keras` loaders look for the separate `tf_keras` package and fail
("Keras cannot be imported"). Touching the loaders first binds them to Keras 2.15, which is
also the Keras that hls4ml's QKeras-capable parser requires. Import this module (it is cheap
after the first time) instead of `tensorflow` anywhere QKeras is used.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# If tfmot was imported before this module, it has already set the variable. hwgen needs
# `tf.keras` to be the `keras` 2.15 package that hls4ml's parser imports (one Keras in the
# process), so clear it before the loaders are bound. tf_keras is installed only so that a
# user's own `import tensorflow as tf; import qkeras` script keeps a working `tf.keras`.
os.environ.pop("TF_USE_LEGACY_KERAS", None)

import tensorflow as tf  # noqa: E402

for _loader in (tf.keras, tf.compat.v1.keras, tf.compat.v2.keras):
    getattr(_loader, "layers")

import keras  # noqa: E402

if not keras.__version__.startswith("2."):  # pragma: no cover - guarded by the pins
    raise ImportError(f"hwgen needs Keras 2 (found {keras.__version__}); reinstall with the pinned stack")

import qkeras  # noqa: E402,F401  (after the loaders are bound)

__all__ = ["tf", "keras", "qkeras", "set_threads"]


def set_threads(n: int | None) -> None:
    """Bound TensorFlow's thread pools (call before any op runs)."""
    if n:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(n)
            tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, n)))
        except RuntimeError:
            pass  # already initialised in this process
