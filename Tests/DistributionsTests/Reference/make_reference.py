"""Reference values for Latent's distributions, computed with scipy.

For every case in the tables below (distribution, fixed parameters, evaluation points) this
script computes log p(values), mean, variance and entropy with scipy.stats / scipy.special in
float64 and writes them as Swift fixtures to ../ReferenceValues.swift (`referenceCases`).

Conventions:
- Parameter names and parameterizations follow Pyro/PyTorch (Gamma uses rate, Beta uses
  concentration1/concentration0, MultivariateNormal uses scaleTril, ...).
- Every parameter and value is first rounded to float32 (Latent's tensors are Float) and the
  references are computed in float64 from exactly those rounded numbers. Simplex vectors
  (Dirichlet values, Categorical/OneHot probs) are rounded to multiples of 2^-24, so they are
  float32 numbers that sum to exactly 1 in float64.
- Categorical probs are normalized (probs / sum), as in PyTorch and Latent.
- Mean/variance are [] where scipy gives nan/inf for any batch member (e.g. StudentT df <= 2),
  and always [] for Categorical.
- Logit-parameterized log-probabilities and entropies use log_expit / log_softmax, so
  logits of +-50 are exact; Poisson entropy is scipy's poisson.entropy (a summation over the
  support in rv_discrete), checked here against a direct sum.

Written with numpy 2.4 and scipy 1.17 (the versions actually used are in the Swift header).
Rerun from the package root:

    python3 Tests/DistributionsTests/Reference/make_reference.py
"""
from pathlib import Path

import numpy as np
import scipy
import scipy.special as sp
import scipy.stats as st

OUT = Path(__file__).resolve().parent.parent / "ReferenceValues.swift"
rng = np.random.default_rng(20240611)


