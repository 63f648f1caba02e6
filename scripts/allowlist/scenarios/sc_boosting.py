"""xgboost, lightgbm and catboost models through their scikit-learn wrappers and Boosters."""
REQUIRES = []


def _xy():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


def s_xgboost(ctx):
    import xgboost as xgb

    X, y = _xy()
    clf = xgb.XGBClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, y)
    reg = xgb.XGBRegressor(n_estimators=3, max_depth=2, random_state=0).fit(X, y.astype(float))
    booster = clf.get_booster()
    ctx.dump("xgboost", "xgbclassifier.pkl", clf, protocol=4, note="fitted XGBClassifier")
    ctx.dump("xgboost", "xgbregressor.joblib", reg, writer="joblib.dump", note="fitted XGBRegressor")
    ctx.dump("xgboost", "booster.pkl", booster, protocol=4, note="xgboost.Booster")
    extra = {}
    for n in ("XGBRanker", "XGBRFClassifier", "XGBRFRegressor"):
        if hasattr(xgb, n):
            extra[n] = getattr(xgb, n)(n_estimators=2)
    d = xgb.DMatrix(X, label=y)
    extra["dmatrix_free_booster"] = xgb.train({"max_depth": 2}, d, num_boost_round=2)
    ctx.dump("xgboost", "unfitted_wrappers.pkl", extra, protocol=4, note="ranker and random-forest wrappers, a trained Booster")


def s_lightgbm(ctx):
    import lightgbm as lgb

    X, y = _xy()
    clf = lgb.LGBMClassifier(n_estimators=3, num_leaves=4, random_state=0, verbose=-1).fit(X, y)
    reg = lgb.LGBMRegressor(n_estimators=3, num_leaves=4, random_state=0, verbose=-1).fit(X, y.astype(float))
    ctx.dump("lightgbm", "lgbmclassifier.pkl", clf, protocol=4, note="fitted LGBMClassifier")
    ctx.dump("lightgbm", "lgbmregressor.joblib", reg, writer="joblib.dump", note="fitted LGBMRegressor")
    b = lgb.train({"objective": "regression", "verbose": -1, "num_leaves": 4}, lgb.Dataset(X, y.astype(float)), num_boost_round=2)
    ctx.dump("lightgbm", "booster.pkl", b, protocol=4, note="lightgbm.Booster from lgb.train")
    ctx.dump("lightgbm", "lgbmranker_unfitted.pkl", lgb.LGBMRanker(n_estimators=2), protocol=4, note="LGBMRanker")


def s_catboost(ctx):
    import catboost as cb

    X, y = _xy()
    clf = cb.CatBoostClassifier(iterations=3, depth=2, random_seed=0, verbose=False, allow_writing_files=False).fit(X, y)
    reg = cb.CatBoostRegressor(iterations=3, depth=2, random_seed=0, verbose=False, allow_writing_files=False).fit(X, y)
    ctx.dump("catboost", "catboostclassifier.pkl", clf, protocol=4, note="fitted CatBoostClassifier", corpus=True)
    ctx.dump("catboost", "catboostregressor.joblib", reg, writer="joblib.dump", note="fitted CatBoostRegressor")
    ctx.dump("catboost", "catboost_unfitted.pkl", {"clf": cb.CatBoostClassifier(iterations=2), "ranker": cb.CatBoostRanker(iterations=2),
                                                   "pool_params": cb.CatBoost({"iterations": 2})}, protocol=4,
             note="unfitted CatBoostClassifier, CatBoostRanker, CatBoost")
