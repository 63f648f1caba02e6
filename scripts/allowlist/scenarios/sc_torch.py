"""torch: tensors of every dtype and layout, state dicts and whole modules (zip and legacy
formats), optimizers and LR schedulers, AMP scaler, RNG state, quantized and parametrized
modules; then every torch.nn module class enumerated and pickled whole in memory."""
import io
import pickle

REQUIRES = ["torch"]


def _both(ctx, name, obj, note):
    ctx.dump("torch", f"{name}.pt", obj, writer="torch.save", note=note + " (zip format)")
    ctx.dump("torch", f"{name}_legacy.pt", obj, writer="torch.save", note=note + " (legacy format)",
             _use_new_zipfile_serialization=False)


def _net():
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.1), nn.Flatten(),
        nn.Linear(4, 3), nn.LayerNorm(3), nn.GELU(), nn.Embedding(5, 3), nn.LSTM(3, 3), nn.GRU(3, 3),
        nn.MultiheadAttention(4, 2), nn.TransformerEncoderLayer(4, 2, 8), nn.Identity(), nn.Softmax(-1),
        nn.ModuleList([nn.Linear(2, 2)]), nn.ModuleDict({"a": nn.Tanh()}), nn.Upsample(scale_factor=2),
        nn.GroupNorm(2, 4), nn.ConvTranspose1d(2, 2, 3), nn.SiLU(), nn.PReLU(), nn.AdaptiveAvgPool2d(1))


def _picklable(v):
    import torch

    try:
        torch.save(v, io.BytesIO())
        return True
    except Exception:
        return False


def s_tensors(ctx):
    import torch

    t = {}
    for name in ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
                 "complex64", "complex128", "float8_e4m3fn", "float8_e5m2", "uint16", "uint32", "uint64"):
        dt = getattr(torch, name, None)
        if dt is None:
            continue
        try:
            t[name] = torch.zeros(2, 3, dtype=dt)
        except Exception:
            pass
    t["view"] = torch.arange(10.0)[2:8:2]
    t["channels_last"] = torch.zeros(1, 3, 2, 2).to(memory_format=torch.channels_last)
    t["param"] = torch.nn.Parameter(torch.ones(2))
    t["sparse_coo"] = torch.eye(3).to_sparse()
    try:
        t["sparse_csr"] = torch.eye(3).to_sparse_csr()
    except Exception:
        pass
    t["qint8"] = torch.quantize_per_tensor(torch.ones(3), 0.1, 0, torch.qint8)
    t["qchannel"] = torch.quantize_per_channel(torch.ones(2, 2), torch.tensor([0.1, 0.2]), torch.tensor([0, 0]), 0, torch.quint8)
    try:
        t["nested"] = torch.nested.nested_tensor([torch.ones(2), torch.ones(3)])
    except Exception:
        pass
    t["meta"] = {"dtype": torch.float16, "device": torch.device("cpu"), "size": torch.Size([2, 3]),
                 "layout": torch.strided, "memory_format": torch.contiguous_format, "finfo": torch.finfo(torch.float32),
                 "iinfo": torch.iinfo(torch.int8)}
    # torch >= 2.10 cannot pickle finfo/iinfo/memory formats: keep only what this torch can pickle
    t["meta"] = {k: v for k, v in t["meta"].items() if _picklable(v)}
    t = {k: v for k, v in t.items() if k == "meta" or _picklable(v)}
    _both(ctx, "tensors_all_dtypes", t, "tensors of every dtype, views, sparse, quantized, nested, dtype/device/Size values")
    ctx.dump("torch", "tensor_pickle_protocol2.pkl", {"w": torch.ones(2), "dtype": torch.float32}, protocol=2,
             note="tensors written with plain pickle (torch's __reduce_ex__)")
    ctx.dump("torch", "rng_state.pt", {"cpu": torch.get_rng_state(), "generator": torch.Generator().manual_seed(0).get_state()},
             writer="torch.save", note="RNG states")


