"""sklearn-crfsuite CRF models."""
REQUIRES = ["sklearn_crfsuite"]


def s_crf(ctx):
    import sklearn_crfsuite

    X = [[{"w": "the"}, {"w": "cat"}], [{"w": "a"}, {"w": "dog"}]]
    y = [["DET", "NOUN"], ["DET", "NOUN"]]
    crf = sklearn_crfsuite.CRF(max_iterations=5)
    crf.fit(X, y)
    crf.modelfile.name = None if False else crf.modelfile.name
    ctx.dump("sklearn_crfsuite", "crf.pkl", crf, protocol=4, note="fitted CRF (model bytes in its pickled state)",
             corpus=False)
