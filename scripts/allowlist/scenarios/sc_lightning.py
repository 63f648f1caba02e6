"""Lightning checkpoints: a real Trainer.fit of one step with ModelCheckpoint and
EarlyStopping, hyperparameters as a dict and as an OmegaConf DictConfig; for both the
`lightning` and the `pytorch_lightning` packages (1.x keys callback state by class)."""
import importlib
import os

REQUIRES = ["torch"]


def _fit(ctx, pkg, hp_kind):
    import torch

    pl = importlib.import_module(pkg)

    class Tiny(pl.LightningModule):
        def __init__(self, hp):
            super().__init__()
            self.save_hyperparameters(hp)
            self.layer = torch.nn.Linear(2, 1)

        def training_step(self, batch, idx):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.layer(x), y)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            opt = torch.optim.Adam(self.parameters(), lr=0.01)
            return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, 1)}

    Tiny.__module__ = "tinymodel"
    Tiny.__qualname__ = "Tiny"
    if hp_kind == "omegaconf":
        from omegaconf import OmegaConf

        hp = OmegaConf.create({"lr": 0.01, "model": {"width": 2, "layers": [1, 2]}})
    else:
        hp = {"lr": 0.01, "width": 2}
    ds = torch.utils.data.TensorDataset(torch.ones(4, 2), torch.zeros(4, 1))
    dl = torch.utils.data.DataLoader(ds, batch_size=2)
    cb = getattr(pl, "callbacks", None) or importlib.import_module(pkg + ".pytorch").callbacks
    d = f"{pkg}_{hp_kind}_ckpt"
    ckpt = cb.ModelCheckpoint(dirpath=d, monitor="train_loss", save_last=True)
    es = cb.EarlyStopping(monitor="train_loss", patience=3)
    kw = dict(max_epochs=1, logger=False, default_root_dir=d, callbacks=[ckpt, es], enable_progress_bar=False)
    try:
        tr = pl.Trainer(accelerator="cpu", enable_model_summary=False, **kw)
    except TypeError:
        kw.pop("enable_progress_bar")
        tr = pl.Trainer(weights_summary=None, progress_bar_refresh_rate=0, **kw)
    tr.fit(Tiny(hp), dl)
    lib = pkg
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".ckpt"):
            dest = ctx.path(lib, f"{hp_kind}_{'last' if fn.startswith('last') else 'best'}.ckpt")
            os.replace(os.path.join(d, fn), dest)
            ctx.add(dest, lib, "Trainer checkpoint (ModelCheckpoint)",
                    f"1-step fit, hparams as {hp_kind}, ModelCheckpoint+EarlyStopping state, Adam+StepLR")


def s_pytorch_lightning(ctx):
    if importlib.util.find_spec("pytorch_lightning") is None:
        return
    _fit(ctx, "pytorch_lightning", "dict")
    if importlib.util.find_spec("omegaconf"):
        _fit(ctx, "pytorch_lightning", "omegaconf")


def s_lightning(ctx):
    if importlib.util.find_spec("lightning") is None:
        return
    _fit(ctx, "lightning", "dict")
    if importlib.util.find_spec("omegaconf"):
        _fit(ctx, "lightning", "omegaconf")


def s_omegaconf(ctx):
    if importlib.util.find_spec("omegaconf") is None:
        return
    from omegaconf import OmegaConf

    cfg = OmegaConf.create({"model": {"lr": 0.1, "layers": [1, 2], "name": "${oc.env:NOPE,default}"}, "flag": True,
                            "nested": [{"a": 1}]})
    ctx.dump("omegaconf", "dictconfig.pkl", cfg, protocol=4, note="DictConfig with nested ListConfig and an interpolation")
    ctx.dump("omegaconf", "listconfig.pkl", OmegaConf.create([1, "a", {"b": 2}]), protocol=4, note="ListConfig")
