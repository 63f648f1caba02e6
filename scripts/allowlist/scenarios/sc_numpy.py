"""numpy arrays, scalars, dtypes, masked arrays, matrices, random generators, ufuncs."""
import pickle

REQUIRES = ["numpy"]


def _arrays():
    import numpy as np

    return {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3), "f64": np.linspace(0, 1, 4),
        "f16": np.ones(3, np.float16), "i8": np.arange(3, dtype=np.int8), "u16": np.arange(3, dtype=np.uint16),
        "i64": np.arange(3), "bool": np.array([True, False]), "c128": np.array([1 + 2j]),
        "str": np.array(["a", "bc"]), "bytes": np.array([b"a"]), "obj": np.array([{"a": 1}, None], dtype=object),
        "dt64": np.array(["2024-01-01"], dtype="datetime64[D]"), "td64": np.array([1], dtype="timedelta64[s]"),
        "struct": np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]), "fortran": np.asfortranarray(np.ones((2, 2))),
        "big_endian": np.arange(3, dtype=">i4"), "longdouble": np.ones(2, np.longdouble),
        "scalar_f": np.float64(1.5), "scalar_i": np.int32(7), "scalar_b": np.bool_(True),
        "scalar_str": np.str_("s"), "void": np.zeros(1, dtype=[("a", "i4")])[0],
        "dtype": np.dtype("float32"), "dtype_struct": np.dtype([("a", "<f8"), ("b", "O")]),
        "dtype_cls": type(np.dtype("float64")),
        "matrix": np.matrix([[1, 2], [3, 4]]),
        "masked": np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False]),
        "masked_obj": np.ma.MaskedArray(np.array(["a", "b"], dtype=object), mask=[True, False]),
        "memmap_like_view": np.arange(10)[::2],
    }


def s_arrays(ctx):
    for proto in (2, 4, 5):
        ctx.dump("numpy", f"arrays_protocol{proto}.pkl", _arrays(), protocol=proto,
                 note=f"arrays of every common dtype, scalars, dtypes, matrix, masked arrays (protocol {proto})")


def s_random(ctx):
    import numpy as np

    objs = {"legacy": np.random.RandomState(0), "seedseq": np.random.SeedSequence(1234)}
    for bg in ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64"):
        if hasattr(np.random, bg):
            objs[bg] = np.random.Generator(getattr(np.random, bg)(0))
            objs[bg + "_bitgen"] = getattr(np.random, bg)(1)
    objs["default_rng"] = np.random.default_rng(0)
    ctx.dump("numpy", "random_generators.pkl", objs, protocol=4,
             note="RandomState, SeedSequence, Generator and every bit generator")


def s_ufuncs(ctx):
    import numpy as np

    fns = {n: getattr(np, n) for n in ("log1p", "expm1", "log", "exp", "sqrt", "abs", "sin", "tanh", "add",
                                       "maximum", "clip", "square", "reciprocal", "negative", "sign", "floor")
           if hasattr(np, n)}
    ctx.dump("numpy", "ufuncs_and_functions.pkl", {**fns, "mean": np.mean, "median": np.median, "nanmean": np.nanmean,
                                                   "sum": np.sum, "arcsinh": np.arcsinh},
             protocol=4, note="ufuncs and array functions stored as values (e.g. FunctionTransformer(func))")
    # Every ufunc in the numpy namespace is a pure array function: pickle each by reference.
    for name in sorted(dir(np)):
        v = getattr(np, name)
        if isinstance(v, np.ufunc):
            ctx.mem("numpy", f"ufunc {name}", pickle.dumps(v, protocol=4))


def s_npy(ctx):
    import numpy as np

    p = ctx.path("numpy", "object_array.npy")
    np.save(p, np.array([{"label": "cat"}, [1, 2], "x"], dtype=object), allow_pickle=True)
    ctx.add(p, "numpy", "numpy.save(allow_pickle=True)", "object-dtype .npy (a pickle after the header)")
    p = ctx.path("numpy", "mixed.npz")
    np.savez(p, a=np.arange(3), b=np.array([None, "s"], dtype=object))
    ctx.add(p, "numpy", "numpy.savez", ".npz with a numeric and an object array")


def s_dtypes(ctx):
    import numpy as np

    for code in ("?", "b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "e", "f", "d", "g", "F", "D", "G",
                 "S3", "U3", "V4", "O", "M8[ns]", "m8[ns]", "<i4", ">f8"):
        ctx.mem("numpy", f"dtype {code}", pickle.dumps(np.dtype(code), protocol=4))
        try:
            ctx.mem("numpy", f"scalar {code}", pickle.dumps(np.zeros(1, code)[0], protocol=4))
            ctx.mem("numpy", f"scalar type {code}", pickle.dumps(np.zeros(1, code)[0].__class__, protocol=4))
        except Exception:
            pass
        try:
            ctx.mem("numpy", f"dtype class {code}", pickle.dumps(type(np.dtype(code)), protocol=4))
        except Exception:
            pass


def s_enumerate(ctx):
    """numpy.dtypes classes (numpy >= 1.25) and the scalar types."""
    import inspect

    import numpy as np

    try:
        import numpy.dtypes as nd

        for n, v in vars(nd).items():
            if inspect.isclass(v) and issubclass(v, np.dtype):
                ctx.enum("numpy", "numpy.dtypes", n, "object")
    except ImportError:
        pass
    for n in dir(np):
        v = getattr(np, n)
        if inspect.isclass(v) and issubclass(v, np.generic) and not n.startswith("_"):
            ctx.enum("numpy", "numpy", n, "call")
    # Pickle-support constructors numpy.random still exports for files older numpy versions
    # wrote (numpy < 1.17 pickled RandomState through numpy.random.__RandomState_ctor):
    # every module-level function of numpy.random and numpy.random._pickle whose name says it
    # is a constructor, called as a pickle would call it. The review reads their bodies.
    import numpy.random as nr

    for mod in (nr, getattr(nr, "_pickle", None)):
        for n, v in sorted(vars(mod).items()) if mod else []:
            if inspect.isfunction(v) and n.lower().endswith("_ctor"):
                ctx.enum("numpy", mod.__name__, n, "call")
