"""pandas frames, series, every index kind, extension arrays and dtypes, offsets, scalars;
written with DataFrame.to_pickle (plain and compressed) and pickle.dump at protocol 2 and 5."""
REQUIRES = ["pandas"]


def _frame():
    import numpy as np
    import pandas as pd

    n = 4
    df = pd.DataFrame({
        "i": np.arange(n), "f": np.linspace(0, 1, n), "s": list("abcd"), "b": [True, False, True, False],
        "cat": pd.Categorical(list("xyxy"), categories=["x", "y"], ordered=True),
        "dt": pd.date_range("2024-01-01", periods=n, freq="D"),
        "dttz": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
        "td": pd.to_timedelta(np.arange(n), unit="s"),
        "period": pd.period_range("2024-01", periods=n, freq="M"),
        "interval": pd.IntervalIndex.from_breaks(range(n + 1)),
        "Int64": pd.array([1, None, 3, 4], dtype="Int64"), "Float64": pd.array([0.5, None, 1, 2], dtype="Float64"),
        "boolean": pd.array([True, None, False, True], dtype="boolean"),
        "string": pd.array(["a", None, "c", "d"], dtype="string"),
        "sparse": pd.arrays.SparseArray([0, 0, 1, 0]),
        "obj": [{"k": 1}, None, [1], "x"],
    })
    return df


def _indexes():
    import numpy as np
    import pandas as pd

    return {
        "range": pd.RangeIndex(5), "int": pd.Index([3, 1, 2]), "float": pd.Index([0.5, 1.5]),
        "obj": pd.Index(["a", "b"]), "multi": pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["k", "n"]),
        "datetime": pd.DatetimeIndex(["2024-01-01", "2024-02-01"]),
        "datetime_tz": pd.date_range("2024-01-01", periods=2, tz="Europe/Paris"),
        "timedelta": pd.TimedeltaIndex(["1 day", "2 days"]), "period": pd.period_range("2024Q1", periods=2, freq="Q"),
        "interval": pd.interval_range(0, 3), "categorical": pd.CategoricalIndex(["a", "b", "a"]),
        "bool": pd.Index([True, False]), "nullable": pd.Index(pd.array([1, None], dtype="Int64")),
        "series_named": pd.Series([1.0, 2.0], index=pd.Index(["x", "y"], name="key"), name="value"),
    }


def _scalars():
    import pandas as pd

    return {
        "ts": pd.Timestamp("2024-01-01 12:00"), "ts_tz": pd.Timestamp("2024-01-01", tz="US/Eastern"),
        "td": pd.Timedelta("1h"), "period": pd.Period("2024-01", freq="M"), "interval": pd.Interval(0, 1),
        "na": pd.NA, "nat": pd.NaT,
        "offsets": [pd.offsets.Day(2), pd.offsets.MonthEnd(), pd.offsets.BusinessDay(), pd.offsets.Hour(3),
                    pd.offsets.Week(weekday=0), pd.offsets.QuarterEnd(startingMonth=3), pd.offsets.DateOffset(months=1),
                    pd.offsets.YearBegin(), pd.offsets.Minute(5)],
        "dtypes": [pd.CategoricalDtype(["a"]), pd.DatetimeTZDtype(tz="UTC"), pd.PeriodDtype("D"),
                   pd.IntervalDtype("int64"), pd.SparseDtype("float64"), pd.StringDtype(), pd.BooleanDtype(),
                   pd.Int8Dtype(), pd.Int16Dtype(), pd.Int32Dtype(), pd.Int64Dtype(), pd.UInt8Dtype(),
                   pd.UInt16Dtype(), pd.UInt32Dtype(), pd.UInt64Dtype(), pd.Float32Dtype(), pd.Float64Dtype()],
    }


def s_frames(ctx):
    df = _frame()
    for comp, ext in ((None, "pkl"), ("gzip", "pkl.gz"), ("bz2", "pkl.bz2"), ("xz", "pkl.xz"), ("zip", "pkl.zip")):
        p = ctx.path("pandas", f"dataframe_all_dtypes.{ext}")
        kw = {"compression": comp} if comp else {"compression": None}
        if comp == "gzip":
            kw = {"compression": {"method": "gzip", "mtime": 0}}
        df.to_pickle(p, **kw)
        ctx.add(p, "pandas", f"DataFrame.to_pickle(compression={comp!r})",
                "DataFrame with numeric, object, categorical, datetime(tz), timedelta, period, interval, nullable, string and sparse columns")
    ctx.dump("pandas", "dataframe_protocol2.pkl", df, protocol=2, note="the same DataFrame at protocol 2 (Python 2 names)")
    ctx.dump("pandas", "series_multiindex.pkl", df.set_index(["s", "i"])["f"], protocol=5, note="Series on a MultiIndex")


def s_indexes(ctx):
    ctx.dump("pandas", "indexes.pkl", _indexes(), protocol=5, note="every index kind")
    for k, v in _indexes().items():
        import pickle

        ctx.mem("pandas", f"index {k} p2", pickle.dumps(v, protocol=2))


def s_scalars(ctx):
    ctx.dump("pandas", "scalars_offsets_dtypes.pkl", _scalars(), protocol=5,
             note="Timestamp, Timedelta, Period, Interval, NA, NaT, date offsets and extension dtypes")
    ctx.dump("pandas", "scalars_offsets_dtypes_protocol2.pkl", _scalars(), protocol=2,
             note="the same at protocol 2")


def s_groupby_results(ctx):
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({"g": list("aabb"), "v": np.arange(4.0)})
    out = {"agg": df.groupby("g").agg(["mean", "sum"]), "pivot": df.pivot_table(index="g", values="v"),
           "describe": df.describe(), "resample": pd.Series(np.arange(6.0), index=pd.date_range("2024", periods=6, freq="h")).resample("2h").mean()}
    ctx.dump("pandas", "aggregates.pkl", out, protocol=4, note="groupby/pivot/describe/resample results")


def s_compat(ctx):
    """pandas.read_pickle maps names from old pandas versions (pickle_compat): enumerated as
    the names old files contain, each mapped to the class it loads as."""
    try:
        from pandas.compat import pickle_compat as pc
    except Exception:
        return
    m = getattr(pc, "_class_locations_map", None)
    if not m:
        return
    ctx.compat = getattr(ctx, "compat", {})
    for (om, on), (nm, nn) in m.items():
        ctx.compat[(om, on)] = (nm, nn, "pandas")


def s_enumerate(ctx):
    """pandas.arrays classes and the date offset classes (pickled by calling them)."""
    import inspect

    import pandas as pd

    for n in dir(pd.arrays):
        v = getattr(pd.arrays, n)
        if inspect.isclass(v):
            ctx.enum("pandas", "pandas.arrays", n, "object")
            ctx.enum("pandas", v.__module__, v.__qualname__, "object")
    from pandas._libs.tslibs import offsets

    for n, v in vars(offsets).items():
        if inspect.isclass(v) and v.__module__ == offsets.__name__ and issubclass(v, offsets.BaseOffset):
            ctx.enum("pandas", offsets.__name__, n, "call")