def f32(x):
    """Round to float32, return float64 (exactly representable in Float)."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def simplex32(v):
    """Rows normalized, rounded to multiples of 2^-24: float32-exact and summing to exactly 1."""
    v = np.asarray(v, dtype=np.float64)
    v = v / v.sum(-1, keepdims=True)
    head = np.maximum(np.round(v[..., :-1] * 2.0**24), 1) / 2.0**24
    out = np.concatenate([head, 1 - head.sum(-1, keepdims=True)], -1)
    assert (out > 0).all() and (f32(out) == out).all() and (out.sum(-1) == 1).all()
    return out


def one_hot(indices, k):
    return np.eye(k)[np.asarray(indices)]


def defined(x):
    """Flat list, or [] if any entry is nan/inf (quantity undefined for some batch member)."""
    x = np.asarray(x, dtype=np.float64)
    return x.ravel().tolist() if np.isfinite(x).all() else []


def case(dist, label, params, batch, event, values, logp, mean, var, ent):
    values = np.asarray(values, dtype=np.float64)
    points = values.shape[0]
    assert values.shape == (points, *batch, *event), (dist, label, values.shape)
    logp, ent = np.asarray(logp), np.asarray(ent)
    assert logp.shape == (points, *batch) and ent.shape == tuple(batch), (dist, label)
    assert (np.isfinite(logp) | (dist == "Delta")).all() and np.isfinite(ent).all(), (dist, label)
    for name, p in params.items():
        assert (f32(p) == p).all(), (dist, label, name)
    assert (f32(values) == values).all(), (dist, label)
    return dict(distribution=dist, label=label,
                parameters={k: np.asarray(v).ravel().tolist() for k, v in params.items()},
                batchShape=list(batch), eventShape=list(event),
                values=values.ravel().tolist(), points=points, logProb=logp.ravel().tolist(),
                mean=defined(mean), variance=defined(var), entropy=ent.ravel().tolist())


# ---------------------------------------------------------------------------------------------
# Scalar distributions with a frozen scipy counterpart.
# Each setting: (label, parameters (all of batch shape), values [points][batch...] — a row of
# one number is broadcast over the batch).

SCALAR = {
    "Normal": lambda p: st.norm(p["loc"], p["scale"]),
    "LogNormal": lambda p: st.lognorm(p["scale"], scale=np.exp(p["loc"])),
    "HalfNormal": lambda p: st.halfnorm(scale=p["scale"]),
    "BernoulliProbs": lambda p: st.bernoulli(p["probs"]),
    "Beta": lambda p: st.beta(p["concentration1"], p["concentration0"]),
    "Gamma": lambda p: st.gamma(p["concentration"], scale=1 / p["rate"]),
    "Exponential": lambda p: st.expon(scale=1 / p["rate"]),
    "Uniform": lambda p: st.uniform(p["low"], p["high"] - p["low"]),
    "Laplace": lambda p: st.laplace(p["loc"], p["scale"]),
    "StudentT": lambda p: st.t(p["df"], p["loc"], p["scale"]),
    "Poisson": lambda p: st.poisson(p["rate"]),
}

BETA_VALUES = [[1e-4], [0.02], [0.5], [0.98], [0.9999]]
rand_loc, rand_scale = rng.normal(size=(2, 2)), rng.lognormal(size=(2, 2))

SCALAR_SETTINGS = {
    "Normal": [
        ("mixed loc and scale", dict(loc=[0, -3, 2.5], scale=[1, 0.5, 4]),
         [[0, -3, 2.5], [1.5, -2.2, 10], [-2, -4.5, -7.5], [0.3, -3.1, 0.1]]),
        ("tiny scale", dict(loc=[0, 1, -2], scale=[1e-6] * 3),
         [[0, 1, -2], [1e-6, 1 + 1e-6, -2 - 1e-6], [-2.5e-6, 1 - 3e-6, -2 + 4e-6]]),
        ("huge scale", dict(loc=[0, 1e6, -5], scale=[1e6, 1e6, 3e6]),
         [[0, 1e6, -5], [1e6, 0, 3e6], [-2.5e6, 4e6, 1e7], [10, -1e6, 0]]),
        ("far tail", dict(loc=[0, 0, 10], scale=[1, 1, 2]),
         [[141, -141, -190], [50, 100, 210], [-10, 30, 10]]),
        ("random, batch [2, 2]", dict(loc=rand_loc, scale=rand_scale),
         rand_loc + rand_scale * rng.normal(size=(4, 2, 2))),
    ],
    "LogNormal": [
        ("standard and shifted", dict(loc=[0, 1, -1], scale=[1, 0.5, 2]),
         [[1, np.e, np.exp(-1)], [1e-3, 1, 1e-4], [20, 10, 50], [0.5, 2.5, 1e-2]]),
        ("narrow", dict(loc=[0, 2, -3], scale=[0.01, 0.05, 0.1]),
         [[1, 7.389, 0.0498], [1.02, 7.0, 0.045], [0.97, 8.0, 0.06]]),
        ("near zero and far", dict(loc=[0, 0], scale=[1, 1.5]),
         [[1e-6], [1e-3, 100], [1e3, 1e4]]),
    ],
    "HalfNormal": [
        ("moderate", dict(scale=[1, 0.1, 10]),
         [[1e-6], [0.5, 0.05, 5], [2, 0.3, 25], [5, 1, 40]]),
        ("tiny and huge scale", dict(scale=[1e-4, 1e4]),
         [[1e-8, 1], [1e-4, 1e4], [3e-4, 3e4]]),
    ],
    "BernoulliProbs": [
        ("moderate", dict(probs=[0.1, 0.5, 0.9]), [[0], [1], [0, 1, 1]]),
        ("near 0 and 1", dict(probs=[1e-6, 0.999999, 0.3]), [[0, 0, 1], [1, 1, 0]]),
    ],
    "Beta": [
        ("symmetric 0.5, 1, 5", dict(concentration1=[0.5, 1, 5], concentration0=[0.5, 1, 5]),
         BETA_VALUES),
        ("skewed", dict(concentration1=[0.5, 5, 1], concentration0=[5, 0.5, 5]), BETA_VALUES),
        ("large concentrations", dict(concentration1=[50, 2.5], concentration0=[20, 0.7]),
         [[0.7, 0.9], [0.5, 0.999], [0.85, 0.3]]),
    ],
    "Gamma": [
        ("small concentration", dict(concentration=[0.3, 0.3, 1], rate=[1, 10, 2]),
         [[1e-5, 1e-6, 1e-4], [0.01, 0.003, 0.5], [1, 0.2, 2], [5, 1, 8]]),
        ("large concentration", dict(concentration=[50, 50, 2.5], rate=[2, 0.1, 1]),
         [[25, 500, 2.5], [15, 350, 0.1], [40, 700, 12]]),
    ],
    "Exponential": [
        ("moderate", dict(rate=[0.1, 1, 50]), [[1e-6], [10, 1, 0.02], [50, 5, 0.2], [200, 20, 1]]),
        ("tiny and huge rate", dict(rate=[1e-3, 1e3]), [[1, 1e-6], [1000, 1e-3], [5000, 1e-2]]),
    ],
    "Uniform": [
        ("interior and near edges", dict(low=[0, -2, 1000], high=[1, 3, 1001]),
         [[1e-6, -1.9999, 1000.001], [0.5, 0, 1000.5], [0.999999, 2.9999, 1000.999]]),
        ("includes value == low", dict(low=[-1e-3, -1e4], high=[1e-3, 1e4]),
         [[-1e-3, -1e4], [0, 0], [9.99e-4, 9999]]),
    ],
    "Laplace": [
        ("moderate", dict(loc=[0, 5, -1], scale=[1, 0.01, 20]),
         [[0, 5, -1], [3, 5.02, 60], [-10, 4.9, -200], [1e-6, 5.0001, 1e3]]),
        ("far tail and tiny scale", dict(loc=[0, 100], scale=[1, 1e-3]),
         # scipy's laplace.logpdf is log(pdf): keep |z| <= 700 so the pdf does not underflow.
         [[700, 100], [-650, 100.01], [0.5, 99.995]]),
    ],
    "StudentT": [
        ("Cauchy (df 1)", dict(df=[1, 1, 1], loc=[0, 2, -5], scale=[1, 0.1, 10]),
         [[0, 2, -5], [1e3, 2.5, 1e4], [-50, -3, 0], [1, 1.9, -1e3]]),
        ("df 2.5 and 30", dict(df=[2.5, 30, 2.5], loc=[0, 1, -3], scale=[1, 2, 0.5]),
         [[0, 1, -3], [5, -7, 10], [-100, 9, -3.2], [1e3, 1, 200]]),
        ("df 1, 2.5, 30", dict(df=[1, 2.5, 30], loc=[0, 0, 0], scale=[1, 1, 1]),
         [[0], [3, -3, 3], [-200, 200, 200]]),
    ],
    "Poisson": [
        ("rates 0.5, 10, 200", dict(rate=[0.5, 10, 200]),
         [[0], [1, 10, 200], [3, 25, 150], [12, 0, 250], [250, 40, 180]]),
        ("tiny and fractional rate", dict(rate=[1e-3, 3.7]), [[0], [1, 4], [5, 20]]),
    ],
}


def scalar_cases(dist, settings):
    out = []
    for label, params, values in settings:
        params = {k: f32(v) for k, v in params.items()}
        batch = np.broadcast_shapes(*(p.shape for p in params.values()))
        values = f32([np.broadcast_to(np.asarray(row, dtype=np.float64), batch) for row in values])
        d = SCALAR[dist](params)
        logp = d.logpmf(values) if dist in ("Poisson", "BernoulliProbs") else d.logpdf(values)
        out.append(case(dist, label, params, batch, [], values, logp, d.mean(), d.var(),
                        d.entropy()))
    return out


# ---------------------------------------------------------------------------------------------
# Bernoulli by logits (stable in float64 via log_expit).

def bernoulli_logits_cases():
    out = []
    for label, logits, values in [
        ("extreme logits", [-50, 0, 50], [[0, 0, 0], [1, 1, 1]]),
        ("moderate logits", [-3, 0.5, 7], [[0, 1, 1], [1, 0, 0], [1, 1, 0]]),
    ]:
        l, x = f32(logits), f32(values)
        logp = np.where(x == 1, sp.log_expit(l), sp.log_expit(-l))
        p, q = sp.expit(l), sp.expit(-l)
        ent = -(p * sp.log_expit(l) + q * sp.log_expit(-l))
        ok = np.abs(l) < 10  # scipy's bernoulli agrees where 1 - p is not rounded away
        assert np.allclose(logp[:, ok], st.bernoulli(p[ok]).logpmf(x[:, ok]), rtol=1e-12)
        assert np.allclose(ent[ok], st.bernoulli(p[ok]).entropy(), rtol=1e-12)
        out.append(case("BernoulliLogits", label, {"logits": l}, l.shape, [], x, logp, p, p * q, ent))
    return out


# ---------------------------------------------------------------------------------------------
# Categorical / OneHotCategorical (parameters batch + [K]).

def categorical_cases():
    out = []
    settings = [
        ("CategoricalProbs", "K=3", simplex32([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]]),
         [[0, 2], [1, 0], [2, 1]]),
        ("CategoricalProbs", "near-degenerate K=3", simplex32([[1e-6, 1e-6, 1], [1e-4, 0.5, 0.5]]),
         [[0, 0], [1, 1], [2, 2]]),
        ("CategoricalProbs", "unnormalized weights K=4", f32([[1, 2, 3, 4], [0.5, 0.5, 0.5, 0.5]]),
         [[0, 3], [3, 1], [1, 2], [2, 0]]),
        ("CategoricalLogits", "extreme logits", f32([[50, -50, 0], [-50, -50, 50]]),
         [[0, 0], [1, 1], [2, 2]]),
        ("CategoricalLogits", "moderate K=4", f32([[0, 0, 0, 0], [1, -2, 0.5, 3], [-1e-3, 10, -10, 2]]),
         [[0, 1, 2], [3, 3, 0], [1, 2, 1]]),
        ("OneHotCategoricalProbs", "K=3", simplex32([[0.2, 0.3, 0.5], [1e-4, 1, 1e-4]]),
         [[0, 1], [2, 1], [1, 0]]),
        ("OneHotCategoricalProbs", "K=4", simplex32([[0.1, 0.2, 0.3, 0.4], [0.25] * 4, [0.01, 0.01, 0.97, 0.01]]),
         [[0, 1, 2], [3, 2, 0], [1, 0, 3], [2, 3, 1]]),
    ]
    for dist, label, param, idx in settings:
        idx = np.asarray(idx)
        k = param.shape[-1]
        if dist == "CategoricalLogits":
            logpk = sp.log_softmax(param, axis=-1)
        else:
            logpk = np.log(param / param.sum(-1, keepdims=True))
        probs = np.exp(logpk)
        logp = np.take_along_axis(np.broadcast_to(logpk, idx.shape + (k,)), idx[..., None], -1)[..., 0]
        ent = -(probs * logpk).sum(-1)
        assert np.allclose(ent, st.entropy(probs, axis=-1), rtol=1e-12, atol=1e-300)
        name = "logits" if dist == "CategoricalLogits" else "probs"
        if dist == "OneHotCategoricalProbs":
            out.append(case(dist, label, {name: param}, param.shape[:-1], [k], one_hot(idx, k), logp,
                            probs, probs * (1 - probs), ent))
        else:
            out.append(case(dist, label, {name: param}, param.shape[:-1], [], f32(idx), logp,
                            [np.nan], [np.nan], ent))
    return out


# ---------------------------------------------------------------------------------------------
# Dirichlet (concentration batch + [K], values on the simplex).

def dirichlet_cases():
    out = []
    dense = np.array([[2, 3, 5, 10], [1.5, 1.5, 1.5, 1.5]])
    settings = [
        ("K=3 concentrations < 1", [[0.3, 0.5, 0.9], [0.1, 0.1, 0.1]],
         [[[1e-4, 1e-4, 1], [0.2, 0.3, 0.5]], [[0.5, 0.5, 1e-4], [1, 1e-5, 1e-5]],
          [[0.3, 0.3, 0.4], [1e-3, 0.5, 0.5]]]),
        ("K=3 mixed", [[0.5, 1, 5], [1, 1, 1], [20, 20, 0.7]],
         [[[0.1, 0.1, 0.8]] * 3, [[1e-4, 0.5, 0.5]] * 3, [[0.45, 0.45, 0.1], [0.9998, 1e-4, 1e-4], [0.5, 0.5, 1e-3]]]),
        ("K=4 concentrations > 1", dense,
         np.concatenate([np.stack([rng.dirichlet(a, size=3) for a in dense], axis=1),
                         [[[0.97, 0.01, 0.01, 0.01], [0.25, 0.25, 0.25, 0.25]]]])),
    ]
    for label, conc, values in settings:
        a, x = f32(conc), simplex32(values)
        batch = a.shape[:-1]
        logp = np.array([[st.dirichlet.logpdf(x[i][b], a[b]) for b in np.ndindex(batch)]
                         for i in range(len(x))]).reshape((len(x),) + batch)
        mean = np.array([st.dirichlet.mean(a[b]) for b in np.ndindex(batch)]).reshape(a.shape)
        var = np.array([st.dirichlet.var(a[b]) for b in np.ndindex(batch)]).reshape(a.shape)
        ent = np.array([st.dirichlet.entropy(a[b]) for b in np.ndindex(batch)]).reshape(batch)
        out.append(case("Dirichlet", label, {"concentration": a}, batch, [a.shape[-1]], x, logp,
                        mean, var, ent))
    return out


# ---------------------------------------------------------------------------------------------
# MultivariateNormal (loc batch + [D], scaleTril batch + [D, D]).

def mvn_cases():
    out = []
    l3 = [[1, 0, 0], [0.3, 0.5, 0], [-0.8, 1.2, 2]]
    settings = [
        ("D=2", [1, -1], [[2, 0], [0.5, 0.3]], [[1, -1], [3, 0], [-2, -1.5], [10, -5]]),
        ("D=3", [0, 2, -1], l3,
         np.concatenate([[0, 2, -1] + rng.normal(size=(3, 3)) @ np.array(l3).T, [[20, -20, 20]]])),
        ("D=2, batch [2]", [[0, 0], [5, -5]], [[[1, 0], [0, 1]], [[0.1, 0], [-2, 3]]],
         [[[0, 0], [5, -5]], [[1, -1], [5.2, -3]], [[-3, 4], [4.5, -12]]]),
    ]
    for label, loc, tril, values in settings:
        mu, L, x = f32(loc), f32(tril), f32(values)
        batch, d = mu.shape[:-1], mu.shape[-1]
        cov = L @ np.swapaxes(L, -1, -2)
        logp, ent = np.empty((len(x),) + batch), np.empty(batch)
        for b in np.ndindex(batch):
            dist = st.multivariate_normal(mu[b], cov[b])
            logp[(slice(None),) + b] = dist.logpdf(x[(slice(None),) + b])
            ent[b] = dist.entropy()
            # Cross-check with the Cholesky formula used by Pyro/Latent.
            z = np.linalg.solve(L[b], (x[(slice(None),) + b] - mu[b]).T)
            direct = -0.5 * (z**2).sum(0) - np.log(np.diag(L[b])).sum() - 0.5 * d * np.log(2 * np.pi)
            assert np.allclose(logp[(slice(None),) + b], direct, rtol=1e-12)
        var = np.diagonal(cov, axis1=-2, axis2=-1)
        out.append(case("MultivariateNormal", label, {"loc": mu, "scaleTril": L}, batch, [d], x, logp,
                        mu, var, ent))
    return out


# ---------------------------------------------------------------------------------------------
# Swift output.

def swift_doubles(xs, indent):
    if not xs:
        return "[]"
    items = ["-.infinity" if x == -np.inf else repr(float(x)) for x in xs]
    lines, line = [], ""
    for item in items:
        if line and len(line) + len(item) + 2 > 100 - len(indent):
            lines.append(line.rstrip())
            line = ""
        line += item + ", "
    lines.append(line.rstrip(", "))
    if len(lines) == 1:
        return "[" + lines[0] + "]"
    return "[\n" + ",\n".join(indent + "    " + l.rstrip(",") for l in lines) + ",\n" + indent + "]"


HEADER = '''\
// Generated by Reference/make_reference.py with scipy {scipy} (numpy {numpy}); do not edit.
// Rerun from the package root: python3 Tests/DistributionsTests/Reference/make_reference.py

/// One distribution with fixed parameters, and scipy's values for it.
struct ReferenceCase {{
    /// Distribution name as in Latent: "Normal", "LogNormal", "HalfNormal", "BernoulliProbs", "BernoulliLogits", "CategoricalProbs", "CategoricalLogits", "OneHotCategoricalProbs", "Beta", "Gamma", "Dirichlet", "Exponential", "Uniform", "Laplace", "StudentT", "Poisson", "MultivariateNormal", "Delta", "FiniteDiscrete".
    let distribution: String
    /// A short label for failure messages, e.g. "tiny scale".
    let label: String
    /// Parameter name -> flat row-major values. All parameters of one case share `batchShape` (+ the parameter's own event dims, see below).
    let parameters: [String: [Double]]
    /// Batch shape of the distribution.
    let batchShape: [Int]
    /// Event shape ([] for scalar distributions, [K] for Dirichlet/OneHotCategorical/MultivariateNormal).
    let eventShape: [Int]
    /// Points at which logProb is evaluated: flat values of shape [points] + batchShape + eventShape.
    let values: [Double]
    let points: Int
    /// log p(values), flat, shape [points] + batchShape.
    let logProb: [Double]
    /// Mean, variance (elementwise, shape batchShape + eventShape) and entropy (shape batchShape); empty array where the quantity is undefined/infinite in scipy (e.g. StudentT variance for df <= 2: then store [] for the whole case's variance, keep it simple).
    let mean: [Double]
    let variance: [Double]
    let entropy: [Double]
}}

let referenceCases: [ReferenceCase] = [
'''


def swift_case(c):
    ind = " " * 8
    params = ", ".join(f'"{k}": {swift_doubles(v, ind)}' for k, v in sorted(c["parameters"].items()))
    return (
        "    ReferenceCase(\n"
        f'        distribution: "{c["distribution"]}", label: "{c["label"]}",\n'
        f"        parameters: [{params}],\n"
        f"        batchShape: {c['batchShape']}, eventShape: {c['eventShape']},\n"
        f"        values: {swift_doubles(c['values'], ind)},\n"
        f"        points: {c['points']},\n"
        f"        logProb: {swift_doubles(c['logProb'], ind)},\n"
        f"        mean: {swift_doubles(c['mean'], ind)},\n"
        f"        variance: {swift_doubles(c['variance'], ind)},\n"
        f"        entropy: {swift_doubles(c['entropy'], ind)}\n"
        "    ),\n"
    )


# ---------------------------------------------------------------------------------------------
# Delta (a point mass with a log-density) and FiniteDiscrete (a categorical over listed values):
# no scipy distribution has Delta's parameters, so its values are the definition itself; the
# scalar FiniteDiscrete is checked against scipy's rv_discrete, the vector one by direct sums.

def delta_cases():
    out = []
    value, log_density = f32([0.5, -2.0, 3.25]), f32([0.0, 1.5, -2.0])
    points = np.stack([value, value + 0.5, np.where([True, False, True], value, value - 1)])
    logp = np.where(points == value, log_density, -np.inf)
    out.append(case("Delta", "scalar points", {"value": value, "logDensity": log_density}, [3], [], points, logp,
                    value, np.zeros(3), np.zeros(3)))
    value = f32([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
    points = np.stack([value, np.array([[1.0, 2.0, 3.5], [0.0, -1.0, 0.5]])])
    logp = np.where((points == value).all(-1), 0.0, -np.inf)
    out.append(case("Delta", "vector event", {"value": value, "logDensity": np.zeros(2)}, [2], [3], points, logp,
                    value, np.zeros((2, 3)), np.zeros(2)))
    return out


def finite_discrete_cases():
    out = []
    support = f32([-1.0, 0.0, 2.5, 7.0])
    logits = f32([[0.2, -1.0, 1.5, 0.0], [3.0, 0.5, -2.0, 1.0]])
    probs = np.exp(sp.log_softmax(logits, -1))
    frozen = [st.rv_discrete(values=(support, p)) for p in probs]
    points = f32([[2.5, -1.0], [7.0, 0.0], [0.0, 2.5]])
    logp = np.array([[np.log(frozen[b].pmf(x)) for b, x in enumerate(row)] for row in points])
    out.append(case("FiniteDiscrete", "scalar values", {"support": support, "logits": logits}, [2], [], points, logp,
                    [d.mean() for d in frozen], [d.var() for d in frozen], [d.entropy() for d in frozen]))
    support = np.array([[a, b, c] for a in (0.0, 1.0) for b in (0.0, 1.0) for c in (0.0, 1.0)])
    logits = f32(rng.normal(size=8))
    logq = sp.log_softmax(logits)
    points = np.array([support[5], support[0], support[7]])
    logp = np.array([logq[(support == x).all(-1)][0] for x in points])
    p = np.exp(logq)
    mean = p @ support
    out.append(case("FiniteDiscrete", "vectors of three bits", {"support": support, "logits": logits}, [], [3], points, logp,
                    mean, p @ support**2 - mean**2, -(p * logq).sum()))
    return out


def main():
    # Poisson entropy from scipy (generic rv_discrete summation) against a direct sum.
    for mu in (0.5, 10, 200):
        logpk = st.poisson.logpmf(np.arange(5000), mu)
        assert np.isclose(st.poisson.entropy(mu), -(np.exp(logpk) * logpk).sum(), rtol=1e-10)

    cases = []
    for dist in ["Normal", "LogNormal", "HalfNormal", "BernoulliProbs"]:
        cases += scalar_cases(dist, SCALAR_SETTINGS[dist])
    cases += bernoulli_logits_cases()
    cases += categorical_cases()
    for dist in ["Beta", "Gamma"]:
        cases += scalar_cases(dist, SCALAR_SETTINGS[dist])
    cases += dirichlet_cases()
    for dist in ["Exponential", "Uniform", "Laplace", "StudentT", "Poisson"]:
        cases += scalar_cases(dist, SCALAR_SETTINGS[dist])
    cases += mvn_cases()
    cases += delta_cases()
    cases += finite_discrete_cases()

    text = HEADER.format(scipy=scipy.__version__, numpy=np.__version__)
    text += "".join(swift_case(c) for c in cases) + "]\n"
    OUT.write_text(text)
    counts = {}
    for c in cases:
        counts[c["distribution"]] = counts.get(c["distribution"], 0) + 1
    print(f"wrote {len(cases)} cases to {OUT}: {counts}")


if __name__ == "__main__":
    main()
