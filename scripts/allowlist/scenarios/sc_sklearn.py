"""scikit-learn: fitted estimators of many kinds, pipelines, search results, text features,
with pickle and joblib (plain and every compression); then every estimator that
sklearn.utils.all_estimators lists, fitted on a small bundled data set and pickled in memory."""
import pickle

REQUIRES = ["sklearn"]


def _data():
    from sklearn.datasets import load_diabetes, load_iris

    X, y = load_iris(return_X_y=True)
    Xr, yr = load_diabetes(return_X_y=True)
    return X, y, Xr[:120], yr[:120]


def _zoo():
    import numpy as np
    from sklearn import (calibration, cluster, compose, decomposition, discriminant_analysis, ensemble,
                         feature_extraction, feature_selection, gaussian_process, impute, isotonic, kernel_approximation,
                         linear_model, manifold, mixture, model_selection, naive_bayes, neighbors, neural_network,
                         pipeline, preprocessing, svm, tree)

    X, y, Xr, yr = _data()
    m = {}
    m["logreg"] = linear_model.LogisticRegression(max_iter=500).fit(X, y)
    m["svc"] = svm.SVC(probability=True, random_state=0).fit(X, y)
    m["linsvc"] = svm.LinearSVC(random_state=0).fit(X, y)
    m["rf"] = ensemble.RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    m["et"] = ensemble.ExtraTreesRegressor(n_estimators=3, random_state=0).fit(Xr, yr)
    m["gbc"] = ensemble.GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X, y)
    m["gbr"] = ensemble.GradientBoostingRegressor(n_estimators=3, random_state=0).fit(Xr, yr)
    m["gbr_huber"] = ensemble.GradientBoostingRegressor(loss="huber", n_estimators=2, random_state=0).fit(Xr, yr)
    m["hgb"] = ensemble.HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y)
    m["hgbr"] = ensemble.HistGradientBoostingRegressor(max_iter=3, loss="poisson", random_state=0).fit(Xr, np.abs(yr))
    m["ada"] = ensemble.AdaBoostClassifier(n_estimators=3, random_state=0).fit(X, y)
    m["bag"] = ensemble.BaggingRegressor(n_estimators=2, random_state=0).fit(Xr, yr)
    m["iso"] = ensemble.IsolationForest(n_estimators=3, random_state=0).fit(X)
    m["vote"] = ensemble.VotingClassifier([("lr", linear_model.LogisticRegression(max_iter=300)),
                                           ("nb", naive_bayes.GaussianNB())], voting="soft").fit(X, y)
    m["stack"] = ensemble.StackingRegressor([("r", linear_model.Ridge()), ("t", tree.DecisionTreeRegressor(max_depth=2))],
                                            final_estimator=linear_model.LinearRegression()).fit(Xr, yr)
    m["dt"] = tree.DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    m["knn"] = neighbors.KNeighborsClassifier(algorithm="kd_tree").fit(X, y)
    m["knn_ball"] = neighbors.KNeighborsRegressor(algorithm="ball_tree").fit(Xr, yr)
    m["nn"] = neighbors.NearestNeighbors(n_neighbors=2).fit(X)
    m["lof"] = neighbors.LocalOutlierFactor(novelty=True).fit(X)
    m["kde"] = neighbors.KernelDensity().fit(X)
    m["mlp"] = neural_network.MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0).fit(X, y)
    m["kmeans"] = cluster.KMeans(n_clusters=3, n_init=1, random_state=0).fit(X)
    m["minibatch"] = cluster.MiniBatchKMeans(n_clusters=3, n_init=1, random_state=0).fit(X)
    m["dbscan"] = cluster.DBSCAN().fit(X)
    m["agglo"] = cluster.AgglomerativeClustering(n_clusters=3).fit(X)
    m["pca"] = decomposition.PCA(n_components=2).fit(X)
    m["tsvd"] = decomposition.TruncatedSVD(n_components=2, random_state=0).fit(X)
    m["nmf"] = decomposition.NMF(n_components=2, max_iter=50, random_state=0).fit(X)
    m["lda"] = discriminant_analysis.LinearDiscriminantAnalysis().fit(X, y)
    m["gmm"] = mixture.GaussianMixture(n_components=2, random_state=0).fit(X)
    m["gp"] = gaussian_process.GaussianProcessRegressor(
        kernel=gaussian_process.kernels.RBF() + gaussian_process.kernels.WhiteKernel(), random_state=0).fit(Xr[:30], yr[:30])
    m["gpc"] = gaussian_process.GaussianProcessClassifier(kernel=gaussian_process.kernels.Matern(), random_state=0).fit(X[:60], y[:60])
    m["isotonic"] = isotonic.IsotonicRegression().fit(Xr[:, 0], yr)
    m["nb"] = naive_bayes.MultinomialNB().fit(X, y)
    m["calib"] = calibration.CalibratedClassifierCV(naive_bayes.GaussianNB(), cv=3).fit(X, y)
    m["ridge"] = linear_model.RidgeCV().fit(Xr, yr)
    m["lasso"] = linear_model.LassoCV(cv=3).fit(Xr, yr)
    m["enet"] = linear_model.ElasticNet().fit(Xr, yr)
    m["sgd"] = linear_model.SGDClassifier(random_state=0).fit(X, y)
    m["bayes"] = linear_model.BayesianRidge().fit(Xr, yr)
    m["huber"] = linear_model.HuberRegressor().fit(Xr, yr)
    m["quantile"] = linear_model.QuantileRegressor(alpha=0.0, solver="highs").fit(Xr[:40], yr[:40])
    m["poisson"] = linear_model.PoissonRegressor().fit(Xr, np.abs(yr))
    m["tweedie"] = linear_model.TweedieRegressor(power=1.5).fit(Xr, np.abs(yr))
    m["nystroem"] = kernel_approximation.Nystroem(n_components=5, random_state=0).fit(X)
    m["rbfsampler"] = kernel_approximation.RBFSampler(random_state=0).fit(X)
    m["isomap"] = manifold.Isomap(n_components=2).fit(X)
    m["tfidf"] = feature_extraction.text.TfidfVectorizer().fit(["the cat sat", "the dog ran", "a cat ran"])
    m["count"] = feature_extraction.text.CountVectorizer(ngram_range=(1, 2)).fit(["red green blue", "green blue black"])
    m["hashing"] = feature_extraction.text.HashingVectorizer(n_features=16)
    m["dictvec"] = feature_extraction.DictVectorizer().fit([{"a": 1}, {"b": 2}])
    m["selectk"] = feature_selection.SelectKBest(feature_selection.f_classif, k=2).fit(X, y)
    m["mutual"] = feature_selection.SelectKBest(feature_selection.mutual_info_regression, k=2).fit(Xr[:50], yr[:50])
    m["rfe"] = feature_selection.RFE(linear_model.LogisticRegression(max_iter=300), n_features_to_select=2).fit(X, y)
    m["varth"] = feature_selection.VarianceThreshold().fit(X)
    m["imputer"] = impute.SimpleImputer().fit(X)
    m["knnimp"] = impute.KNNImputer().fit(X)
    m["scalers"] = [preprocessing.StandardScaler().fit(X), preprocessing.MinMaxScaler().fit(X),
                    preprocessing.RobustScaler().fit(X), preprocessing.MaxAbsScaler().fit(X),
                    preprocessing.QuantileTransformer(n_quantiles=10).fit(X), preprocessing.PowerTransformer().fit(X),
                    preprocessing.Normalizer().fit(X), preprocessing.PolynomialFeatures(2).fit(X),
                    preprocessing.KBinsDiscretizer(n_bins=3).fit(X), preprocessing.SplineTransformer().fit(X),
                    preprocessing.Binarizer().fit(X)]
    m["encoders"] = [preprocessing.OneHotEncoder(handle_unknown="ignore").fit([["a"], ["b"]]),
                     preprocessing.OrdinalEncoder().fit([["a"], ["b"]]), preprocessing.LabelEncoder().fit(["x", "y"]),
                     preprocessing.LabelBinarizer().fit([0, 1, 2]), preprocessing.MultiLabelBinarizer().fit([[1], [2, 3]])]
    m["functr"] = preprocessing.FunctionTransformer(np.log1p, inverse_func=np.expm1, validate=True).fit(X)
    m["ttr"] = compose.TransformedTargetRegressor(regressor=linear_model.LinearRegression(), func=np.log1p,
                                                  inverse_func=np.expm1).fit(Xr, np.abs(yr))
    ct = compose.ColumnTransformer([("num", preprocessing.StandardScaler(), [0, 1]),
                                    ("pass", "passthrough", [2]), ("drop", "drop", [3])])
    m["pipe"] = pipeline.Pipeline([("ct", ct), ("pca", decomposition.PCA(2)),
                                   ("clf", linear_model.LogisticRegression(max_iter=300))]).fit(X, y)
    m["union"] = pipeline.FeatureUnion([("pca", decomposition.PCA(1)), ("svd", decomposition.TruncatedSVD(1))]).fit(X)
    m["grid"] = model_selection.GridSearchCV(svm.SVC(), {"C": [0.1, 1.0], "kernel": ["linear", "rbf"]}, cv=3).fit(X, y)
    try:
        from scipy.stats import loguniform, randint

        m["random"] = model_selection.RandomizedSearchCV(
            tree.DecisionTreeClassifier(random_state=0), {"max_depth": randint(1, 5), "min_impurity_decrease": loguniform(1e-4, 1e-1)},
            n_iter=3, cv=3, random_state=0, scoring=["accuracy", "f1_macro"], refit="accuracy").fit(X, y)
    except ImportError:
        pass
    m["kfold"] = model_selection.StratifiedKFold(3, shuffle=True, random_state=0)
    return m


