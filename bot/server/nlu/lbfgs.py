"""Multinomial logistic regression fitted by a plain L-BFGS: scikit-learn's model, less overhead.

scikit-learn fits its LogisticRegression with scipy's L-BFGS-B, which handles bounds nobody sets
here: for the intent classifier's ~3.6 million weights it spends ~6 s building bound arrays in
Python and about as long per iteration in its own bookkeeping as in computing the loss (profile
of ``rasa train``, issue #12). This is the same objective (scikit-learn's multinomial loss with
balanced class weights and L2 penalty 1/C, the intercept unpenalised), the same stopping rules
(gradient and relative-decrease tolerances, at most ``max_iter`` iterations) and the same kind of
line search (scipy's Wolfe search), without bounds: the held-out accuracy of the intent model is
the same, its training about half (docs/performance.md, "Training"). The result is an ordinary
fitted ``LogisticRegression``, saved and loaded as Rasa saves it. The loss and gradient are
scikit-learn's (:class:`SplitMultinomialLoss`), with their two sparse products split over
``threads`` threads: scipy releases the GIL in them, and they are most of an iteration's time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse

FunGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]

# scipy's L-BFGS-B defaults (as scikit-learn calls it): history length and relative decrease
# of the loss under which it stops (factr 1e7 times machine epsilon).
MEMORY = 10
FTOL = 1e7 * np.finfo(float).eps


class _Line:
    """The function along ``x + step * direction``, each step evaluated once. The trial point
    lives in one reused buffer: a fresh 37 MB array per evaluation is a fresh mmap, paid in
    page faults (glibc maps blocks over 32 MB anew each time)."""

    def __init__(
        self, fun_grad: FunGrad, x: np.ndarray, direction: np.ndarray, trial: np.ndarray
    ) -> None:
        self.fun_grad, self.x, self.direction, self.trial = fun_grad, x, direction, trial
        self.last: tuple[float, tuple[float, np.ndarray]] | None = None

    def at(self, step: float) -> tuple[float, np.ndarray]:
        if self.last is None or self.last[0] != step:
            np.multiply(self.direction, step, out=self.trial)
            self.trial += self.x
            self.last = (step, self.fun_grad(self.trial))
        return self.last[1]

    def value(self, step: float) -> float:
        return self.at(step)[0]

    def slope(self, step: float) -> float:
        return float(self.at(step)[1] @ self.direction)


def minimize(
    fun_grad: FunGrad, x0: np.ndarray, max_iter: int = 100, gtol: float = 1e-4, threads: int = 1
) -> tuple[np.ndarray, int]:
    """Minimises a smooth function given its value and gradient; returns (x, iterations)."""
    from scipy.optimize._linesearch import scalar_search_wolfe1

    x = x0.astype(np.float64, copy=True)
    trial = np.empty_like(x)
    f, g = fun_grad(x)
    history: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=MEMORY)
    iterations = 0
    two_loop = _TwoLoop(len(x), threads)
    try:
        while iterations < max_iter and max(g.max(), -g.min()) > gtol:
            iterations += 1
            direction = two_loop(g, history)
            direction *= -1.0
            line = _Line(fun_grad, x, direction, trial)
            step, _, _ = scalar_search_wolfe1(
                line.value, line.slope, f, None, float(g @ direction),
                c1=1e-4, c2=0.9, amax=1e10,
            )  # fmt: skip
            if step is None:  # no step decreases the loss enough: as converged as it gets
                break
            f_new, g_new = line.at(step)
            s = direction  # no longer needed as such: scaled in place (no new array)
            s *= step
            y = np.subtract(g_new, g, out=g)  # the old gradient's memory
            x += s
            if (sy := float(s @ y)) > 1e-10:
                history.append((s, y, 1.0 / sy))
            decrease = (f - f_new) / max(abs(f), abs(f_new), 1.0)
            f, g = f_new, g_new
            if decrease <= FTOL:
                break
    finally:
        two_loop.close()
    return x, iterations


class _TwoLoop:
    """The two-loop recursion: the L-BFGS estimate of H⁻¹·g, in place with BLAS axpy (no
    temporary vector per step for ~4.7 million weights), each dot product and axpy split into
    ``threads`` slices of the vectors (numpy and BLAS release the GIL; a tenth of training)."""

    def __init__(self, size: int, threads: int = 1) -> None:
        threads = max(1, min(threads, size))
        bounds = np.linspace(0, size, threads + 1).astype(int)
        self.slices = [slice(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def _sum(self, work: Callable[[slice], float]) -> float:
        if self.pool is None:
            return sum(work(part) for part in self.slices)
        return sum(self.pool.map(work, self.slices))

    def _each(self, work: Callable[[slice], object]) -> None:
        if self.pool is None:
            for part in self.slices:
                work(part)
        else:
            for _ in self.pool.map(work, self.slices):  # re-raises a thread's exception
                pass

    def __call__(self, g: np.ndarray, history: Sequence) -> np.ndarray:
        from scipy.linalg.blas import daxpy

        q = g.copy()

        def dot(a: np.ndarray) -> float:
            return self._sum(lambda part: float(a[part] @ q[part]))

        def axpy(a: np.ndarray, factor: float) -> None:  # q += factor * a, in place
            self._each(lambda part: daxpy(a[part], q[part], a=factor))

        alphas = []
        for s, y, rho in reversed(history):
            alpha = rho * dot(s)
            axpy(y, -alpha)
            alphas.append(alpha)
        if history:
            s, y, _ = history[-1]
            q *= float(s @ y) / float(y @ y)
        else:
            q /= max(np.linalg.norm(g), 1e-12)
        for (s, y, rho), alpha in zip(history, reversed(alphas), strict=True):
            axpy(s, alpha - rho * dot(y))
        return q

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


class SplitMultinomialLoss:
    """scikit-learn's ``LinearModelLoss(HalfMultinomialLoss, fit_intercept=True).loss_gradient``
    (sum of weighted sample losses plus ``l2 / 2 * |coef|²``, intercept unpenalised, weights laid
    out as ``(classes, features + 1)`` in Fortran order), its products ``X @ coef.T`` split by
    rows and ``grad.T @ X`` by features over ``threads`` threads."""

    def __init__(
        self,
        X: scipy.sparse.csr_matrix,  # noqa: N803 (scikit-learn's name)
        y: np.ndarray,
        sample_weight: np.ndarray,
        l2: float,
        n_classes: int,
        threads: int = 1,
    ) -> None:
        from sklearn._loss.loss import HalfMultinomialLoss

        self.base = HalfMultinomialLoss(n_classes=n_classes)
        self.y, self.sample_weight, self.l2, self.n_classes = y, sample_weight, l2, n_classes
        self.n_samples, self.n_features = X.shape
        threads = max(1, min(threads, self.n_samples, self.n_features))
        rows = np.linspace(0, self.n_samples, threads + 1).astype(int)
        features = np.linspace(0, self.n_features, threads + 1).astype(int)
        self.row_blocks = [(a, b, X[a:b]) for a, b in zip(rows, rows[1:], strict=False)]
        transposed = X.T.tocsr()
        self.feature_blocks = [
            (a, b, transposed[a:b]) for a, b in zip(features, features[1:], strict=False)
        ]
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def _each(self, work: Callable, blocks: list) -> None:
        if self.pool is None:
            for block in blocks:
                work(block)
        else:
            for _ in self.pool.map(work, blocks):  # re-raises a thread's exception
                pass

    def __call__(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        k, n_features = self.n_classes, self.n_features
        weights = w.reshape((k, n_features + 1), order="F")
        coef_t, intercept = weights[:, :-1].T, weights[:, -1]  # (features, k), C-contiguous
        raw = np.empty((self.n_samples, k))

        def predict(block: tuple) -> None:
            a, b, rows = block
            raw[a:b] = rows @ coef_t

        self._each(predict, self.row_blocks)
        raw += intercept
        loss, per_sample = self.base.loss_gradient(
            y_true=self.y, raw_prediction=raw, sample_weight=self.sample_weight, n_threads=1
        )
        coef = weights[:, :-1]
        value = float(loss.sum()) + 0.5 * self.l2 * float(np.einsum("ij,ij->", coef, coef))
        grad = np.empty((k, n_features + 1), order="F")

        def gradient(block: tuple) -> None:
            a, b, columns = block
            grad[:, a:b] = (columns @ per_sample).T + self.l2 * coef[:, a:b]

        self._each(gradient, self.feature_blocks)
        grad[:, -1] = per_sample.sum(axis=0)
        return value, grad.ravel(order="F")

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def fit_logistic_regression(
    X: scipy.sparse.spmatrix,  # noqa: N803 (scikit-learn's name)
    labels: Sequence[str],
    c: float = 1.0,
    max_iter: int = 100,
    tol: float = 1e-4,
    balanced: bool = True,
    threads: int = 1,
):
    """A fitted ``LogisticRegression(C=c)`` (multinomial, with intercept), its classes weighted
    inversely to their size when ``balanced`` (``class_weight="balanced"``)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils.class_weight import compute_class_weight

    class_weight = "balanced" if balanced else None
    if len(set(labels)) < 3:  # noqa: PLR2004 (scikit-learn fits two classes as one, binomially)
        return LogisticRegression(C=c, max_iter=max_iter, tol=tol, class_weight=class_weight).fit(
            X, labels
        )
    encoder = LabelEncoder()
    target = encoder.fit_transform(labels)
    classes = encoder.classes_
    weights = (
        compute_class_weight("balanced", classes=classes, y=np.asarray(labels))[target]
        if balanced
        else np.ones(len(target))
    )
    X = scipy.sparse.csr_matrix(X, dtype=np.float64)  # noqa: N806
    y = target.astype(np.float64)
    fun_grad = SplitMultinomialLoss(X, y, weights, 1.0 / c, len(classes), threads)
    try:
        # weights class-contiguous, as scikit-learn lays them out: (classes, features + 1), order F
        w, iterations = minimize(fun_grad, np.zeros(len(classes) * (X.shape[1] + 1)), max_iter, tol)
    finally:
        fun_grad.close()
    w = w.reshape((len(classes), -1), order="F")
    clf = LogisticRegression(C=c, max_iter=max_iter, tol=tol, class_weight=class_weight)
    clf.classes_ = classes
    clf.coef_ = np.ascontiguousarray(w[:, :-1])
    clf.intercept_ = w[:, -1].copy()
    clf.n_features_in_ = X.shape[1]
    clf.n_iter_ = np.array([iterations], dtype=np.int32)
    return clf
