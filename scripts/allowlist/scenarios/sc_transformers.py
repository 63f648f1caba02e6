"""transformers: tiny models built from configs (no download), saved whole with torch.save and
with save_pretrained(safe_serialization=False); a real Trainer checkpoint (training_args.bin,
optimizer.pt, scheduler.pt, rng_state.pth); Seq2SeqTrainingArguments; tokenizers built from
scratch; GenerationConfig and BatchEncoding; then configuration and modeling classes enumerated."""
import os
import pickle
import time

REQUIRES = ["transformers", "torch"]


def _tiny(kind):
    import transformers as T

    if kind == "gpt2":
        cfg = T.GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=64, n_positions=16)
        return T.GPT2LMHeadModel(cfg)
    if kind == "bert":
        cfg = T.BertConfig(num_hidden_layers=1, num_attention_heads=2, hidden_size=8, intermediate_size=16, vocab_size=64,
                           max_position_embeddings=16)
        return T.BertForSequenceClassification(cfg)
    if kind == "t5":
        cfg = T.T5Config(num_layers=1, num_decoder_layers=1, num_heads=2, d_model=8, d_kv=4, d_ff=16, vocab_size=64)
        return T.T5ForConditionalGeneration(cfg)
    if kind == "llama":
        cfg = T.LlamaConfig(num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1, hidden_size=8,
                            intermediate_size=16, vocab_size=64, max_position_embeddings=16)
        return T.LlamaForCausalLM(cfg)
    if kind == "vit":
        cfg = T.ViTConfig(num_hidden_layers=1, num_attention_heads=2, hidden_size=8, intermediate_size=16, image_size=8,
                          patch_size=4)
        return T.ViTForImageClassification(cfg)
    if kind == "distilbert":
        cfg = T.DistilBertConfig(n_layers=1, n_heads=2, dim=8, hidden_dim=16, vocab_size=64, max_position_embeddings=16)
        return T.DistilBertForMaskedLM(cfg)
    raise ValueError(kind)


def s_models(ctx):
    import torch

    for kind in ("gpt2", "bert", "t5", "llama", "vit", "distilbert"):
        try:
            m = _tiny(kind)
        except Exception:
            continue
        ctx.dump("transformers", f"{kind}_tiny_full_model.pt", m, writer="torch.save",
                 note=f"a whole {type(m).__name__} (torch.save(model)), 1 layer, width 8")
        d = ctx.path("transformers", f"{kind}_tiny_save_pretrained")
        m.save_pretrained(d, safe_serialization=False)
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".bin"):
                ctx.add(os.path.join(d, fn), "transformers", "save_pretrained(safe_serialization=False)",
                        f"{type(m).__name__} weights")
        ctx.dump("transformers", f"{kind}_config.pkl", m.config, protocol=4, note=f"{type(m.config).__name__} pickled",
                 corpus=False)
    try:
        from transformers import GenerationConfig

        ctx.dump("transformers", "generation_config.pkl", GenerationConfig(max_new_tokens=5), protocol=4,
                 note="GenerationConfig pickled", corpus=False)
    except Exception:
        pass


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(["the cat sat on the mat", "a dog ran"], trainers.BpeTrainer(vocab_size=40, special_tokens=["[UNK]", "[PAD]"]))
    return tok, PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")


def s_tokenizers(ctx):
    tok, fast = _tokenizer()
    ctx.dump("tokenizers", "tokenizers_tokenizer.pkl", tok, protocol=4, note="tokenizers.Tokenizer (BPE) pickled")
    ctx.dump("transformers", "pretrained_tokenizer_fast.pkl", fast, protocol=4, note="PreTrainedTokenizerFast pickled")
    ctx.dump("transformers", "batch_encoding.pt", fast(["the cat", "a dog ran"], padding=True, return_tensors="pt"),
             writer="torch.save", note="BatchEncoding of tensors")
    try:
        from tokenizers import models

        ctx.mem("tokenizers", "WordPiece", pickle.dumps(models.WordPiece({"a": 0, "[UNK]": 1}, unk_token="[UNK]")))
        ctx.mem("tokenizers", "AddedToken", pickle.dumps(__import__("tokenizers").AddedToken("x")))
    except Exception:
        pass