def s_zoo(ctx):
    zoo = _zoo()
    import sklearn

    ctx.dump("sklearn", "estimator_zoo_protocol5.pkl", zoo, protocol=5,
             note="about 70 fitted estimators, pipelines and search results in one dict", corpus=False)
    groups = {
        "linear_models": ["logreg", "linsvc", "ridge", "lasso", "enet", "sgd", "bayes", "huber", "poisson", "tweedie"],
        "trees_forests": ["dt", "rf", "et", "iso", "bag", "ada"],
        "gradient_boosting": ["gbc", "gbr", "gbr_huber"],
        "hist_gradient_boosting": ["hgb", "hgbr"],
        "neighbors": ["knn", "knn_ball", "nn", "lof", "kde"],
        "svm_mlp_nb": ["svc", "mlp", "nb", "lda", "calib"],
        "clustering_decomposition": ["kmeans", "minibatch", "dbscan", "agglo", "pca", "tsvd", "nmf", "gmm", "isomap"],
        "gaussian_process": ["gp", "gpc"],
        "text_features": ["tfidf", "count", "hashing", "dictvec"],
        "preprocessing": ["scalers", "encoders", "imputer", "knnimp", "nystroem", "rbfsampler", "varth", "selectk", "mutual", "rfe"],
        "function_transformer_log1p": ["functr", "ttr"],
        "pipeline_column_transformer": ["pipe", "union"],
        "grid_search_cv": ["grid"],
        "randomized_search_cv": ["random", "kfold"],
        "ensembles_meta": ["vote", "stack", "isotonic", "quantile"],
    }
    for g, keys in groups.items():
        obj = {k: zoo[k] for k in keys if k in zoo}
        ctx.dump("sklearn", f"{g}.joblib", obj, writer="joblib.dump", note=f"fitted {', '.join(obj)}")
        ctx.dump("sklearn", f"{g}.pkl", obj, protocol=4, note=f"fitted {', '.join(obj)}")
    small = {k: zoo[k] for k in ("pipe", "gbc", "hgb")}
    for comp in (3, ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)):
        name = comp if isinstance(comp, str) else (comp[0] if isinstance(comp, tuple) else "zlib")
        ext = {"zlib": "z", "gzip": "gz", "bz2": "bz2", "xz": "xz", "lzma": "lzma"}[name]
        try:
            ctx.dump("sklearn", f"pipeline_boosting.joblib.{ext}", small, writer="joblib.dump", compress=comp,
                     note="pipeline, gradient boosting and hist gradient boosting, compressed")
        except Exception:
            pass
    try:
        import lz4  # noqa: F401

        ctx.dump("sklearn", "pipeline_boosting.joblib.lz4", small, writer="joblib.dump", compress=("lz4", 3),
                 note="lz4-compressed")
    except ImportError:
        pass
    ctx.dump("sklearn", "pipeline_boosting_protocol2.pkl", small, protocol=2, note="protocol 2 (Python 2 names)")


