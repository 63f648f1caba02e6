"""scipy sparse matrices/arrays of every format, frozen distributions, interpolators,
KD-trees, rotations, optimisation results."""
import pickle

REQUIRES = ["scipy"]


def s_sparse(ctx):
    import numpy as np
    import scipy.sparse as sp

    a = sp.random(6, 5, density=0.4, random_state=0, format="csr")
    objs = {}
    for fmt in ("csr", "csc", "coo", "lil", "dok", "bsr", "dia"):
        objs[fmt + "_matrix"] = a.asformat(fmt)
        if hasattr(sp, fmt + "_array"):
            objs[fmt + "_array"] = getattr(sp, fmt + "_array")(a.asformat(fmt))
    ctx.dump("scipy", "sparse_all_formats.pkl", objs, protocol=4, note="every sparse format, matrix and array")
    ctx.dump("scipy", "sparse_csr_protocol2.pkl", a, protocol=2, note="csr_matrix at protocol 2")


def s_stats(ctx):
    import scipy.stats as st

    objs = {"norm": st.norm(0, 1), "uniform": st.uniform(0, 1), "loguniform": st.loguniform(1e-3, 1),
            "randint": st.randint(1, 10), "expon": st.expon(), "beta": st.beta(2, 3), "poisson": st.poisson(3),
            "gamma": st.gamma(2), "truncnorm": st.truncnorm(-1, 1)}
    ctx.dump("scipy", "frozen_distributions.pkl", objs, protocol=4,
             note="frozen distributions as RandomizedSearchCV param_distributions hold them")
    for name in sorted(dir(st)):
        d = getattr(st, name)
        if isinstance(d, (st.rv_continuous, st.rv_discrete)):
            try:
                ctx.mem("scipy", f"stats.{name}", pickle.dumps(d, protocol=4))
            except Exception:
                pass


def s_interp_spatial(ctx):
    import numpy as np
    from scipy import interpolate, optimize, spatial

    x = np.linspace(0, 1, 8)
    y = x ** 2
    objs = {"interp1d": interpolate.interp1d(x, y), "cubic": interpolate.CubicSpline(x, y),
            "univariate": interpolate.UnivariateSpline(x, y), "pchip": interpolate.PchipInterpolator(x, y),
            "rbf": interpolate.RBFInterpolator(x[:, None], y),
            "kdtree": spatial.KDTree(np.c_[x, y]), "ckdtree": spatial.cKDTree(np.c_[x, y]),
            "opt": optimize.minimize(lambda v: float((v ** 2).sum()), np.ones(2))}
    objs["opt"].pop("jac", None)
    try:
        from scipy.spatial.transform import Rotation

        objs["rotation"] = Rotation.from_euler("z", 30, degrees=True)
    except Exception:
        pass
    ctx.dump("scipy", "interpolators_trees.pkl", objs, protocol=4,
             note="interpolators, KD-trees, Rotation, OptimizeResult")
