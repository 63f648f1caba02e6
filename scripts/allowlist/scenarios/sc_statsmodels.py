"""statsmodels results saved with their own .save() (a pickle) and with pickle.dump."""
REQUIRES = ["statsmodels"]


def s_results(ctx):
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    rng = np.random.RandomState(0)
    df = pd.DataFrame({"x": rng.randn(40), "z": rng.randn(40)})
    df["y"] = 1 + 2 * df.x + rng.randn(40) * 0.1
    df["b"] = (df.z + rng.randn(40) > 0).astype(int)
    res = {
        "ols": sm.OLS(df.y, sm.add_constant(df[["x", "z"]])).fit(),
        "ols_formula": smf.ols("y ~ x + z", data=df).fit(),
        "logit": smf.logit("b ~ x", data=df).fit(disp=0),
        "glm": sm.GLM(df.b, sm.add_constant(df.x), family=sm.families.Binomial()).fit(),
        "wls": sm.WLS(df.y, sm.add_constant(df.x), weights=np.ones(40)).fit(),
    }
    for k, r in res.items():
        p = ctx.path("statsmodels", f"{k}_results.pickle")
        r.save(p, remove_data=True)
        ctx.add(p, "statsmodels", "Results.save(remove_data=True)", f"{k} results")
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    s = pd.Series(np.cumsum(rng.randn(30)), index=pd.date_range("2024-01-01", periods=30, freq="D"))
    ar = ARIMA(s, order=(1, 0, 0)).fit()
    p = ctx.path("statsmodels", "arima_results.pickle")
    ar.save(p)
    ctx.add(p, "statsmodels", "Results.save()", "ARIMA(1,0,0) results on a daily series")
    es = ExponentialSmoothing(s, trend="add").fit()
    ctx.dump("statsmodels", "holtwinters_results.pkl", es, protocol=4, note="ExponentialSmoothing results")
