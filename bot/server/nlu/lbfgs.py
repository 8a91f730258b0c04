"""Multinomial logistic regression fitted by a plain L-BFGS: scikit-learn's model, less overhead.

scikit-learn fits its LogisticRegression with scipy's L-BFGS-B, which handles bounds nobody sets
here: for the intent classifier's ~3.6 million weights it spends ~6 s building bound arrays in
Python and about as long per iteration in its own bookkeeping as in computing the loss (profile
of ``rasa train``, issue #12). This is the same objective (scikit-learn's multinomial loss with
balanced class weights and L2 penalty 1/C, the intercept unpenalised), the same stopping rules
(gradient and relative-decrease tolerances, at most ``max_iter`` iterations) and the same kind of
line search (scipy's Wolfe search), without bounds: the held-out accuracy of the intent model is
the same, its training about half (docs/performance.md, "Training"). The result is an ordinary
fitted ``LogisticRegression``, saved and loaded as Rasa saves it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse

FunGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]

# scipy's L-BFGS-B defaults (as scikit-learn calls it): history length and relative decrease
# of the loss under which it stops (factr 1e7 times machine epsilon).
MEMORY = 10
FTOL = 1e7 * np.finfo(float).eps


class _Line:
    """The function along ``x + step * direction``, each step evaluated once."""

    def __init__(self, fun_grad: FunGrad, x: np.ndarray, direction: np.ndarray) -> None:
        self.fun_grad, self.x, self.direction = fun_grad, x, direction
        self.last: tuple[float, tuple[float, np.ndarray]] | None = None

    def at(self, step: float) -> tuple[float, np.ndarray]:
        if self.last is None or self.last[0] != step:
            self.last = (step, self.fun_grad(self.x + step * self.direction))
        return self.last[1]

    def value(self, step: float) -> float:
        return self.at(step)[0]

    def slope(self, step: float) -> float:
        return float(self.at(step)[1] @ self.direction)


def minimize(
    fun_grad: FunGrad, x0: np.ndarray, max_iter: int = 100, gtol: float = 1e-4
) -> tuple[np.ndarray, int]:
    """Minimises a smooth function given its value and gradient; returns (x, iterations)."""
    from scipy.optimize._linesearch import scalar_search_wolfe1

    x = x0.astype(np.float64, copy=True)
    f, g = fun_grad(x)
    history: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=MEMORY)
    iterations = 0
    while iterations < max_iter and np.max(np.abs(g)) > gtol:
        iterations += 1
        line = _Line(fun_grad, x, -_inverse_hessian_times(g, history))
        step, _, _ = scalar_search_wolfe1(
            line.value, line.slope, f, None, float(g @ line.direction),
            c1=1e-4, c2=0.9, amax=1e10,
        )  # fmt: skip
        if step is None:  # no step decreases the loss enough: as converged as it gets
            break
        f_new, g_new = line.at(step)
        s = step * line.direction
        y = g_new - g
        x += s
        if (sy := float(s @ y)) > 1e-10:
            history.append((s, y, 1.0 / sy))
        decrease = (f - f_new) / max(abs(f), abs(f_new), 1.0)
        f, g = f_new, g_new
        if decrease <= FTOL:
            break
    return x, iterations


def _inverse_hessian_times(g: np.ndarray, history: Sequence) -> np.ndarray:
    """The two-loop recursion: the L-BFGS estimate of H⁻¹·g (in place, BLAS axpy: no
    temporary vector per step for ~3.6 million weights)."""
    from scipy.linalg.blas import daxpy

    q = g.copy()
    alphas = []
    for s, y, rho in reversed(history):
        alpha = rho * float(s @ q)
        q = daxpy(y, q, a=-alpha)
        alphas.append(alpha)
    if history:
        s, y, _ = history[-1]
        q *= float(s @ y) / float(y @ y)
    else:
        q /= max(np.linalg.norm(g), 1e-12)
    for (s, y, rho), alpha in zip(history, reversed(alphas), strict=True):
        q = daxpy(s, q, a=alpha - rho * float(y @ q))
    return q


def fit_logistic_regression(
    X: scipy.sparse.spmatrix,  # noqa: N803 (scikit-learn's name)
    labels: Sequence[str],
    c: float = 1.0,
    max_iter: int = 100,
    tol: float = 1e-4,
    balanced: bool = True,
):
    """A fitted ``LogisticRegression(C=c)`` (multinomial, with intercept), its classes weighted
    inversely to their size when ``balanced`` (``class_weight="balanced"``)."""
    from sklearn._loss.loss import HalfMultinomialLoss
    from sklearn.linear_model import LogisticRegression
    from sklearn.linear_model._linear_loss import LinearModelLoss
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
    loss = LinearModelLoss(
        base_loss=HalfMultinomialLoss(n_classes=len(classes)), fit_intercept=True
    )
    X = scipy.sparse.csr_matrix(X, dtype=np.float64)  # noqa: N806
    y = target.astype(np.float64)

    def fun_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        return loss.loss_gradient(w, X, y, weights, 1.0 / c, 1)

    # weights class-contiguous, as scikit-learn lays them out: (classes, features + 1), order F
    w, iterations = minimize(fun_grad, np.zeros(len(classes) * (X.shape[1] + 1)), max_iter, tol)
    w = w.reshape((len(classes), -1), order="F")
    clf = LogisticRegression(C=c, max_iter=max_iter, tol=tol, class_weight=class_weight)
    clf.classes_ = classes
    clf.coef_ = np.ascontiguousarray(w[:, :-1])
    clf.intercept_ = w[:, -1].copy()
    clf.n_features_in_ = X.shape[1]
    clf.n_iter_ = np.array([iterations], dtype=np.int32)
    return clf
