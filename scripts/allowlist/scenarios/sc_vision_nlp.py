"""ultralytics YOLO checkpoints (model built from its bundled yaml, no download) and flair."""
import importlib
import os

REQUIRES = ["torch"]


def s_ultralytics(ctx):
    if importlib.util.find_spec("ultralytics") is None:
        return
    from ultralytics import YOLO

    for cfg in ("yolov8n.yaml", "yolov8n-cls.yaml"):
        m = YOLO(cfg)
        p = ctx.path("ultralytics", cfg.replace(".yaml", "_untrained.pt"))
        m.save(p)
        ctx.add(p, "ultralytics", "YOLO.save", f"checkpoint of a YOLO model built from {cfg} (whole model pickled, half precision)",
                corpus=cfg.endswith("-cls.yaml"))


def s_flair(ctx):
    if importlib.util.find_spec("flair") is None:
        return
    import flair
    from flair.data import Corpus, Dictionary, Sentence
    from flair.embeddings import OneHotEmbeddings
    from flair.models import SequenceTagger, TextClassifier
    from flair.embeddings import DocumentRNNEmbeddings

    flair.device = "cpu"
    sents = []
    for text, tag in (("the cat sat", "A"), ("a dog ran", "B")):
        s = Sentence(text)
        for t in s:
            t.add_label("pos", "X")
        s.add_label("topic", tag)
        sents.append(s)
    corpus = Corpus(train=sents, dev=sents, test=sents)
    emb = OneHotEmbeddings.from_corpus(corpus, embedding_length=4)
    tagger = SequenceTagger(hidden_size=4, embeddings=emb, tag_dictionary=corpus.make_label_dictionary("pos"),
                            tag_type="pos", use_crf=True)
    p = ctx.path("flair", "sequence_tagger.pt")
    tagger.save(p)
    ctx.add(p, "flair", "SequenceTagger.save", "BiLSTM-CRF tagger on one-hot embeddings")
    try:
        doc = DocumentRNNEmbeddings([emb], hidden_size=4)
        clf = TextClassifier(doc, label_dictionary=corpus.make_label_dictionary("topic"), label_type="topic")
        p = ctx.path("flair", "text_classifier.pt")
        clf.save(p)
        ctx.add(p, "flair", "TextClassifier.save", "text classifier on document RNN embeddings")
    except Exception:
        pass