def _instances():
    """Every estimator sklearn lists, constructed with defaults (meta-estimators get a base)."""
    import inspect
    import warnings

    from sklearn.utils import all_estimators

    out = []
    for name, cls in all_estimators():
        params = inspect.signature(cls.__init__).parameters
        kw = {}
        try:
            from sklearn.linear_model import LinearRegression, LogisticRegression
            from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

            is_clf = "Classifier" in name or name.endswith("CV") and "Classif" in name
            base = LogisticRegression(max_iter=200) if "Classif" in name or "OneVs" in name or "OutputCode" in name \
                else LinearRegression()
            for p in ("estimator", "base_estimator", "regressor"):
                if p in params and params[p].default is inspect.Parameter.empty:
                    kw[p] = base
            if "estimators" in params and params["estimators"].default is inspect.Parameter.empty:
                kw["estimators"] = [("a", base), ("b", DecisionTreeClassifier() if "Classif" in name else DecisionTreeRegressor())]
            if "transformers" in params and params["transformers"].default is inspect.Parameter.empty:
                kw["transformers"] = [("s", "passthrough", [0])]
            if "transformer_list" in params:
                kw["transformer_list"] = [("p", "passthrough")]
            if "steps" in params:
                kw["steps"] = [("m", base)]
            if "param_grid" in params:
                kw["param_grid"] = {"fit_intercept": [True, False]}
            if "param_distributions" in params:
                kw["param_distributions"] = {"fit_intercept": [True, False]}
                kw["n_iter"] = 2
            if "score_func" in params and params["score_func"].default is inspect.Parameter.empty:
                from sklearn.feature_selection import f_classif

                kw["score_func"] = f_classif
            if name == "SparseCoder":
                import numpy as np

                kw["dictionary"] = np.eye(4)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append((name, cls, cls(**kw)))
        except Exception as e:
            out.append((name, cls, e))
    return out


