"""gensim models through SaveLoad.save, spaCy pipelines and docs pickled, prophet models."""
import importlib
import os
import pickle

REQUIRES = []


def _has(m):
    return importlib.util.find_spec(m) is not None


TEXTS = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "ran", "in", "the", "park"], ["cats", "and", "dogs"]] * 3


def s_gensim(ctx):
    if not _has("gensim"):
        return
    from gensim import corpora, models
    from gensim.models import Doc2Vec, FastText, KeyedVectors, Word2Vec
    from gensim.models.doc2vec import TaggedDocument

    def save(obj, name, note):
        p = ctx.path("gensim", name)
        obj.save(p, sep_limit=1 << 30)
        ctx.add(p, "gensim", f"{type(obj).__name__}.save", note)
        d, base = os.path.split(p)
        for extra in sorted(os.listdir(d)):
            if extra.startswith(base + ".") and not extra.endswith(".npy"):
                ctx.add(os.path.join(d, extra), "gensim", f"{type(obj).__name__}.save", note + f" (companion file {extra[len(base):]})")

    w2v = Word2Vec(TEXTS, vector_size=4, min_count=1, seed=0, workers=1, epochs=1)
    save(w2v, "word2vec.model", "Word2Vec (vectors inline in the pickle)")
    save(w2v.wv, "word2vec.kv", "KeyedVectors")
    save(FastText(TEXTS, vector_size=4, min_count=1, seed=0, workers=1, epochs=1, bucket=50), "fasttext.model", "FastText, 50 buckets")
    save(Doc2Vec([TaggedDocument(t, [i]) for i, t in enumerate(TEXTS)], vector_size=4, min_count=1, seed=0, workers=1, epochs=1),
         "doc2vec.model", "Doc2Vec")
    d = corpora.Dictionary(TEXTS)
    save(d, "dictionary.dict", "corpora.Dictionary")
    bow = [d.doc2bow(t) for t in TEXTS]
    save(models.TfidfModel(bow), "tfidf.model", "TfidfModel")
    # SMART weighting schemes store gensim's smartirs_* functions (wrapped in partial).
    save(models.TfidfModel(bow, smartirs="ntc"), "tfidf-smartirs.model", "TfidfModel(smartirs='ntc')")
    save(models.LdaModel(bow, id2word=d, num_topics=2, random_state=0, passes=1), "lda.model", "LdaModel")
    save(models.LsiModel(bow, id2word=d, num_topics=2), "lsi.model", "LsiModel")
    from gensim.models.phrases import Phrases

    phrases = Phrases(TEXTS, min_count=1)
    save(phrases, "phrases.model", "Phrases")
    save(phrases.freeze(), "frozen-phrases.model", "Phrases.freeze() (FrozenPhrases, alias Phraser)")


def s_gensim_enumerate(ctx):
    """Every class defined in gensim's model, corpus and similarity modules, rebuilt as an
    object as SaveLoad.load rebuilds them, and every function, as a referenced value: gensim 4 still loads files that gensim 3 wrote, whose
    pickles name classes (CompatVocab behind the old `Vocab` name, ...) that no current save
    writes. The review reads each one's load-time methods."""
    if not _has("gensim"):
        return
    import inspect
    import sys

    import gensim  # noqa: F401  (imports every model module, as find_class of a gensim name does)

    for mname in sorted(m for m in sys.modules if m.startswith(("gensim.models.", "gensim.corpora.",
                                                                  "gensim.similarities."))):
        mod = sys.modules[mname]
        for n, v in sorted(vars(mod).items()):
            if getattr(v, "__module__", None) != mname or getattr(v, "__qualname__", None) != n or "test" in mname:
                continue
            if inspect.isclass(v):
                ctx.enum("gensim", mname, n, "object")
            elif inspect.isfunction(v):
                # Functions gensim models hold as attributes (TfidfModel's weighting and
                # normalisation callables, gensim 3 stored smartirs_normalize): referenced by the
                # pickle, not called by the load.
                ctx.enum("gensim", mname, n, "ref")


def s_spacy(ctx):
    if not _has("spacy"):
        return
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "ANIMAL", "pattern": "cat"}])
    tc = nlp.add_pipe("textcat")
    tc.add_label("POS")
    tc.add_label("NEG")
    nlp.initialize()
    doc = nlp("the cat sat. a dog ran.")
    ctx.dump("spacy", "blank_en_pipeline.pkl", nlp, protocol=4, note="pickle of a spaCy Language (sentencizer, entity_ruler, textcat)",
             corpus=False)
    ctx.dump("spacy", "doc.pkl", doc, protocol=4, note="pickle of a processed Doc")
    ctx.dump("spacy", "vocab.pkl", nlp.vocab, protocol=4, note="pickle of a Vocab", corpus=False)
    from spacy.tokens import DocBin

    ctx.mem("spacy", "DocBin", pickle.dumps(DocBin(docs=[doc])))
    try:
        import thinc.api as ta

        m = ta.chain(ta.Relu(4, 4), ta.Softmax(2, 4))
        m.initialize()
        ctx.mem("thinc", "thinc model", pickle.dumps(m))
    except Exception as e:
        ctx.errors.append({"scenario": "thinc model pickle", "error": f"{type(e).__name__}: {e}"})


def s_prophet(ctx):
    if not _has("prophet"):
        return
    import pandas as pd
    from prophet import Prophet

    df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=30, freq="D"), "y": [float(i % 7) for i in range(30)]})
    m = Prophet(daily_seasonality=False, weekly_seasonality=True, yearly_seasonality=False, uncertainty_samples=0)
    m.fit(df, algorithm="LBFGS", iter=50)
    m.stan_backend = None if hasattr(m, "stan_backend") and False else m.stan_backend
    ctx.dump("prophet", "prophet_model.pkl", m, protocol=4, note="fitted Prophet (pickle.dump, as its docs once showed)", corpus=False)
