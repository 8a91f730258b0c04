"""The intent classifier's optimiser (bot/server/nlu/lbfgs.py) reaches scikit-learn's model."""

import numpy as np
import pytest
import scipy.sparse
from sklearn.linear_model import LogisticRegression

from bot.server.nlu import lbfgs


def test_minimises_a_quadratic():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 30))
    hessian = a @ a.T + 30 * np.eye(30)
    b = rng.normal(size=30)

    def fun_grad(x):
        return 0.5 * x @ hessian @ x - b @ x, hessian @ x - b

    x, iterations = lbfgs.minimize(fun_grad, np.zeros(30), max_iter=200, gtol=1e-10)
    # stops when the loss no longer falls by 2e-9 of itself (scipy's rule), near the minimum
    assert np.allclose(x, np.linalg.solve(hessian, b), atol=1e-5)
    assert 1 < iterations < 200


def test_stops_after_max_iter():
    def fun_grad(x):  # Rosenbrock: many iterations from (-1.2, 1)
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, np.array(
            [-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)]
        )

    _, iterations = lbfgs.minimize(fun_grad, np.array([-1.2, 1.0]), max_iter=5)
    assert iterations == 5
    x, _ = lbfgs.minimize(fun_grad, np.array([-1.2, 1.0]), max_iter=500, gtol=1e-9)
    assert np.allclose(x, [1.0, 1.0], atol=1e-4)


@pytest.fixture(scope="module")
def data():
    """Sparse counts of four unbalanced classes, some overlapping."""
    rng = np.random.default_rng(1)
    sizes = {"asylum": 120, "housing": 60, "taxation": 30, "greet": 15}
    rows, labels = [], []
    for k, (label, n) in enumerate(sizes.items()):
        for _ in range(n):
            row = np.zeros(200)
            row[rng.choice(np.arange(k * 40, k * 40 + 60), 6)] += 1  # class words
            row[rng.choice(200, 4)] += 1  # noise
            rows.append(row)
            labels.append(label)
    return scipy.sparse.csr_matrix(np.array(rows)), labels


def test_same_model_as_scikit_learn(data):
    X, labels = data
    ours = lbfgs.fit_logistic_regression(X, labels, max_iter=500, tol=1e-8)
    theirs = LogisticRegression(class_weight="balanced", max_iter=2000, tol=1e-10).fit(X, labels)
    assert list(ours.classes_) == list(theirs.classes_)
    assert np.allclose(ours.coef_, theirs.coef_, atol=1e-3)
    assert np.allclose(ours.intercept_, theirs.intercept_, atol=1e-3)
    assert np.allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-4)
    assert ours.n_iter_[0] < 500


def test_two_classes_are_fitted_by_scikit_learn(data):
    X, labels = data
    two = [label if label == "asylum" else "other" for label in labels]
    clf = lbfgs.fit_logistic_regression(X, two)
    assert clf.coef_.shape == (1, X.shape[1])
    assert (clf.predict(X) == np.array(two)).mean() > 0.9


def test_unweighted_classes_as_scikit_learn_without_class_weight(data):
    X, labels = data
    ours = lbfgs.fit_logistic_regression(X, labels, c=10.0, max_iter=800, tol=1e-8, balanced=False)
    theirs = LogisticRegression(C=10.0, max_iter=3000, tol=1e-10).fit(X, labels)
    assert ours.class_weight is None
    assert np.allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-3)
    balanced = lbfgs.fit_logistic_regression(X, labels, c=10.0, max_iter=800, tol=1e-8)
    assert not np.allclose(balanced.intercept_, ours.intercept_, atol=1e-2)


@pytest.mark.parametrize("threads", [1, 3])
def test_split_loss_is_scikit_learns_loss(data, threads):
    from sklearn._loss.loss import HalfMultinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss

    X, labels = data
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels], dtype=np.float64)
    sample_weight = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    w = np.random.default_rng(3).normal(size=len(classes) * (X.shape[1] + 1))
    theirs = LinearModelLoss(HalfMultinomialLoss(n_classes=len(classes)), fit_intercept=True)
    expected_loss, expected_grad = theirs.loss_gradient(w, X, y, sample_weight, 0.5, 1)
    split = lbfgs.SplitMultinomialLoss(X, y, sample_weight, 0.5, len(classes), threads)
    try:
        loss, grad = split(w)
    finally:
        split.close()
    assert len(split.row_blocks) == len(split.feature_blocks) == threads
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert np.allclose(grad, expected_grad, rtol=1e-10, atol=1e-10)


def test_threads_fit_the_same_model(data):
    X, labels = data
    one = lbfgs.fit_logistic_regression(X, labels, max_iter=300, tol=1e-8)
    two = lbfgs.fit_logistic_regression(X, labels, max_iter=300, tol=1e-8, threads=2)
    assert np.allclose(one.coef_, two.coef_, atol=1e-6)