def s_all_estimators(ctx):
    import warnings

    import numpy as np

    X, y, Xr, yr = _data()
    Xp = np.abs(X)
    for name, cls, est in _instances():
        ctx.enum("sklearn", cls.__module__, cls.__name__, "object")
        if isinstance(est, Exception):
            continue
        try:  # scikit-learn 1.1: an unfitted estimator whose __getstate__ sees no __dict__ fails
            ctx.mem("sklearn", f"unfitted {name}", pickle.dumps(est, protocol=4))
        except Exception:
            pass
        fitted = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for args in ((X, y), (Xp, y), (Xr, yr), (X,), (Xp,)):
                try:
                    fitted = est.fit(*args)
                    break
                except Exception:
                    continue
        if fitted is not None:
            try:
                ctx.mem("sklearn", f"fitted {name}", pickle.dumps(fitted, protocol=4))
                ctx.mem("sklearn", f"fitted {name} p2", pickle.dumps(fitted, protocol=2))
            except Exception:
                pass


def s_cython_types(ctx):
    """Cython extension types of scikit-learn and their generated unpicklers (the
    __pyx_unpickle_<Class> functions and newObj), enumerated from the compiled modules."""
    import importlib
    import pkgutil

    import sklearn

    for mi in pkgutil.walk_packages(sklearn.__path__, "sklearn."):
        n = mi.name
        if ".tests" in n or "_testing" in n or "externals" in n or "_build_utils" in n:
            continue
        try:
            mod = importlib.import_module(n)
        except Exception:
            continue
        f = getattr(mod, "__file__", "") or ""
        if not f.endswith((".so", ".pyd")):
            continue
        for attr, v in sorted(vars(mod).items()):
            if attr.startswith("__pyx_unpickle_") or attr == "newObj":
                ctx.enum("sklearn", mod.__name__, attr, "call")
            elif isinstance(v, type) and (getattr(v, "__module__", "") in (mod.__name__, mod.__name__.rsplit(".", 1)[-1])):
                ctx.enum("sklearn", v.__module__, v.__name__, "object")


def s_scorers_metrics(ctx):
    from sklearn import metrics

    scorers = {}
    for name in sorted(metrics.get_scorer_names()):
        try:
            scorers[name] = metrics.get_scorer(name)
        except Exception:
            pass
    for k, v in scorers.items():
        try:
            ctx.mem("sklearn", f"scorer {k}", pickle.dumps(v, protocol=4))
        except Exception:
            pass
    ctx.dump("sklearn", "scorers.pkl", {k: scorers[k] for k in list(scorers)[:12]}, protocol=4,
             note="scorer objects (hold metric functions by reference)")