def s_trainer(ctx):
    import torch
    from transformers import Trainer, TrainingArguments

    model = _tiny("gpt2")
    data = [{"input_ids": torch.arange(8) % 64, "labels": torch.arange(8) % 64} for _ in range(4)]
    out = "trainer_out"
    kw = dict(output_dir=out, max_steps=1, save_steps=1, per_device_train_batch_size=2, report_to=[],
              use_cpu=True, seed=0, data_seed=0, save_safetensors=True, dataloader_num_workers=0)
    args = None
    for extra in ({"logging_dir": os.path.join(out, "logs")}, {}):
        # transformers 5 removed save_safetensors; before 4.34 use_cpu was no_cuda
        for drop in ((), ("save_safetensors",), ("use_cpu",)):
            k2 = {k: v for k, v in kw.items() if k not in drop}
            if "use_cpu" in drop:
                k2["no_cuda"] = True
            try:
                args = TrainingArguments(**extra, **k2)
                break
            except TypeError:
                continue
        if args is not None:
            break
    if args is None:
        args = TrainingArguments(**kw)
    Trainer(model=model, args=args, train_dataset=data).train()
    ck = os.path.join(out, "checkpoint-1")
    for fn in sorted(os.listdir(ck)):
        if fn.endswith((".bin", ".pt", ".pth")):
            dest = ctx.path("transformers", "trainer_checkpoint_" + fn)
            os.replace(os.path.join(ck, fn), dest)
            ctx.add(dest, "transformers", "Trainer.save_model/_save_checkpoint", f"{fn} of a 1-step Trainer run (tiny GPT-2)")


def s_seq2seq_args(ctx):
    from transformers import Seq2SeqTrainingArguments, TrainingArguments

    for cls in (Seq2SeqTrainingArguments, TrainingArguments):
        a = None
        for kw in ({"logging_dir": "out/logs", "use_cpu": True}, {"use_cpu": True}, {"logging_dir": "out/logs", "no_cuda": True}):
            try:  # use_cpu is transformers >= 4.34 (no_cuda before it); logging_dir left in 5
                a = cls(output_dir="out", report_to=[], seed=0, **kw)
                break
            except TypeError:
                continue
        if a is None:
            a = cls(output_dir="out", report_to=[], seed=0)
        if hasattr(a, "predict_with_generate"):
            a.predict_with_generate = True
        name = "training_args_seq2seq.bin" if cls is Seq2SeqTrainingArguments else "training_args.bin"
        ctx.dump("transformers", name, a, writer="torch.save",
                 note=f"{cls.__name__} as Trainer writes it (torch.save(self.args))")


def s_enumerate(ctx):
    """Configuration classes (CONFIG_MAPPING) and every nn.Module subclass of each modeling
    module the auto mappings name."""
    import importlib
    import inspect

    import torch
    from transformers.models.auto import configuration_auto, modeling_auto

    for model_type in sorted(configuration_auto.CONFIG_MAPPING_NAMES):
        try:
            cfg = configuration_auto.CONFIG_MAPPING[model_type]
            ctx.enum("transformers", cfg.__module__, cfg.__name__, "object")
        except Exception:
            pass
    modules = set()
    for attr in dir(modeling_auto):
        if attr.endswith("_MAPPING_NAMES"):
            for model_type in getattr(modeling_auto, attr):
                modules.add(configuration_auto.model_type_to_module_name(model_type))
    t0 = time.time()
    for mname in sorted(modules):
        if time.time() - t0 > 600:
            break
        try:
            mod = importlib.import_module(f"transformers.models.{mname}.modeling_{mname}")
        except Exception:
            continue
        for v in vars(mod).values():
            if inspect.isclass(v) and v.__module__ == mod.__name__ and issubclass(v, torch.nn.Module):
                ctx.enum("transformers", v.__module__, v.__qualname__, "object")
    for m in ("transformers.activations", "transformers.pytorch_utils", "transformers.modeling_utils"):
        try:
            mod = importlib.import_module(m)
        except Exception:
            continue
        for v in vars(mod).values():
            if inspect.isclass(v) and v.__module__ == m and issubclass(v, torch.nn.Module):
                ctx.enum("transformers", v.__module__, v.__qualname__, "object")


def s_enumerate_tokenizers(ctx):
    import inspect

    import tokenizers.models as tm

    for n in dir(tm):
        v = getattr(tm, n)
        if inspect.isclass(v):
            ctx.enum("tokenizers", "tokenizers.models", n, "call")
