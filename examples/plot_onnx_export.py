"""
Export a regularized MLP to ONNX and serve it with onnxruntime
==============================================================

Importing :mod:`sklearn_reg.onnx` registers the converters of the sklearn_reg
estimators with skl2onnx; :func:`skl2onnx.to_onnx` then turns a fitted pipeline
(here a ``StandardScaler`` and a :class:`~sklearn_reg.RegularizedMLPClassifier` on
the digit images, then a Poisson :class:`~sklearn_reg.RegularizedMLPRegressor`) into
an ONNX graph that onnxruntime runs without Python, numba or scikit-learn.

The dtype of the example input chooses the precision of the graph: a float32 graph
reproduces the probabilities of the model (trained in float64) to float32 rounding, a
float64 graph to the last bits. At the end we time ``predict_proba`` and onnxruntime
on one image per call (where the per-call cost dominates) and on the whole data set;
the numbers depend on the machine and its load.

Needs the ``onnx`` extra: ``pip install "sklearn_reg[onnx]"``.
"""

# %%
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as rt
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import sklearn_reg.onnx  # noqa: F401  (registers the converters with skl2onnx)
from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor

warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget of epochs

X, y = load_digits(return_X_y=True)
model = make_pipeline(
    StandardScaler(),
    RegularizedMLPClassifier(
        (64, 32),
        penalty="l1",
        alpha=1e-3,
        dropout=0.1,
        learning_rate_init=0.01,
        max_iter=60,
        random_state=0,
    ),
).fit(X, y)
print(f"training accuracy {model.score(X, y):.3f}")


def session_of(onx):
    """An onnxruntime session of the ONNX model ``onx``, on the calling thread only."""
    options = rt.SessionOptions()
    options.intra_op_num_threads = 1
    return rt.InferenceSession(onx.SerializeToString(), options, providers=["CPUExecutionProvider"])


# %%
# The same pipeline as a float32 and as a float64 graph. ``zipmap=False`` returns the
# probabilities as one tensor (the default, a dictionary per sample, is float32 only).
proba = model.predict_proba(X)
sessions = {}
for dtype in (np.float32, np.float64):
    onx = to_onnx(model, X[:1].astype(dtype), options={"zipmap": False})
    sessions[dtype] = session_of(onx)
    label, onnx_proba = sessions[dtype].run(None, {"X": X.astype(dtype)})
    print(
        f"{dtype.__name__} graph ({len(onx.SerializeToString()) / 1024:.0f} KiB): "
        f"labels equal on {np.mean(label == model.predict(X)):.0%} of {len(X)} images, "
        f"largest |Δ| of the probabilities {np.abs(onnx_proba - proba).max():.1e}"
    )

# %%
# A Poisson regressor: its output activation exp(z) becomes ONNX's ``Exp``. The graph
# returns shape (N, 1) where ``predict`` returns (N,).
rng = np.random.default_rng(0)
Z = rng.normal(size=(2000, 5))
counts = rng.poisson(np.exp(0.3 + 0.5 * Z[:, 0] - 0.4 * Z[:, 1] ** 2))
poisson = RegularizedMLPRegressor(
    loss="poisson", hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=40, random_state=0
)
poisson.fit(Z, counts)
(onnx_mean,) = session_of(to_onnx(poisson, Z[:1])).run(None, {"X": Z})
relative = np.abs(onnx_mean.ravel() / poisson.predict(Z) - 1).max()
print(f"Poisson regressor, float64 graph: largest relative |Δ| of the means {relative:.1e}")

# %%
# Prediction time: the best of several repeats, for one image per call and for all
# the images at once, on one thread each (BLAS limited to one thread as onnxruntime).


def best_time(predict, repeats):
    """The shortest of ``repeats`` timings of ``predict()``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict()
        times.append(time.perf_counter() - start)
    return min(times)


X32 = X.astype(np.float32)
one = {
    "sklearn_reg (float64)": lambda: model.predict_proba(X[:1]),
    "onnxruntime float64": lambda: sessions[np.float64].run(None, {"X": X[:1]}),
    "onnxruntime float32": lambda: sessions[np.float32].run(None, {"X": X32[:1]}),
}
batch = {
    "sklearn_reg (float64)": lambda: model.predict_proba(X),
    "onnxruntime float64": lambda: sessions[np.float64].run(None, {"X": X}),
    "onnxruntime float32": lambda: sessions[np.float32].run(None, {"X": X32}),
}
with threadpool_limits(limits=1):
    timings = {
        "1 image": {name: best_time(f, 200) for name, f in one.items()},
        f"{len(X)} images": {name: best_time(f, 20) for name, f in batch.items()},
    }
for case, times in timings.items():
    print(f"{case}: " + ", ".join(f"{name} {1e6 * t:.0f} µs" for name, t in times.items()))

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for ax, (case, times) in zip(axes, timings.items()):
    ax.barh(
        list(times),
        [1e6 * t for t in times.values()],
        color=["tab:blue", "tab:green", "tab:orange"],
    )
    ax.set_xlabel("time per call (µs)")
    ax.set_title(f"predict_proba, {case}")
fig.tight_layout()
plt.show()