def s_modules(ctx):
    import torch

    net = _net()
    _both(ctx, "sequential_state_dict", net.state_dict(), "state_dict of a Sequential of common layers")
    _both(ctx, "sequential_full_model", net, "a whole nn.Sequential of common layers (torch.save(model))")
    tr = torch.nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8,
                              activation=torch.nn.functional.gelu)
    ctx.dump("torch", "transformer_full_model.pt", tr, writer="torch.save", note="nn.Transformer with activation=F.gelu")
    ctx.dump("torch", "rnn_full_models.pt", {"lstm": torch.nn.LSTM(2, 2, bidirectional=True), "rnn": torch.nn.RNN(2, 2)},
             writer="torch.save", note="whole RNN modules")


def s_optim(ctx):
    import torch

    net = torch.nn.Linear(3, 2)
    opts = {}
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "LBFGS", "SparseAdam", "Adafactor"):
        cls = getattr(torch.optim, name, None)
        if cls is None:
            continue
        try:
            o = cls(net.parameters(), lr=0.01) if name != "SparseAdam" else cls([torch.nn.Parameter(torch.ones(2))], lr=0.01)
        except Exception:
            continue
        net(torch.ones(1, 3)).sum().backward()
        try:
            o.step() if name != "LBFGS" else o.step(lambda: net(torch.ones(1, 3)).sum())
        except Exception:
            pass
        opts[name] = o
    _both(ctx, "optimizer_state_dicts", {k: v.state_dict() for k, v in opts.items()}, "state_dict of every optimizer")
    full = {}
    for k, v in opts.items():
        try:
            ctx.mem("torch", f"optimizer {k}", pickle.dumps(v, protocol=4))
            full[k] = v
        except Exception:
            pass
    ctx.dump("torch", "optimizers_full.pt", {k: full[k] for k in ("SGD", "Adam", "AdamW") if k in full and _picklable(full[k])}, writer="torch.save",
             note="whole optimizer objects")
    o = torch.optim.SGD(net.parameters(), lr=0.1)
    S = torch.optim.lr_scheduler
    scheds = {}
    makers = {
        "StepLR": lambda: S.StepLR(o, 2), "MultiStepLR": lambda: S.MultiStepLR(o, [1, 2]),
        "ExponentialLR": lambda: S.ExponentialLR(o, 0.9), "CosineAnnealingLR": lambda: S.CosineAnnealingLR(o, 5),
        "OneCycleLR": lambda: S.OneCycleLR(o, max_lr=0.1, total_steps=10), "CyclicLR": lambda: S.CyclicLR(o, 0.01, 0.1),
        "ReduceLROnPlateau": lambda: S.ReduceLROnPlateau(o), "LinearLR": lambda: S.LinearLR(o),
        "ConstantLR": lambda: S.ConstantLR(o), "PolynomialLR": lambda: S.PolynomialLR(o),
        "CosineAnnealingWarmRestarts": lambda: S.CosineAnnealingWarmRestarts(o, 3),
        "LambdaLR": lambda: S.LambdaLR(o, lambda e: 0.9 ** e),
    }
    for k, mk in makers.items():
        try:
            scheds[k] = mk()
        except Exception:
            pass
    # torch 1.13's CyclicLR.state_dict() holds a WeakMethod (cannot be saved): keep what this torch can save
    sds = {k: v.state_dict() for k, v in scheds.items()}
    _both(ctx, "lr_scheduler_state_dicts", {k: v for k, v in sds.items() if _picklable(v)}, "state_dict of every LR scheduler")
    for k, v in scheds.items():
        try:
            ctx.mem("torch", f"scheduler {k}", pickle.dumps(v, protocol=4))
        except Exception:
            pass
    for mod in ("torch.cuda.amp", "torch.amp"):
        try:
            import importlib

            sc = importlib.import_module(mod).GradScaler(enabled=False)
            ctx.mem("torch", f"{mod}.GradScaler", pickle.dumps(sc, protocol=4))
            ctx.mem("torch", f"{mod}.GradScaler state", pickle.dumps(sc.state_dict(), protocol=4))
        except Exception:
            pass


def s_special_modules(ctx):
    import torch
    import torch.nn.utils.prune as prune

    lin = torch.nn.Linear(4, 4)
    prune.l1_unstructured(lin, "weight", amount=0.5)
    objs = {"pruned": lin}
    try:
        from torch.nn.utils import parametrizations

        objs["weight_norm"] = parametrizations.weight_norm(torch.nn.Linear(3, 3))
        objs["spectral_norm"] = parametrizations.spectral_norm(torch.nn.Linear(3, 3))
        objs["orthogonal"] = parametrizations.orthogonal(torch.nn.Linear(3, 3))
    except Exception:
        pass
    objs["old_weight_norm"] = torch.nn.utils.weight_norm(torch.nn.Linear(2, 2))
    # newer torch refuses to pickle parametrized modules whole: keep what this torch can save
    objs = {k: v for k, v in objs.items() if _picklable(v)}
    ctx.dump("torch", "pruned_parametrized_modules.pt", objs, writer="torch.save",
             note="pruned and parametrized (weight/spectral norm, orthogonal) modules")
    try:
        q = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(torch.nn.Linear(4, 4)), {torch.nn.Linear}, dtype=torch.qint8)
        ctx.dump("torch", "dynamic_quantized_model.pt", q, writer="torch.save", note="quantize_dynamic(Linear) whole model")
        ctx.dump("torch", "dynamic_quantized_state_dict.pt", q.state_dict(), writer="torch.save",
                 note="quantize_dynamic(Linear) state_dict")
    except Exception:
        pass
    ds = torch.utils.data.TensorDataset(torch.ones(4, 2), torch.zeros(4))
    ctx.dump("torch", "dataset_dataloader.pt", {"ds": ds, "dl": torch.utils.data.DataLoader(ds, batch_size=2)},
             writer="torch.save", note="TensorDataset and DataLoader", corpus=False)


def s_all_nn_modules(ctx):
    """Every class in torch.nn (and torch.ao.nn) that subclasses nn.Module, enumerated; those
    that construct without arguments are also pickled whole in memory."""
    import importlib
    import inspect
    import pkgutil

    import torch

    seen = set()
    for pkgname in ("torch.nn", "torch.ao.nn"):
        try:
            pkg = importlib.import_module(pkgname)
        except Exception:
            continue
        for mi in pkgutil.walk_packages(pkg.__path__, pkgname + "."):
            if "test" in mi.name:
                continue
            try:
                mod = importlib.import_module(mi.name)
            except Exception:
                continue
            for attr, v in list(vars(mod).items()):
                if inspect.isclass(v) and issubclass(v, torch.nn.Module) and v.__module__ == mi.name and v not in seen:
                    seen.add(v)
                    ctx.enum("torch", v.__module__, v.__qualname__, "object")
                    try:
                        ctx.mem("torch", f"nn {v.__qualname__}", pickle.dumps(v(), protocol=2))
                    except Exception:
                        pass
    for name in dir(torch.nn.functional):
        f = getattr(torch.nn.functional, name)
        if callable(f) and not name.startswith("_") and not inspect.ismodule(f) and not inspect.isclass(f):
            if getattr(f, "__module__", None) in ("torch.nn.functional",):
                ctx.enum("torch", "torch.nn.functional", name, "ref")
    for name in dir(torch.optim):
        v = getattr(torch.optim, name)
        if inspect.isclass(v) and issubclass(v, torch.optim.Optimizer):
            ctx.enum("torch", v.__module__, v.__qualname__, "object")
    S = torch.optim.lr_scheduler
    for name in dir(S):
        v = getattr(S, name)
        if inspect.isclass(v) and v.__module__ == S.__name__ and not name.startswith("_"):
            ctx.enum("torch", v.__module__, v.__qualname__, "object")


def s_enumerate_torchscript(ctx):
    """torch.jit._pickle list builders that TorchScript archives' pickles call."""
    import torch.jit._pickle as jp

    for n, v in vars(jp).items():
        if callable(v) and getattr(v, "__module__", "") == jp.__name__:
            ctx.enum("torch", jp.__name__, n, "call")
