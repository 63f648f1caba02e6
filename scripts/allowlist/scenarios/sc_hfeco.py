"""peft, diffusers, timm, sentence-transformers, accelerate: their own writers on tiny models."""
import importlib
import os
import pickle

REQUIRES = ["torch"]


def _has(m):
    return importlib.util.find_spec(m) is not None


def s_peft(ctx):
    if not (_has("peft") and _has("transformers")):
        return
    import peft
    import transformers as T

    base = T.GPT2LMHeadModel(T.GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=64, n_positions=16))
    model = peft.get_peft_model(base, peft.LoraConfig(r=2, target_modules=["c_attn"], fan_in_fan_out=True))
    d = ctx.path("peft", "lora_adapter")
    model.save_pretrained(d, safe_serialization=False)
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".bin"):
            ctx.add(os.path.join(d, fn), "peft", "PeftModel.save_pretrained(safe_serialization=False)", "LoRA adapter weights")
    ctx.dump("peft", "lora_full_model.pt", model, writer="torch.save", note="a whole PeftModel (LoRA on tiny GPT-2)")
    ctx.dump("peft", "lora_config.pkl", model.peft_config["default"], protocol=4, note="LoraConfig pickled")


def s_diffusers(ctx):
    if not _has("diffusers"):
        return
    import diffusers

    unet = diffusers.UNet2DModel(sample_size=8, in_channels=1, out_channels=1, layers_per_block=1,
                                 block_out_channels=(8, 8), norm_num_groups=4,
                                 down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"))
    ctx.dump("diffusers", "unet2d_full_model.pt", unet, writer="torch.save", note="a whole tiny UNet2DModel")
    d = ctx.path("diffusers", "unet2d_save_pretrained")
    unet.save_pretrained(d, safe_serialization=False)
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".bin"):
            ctx.add(os.path.join(d, fn), "diffusers", "ModelMixin.save_pretrained(safe_serialization=False)", "UNet2DModel weights")
    sch = {"ddpm": diffusers.DDPMScheduler(num_train_timesteps=10), "ddim": diffusers.DDIMScheduler(num_train_timesteps=10),
           "euler": diffusers.EulerDiscreteScheduler(num_train_timesteps=10)}
    ctx.dump("diffusers", "schedulers.pkl", sch, protocol=4, note="DDPM, DDIM, Euler schedulers pickled")
    try:
        vae = diffusers.AutoencoderKL(block_out_channels=(8,), norm_num_groups=4, latent_channels=2, sample_size=8)
        ctx.dump("diffusers", "vae_full_model.pt", vae, writer="torch.save", note="a whole tiny AutoencoderKL", corpus=False)
    except Exception:
        pass


def s_timm(ctx):
    if not _has("timm"):
        return
    import argparse

    import timm
    import torch

    m = timm.create_model("resnet10t", pretrained=False, num_classes=3)
    ctx.dump("timm", "resnet10t_full_model.pt", m, writer="torch.save", note="a whole timm resnet10t", corpus=False)
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=16, depth=1, num_classes=2)
    ctx.dump("timm", "vit_tiny_full_model.pt", vit, writer="torch.save", note="a whole timm ViT (depth 1, 32px)")
    from timm.utils import CheckpointSaver

    opt = torch.optim.SGD(vit.parameters(), lr=0.1)
    args = argparse.Namespace(model="vit_tiny_patch16_224", lr=0.1, epochs=1)
    d = "timm_ckpt"
    os.makedirs(d, exist_ok=True)
    saver = CheckpointSaver(vit, opt, args=args, checkpoint_dir=d, recovery_dir=d, max_history=1)
    saver.save_checkpoint(0, metric=0.5)
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".pth.tar"):
            dest = ctx.path("timm", "checkpoint_saver_" + fn.replace("-", "_"))
            os.replace(os.path.join(d, fn), dest)
            ctx.add(dest, "timm", "timm.utils.CheckpointSaver.save_checkpoint", "train.py-style checkpoint (args Namespace, optimizer)")
            break


def s_sentence_transformers(ctx):
    if not (_has("sentence_transformers") and _has("transformers")):
        return
    import transformers as T
    from sentence_transformers import SentenceTransformer, models

    d = "st_base"
    cfg = T.BertConfig(num_hidden_layers=1, num_attention_heads=2, hidden_size=8, intermediate_size=16, vocab_size=64,
                       max_position_embeddings=16)
    T.BertModel(cfg).save_pretrained(d)
    with open(os.path.join(d, "vocab.txt"), "w") as fh:
        fh.write("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(59)]) + "\n")
    T.BertTokenizerFast(os.path.join(d, "vocab.txt")).save_pretrained(d)
    tr = models.Transformer(d)
    st = SentenceTransformer(modules=[tr, models.Pooling(tr.get_word_embedding_dimension())], device="cpu")
    ctx.dump("sentence_transformers", "sentence_transformer_full_model.pt", st, writer="torch.save",
             note="a whole SentenceTransformer (tiny BERT + mean pooling)", corpus=False)
    out = "st_saved"
    st.save(out, safe_serialization=False)
    for root, _, files in sorted(os.walk(out)):
        for fn in sorted(files):
            if fn.endswith((".bin", ".pt", ".pth")):
                p = os.path.join(root, fn)
                dest = ctx.path("sentence_transformers", "save_" + os.path.relpath(p, out).replace("/", "_"))
                os.replace(p, dest)
                ctx.add(dest, "sentence_transformers", "SentenceTransformer.save(safe_serialization=False)", "module weights")


def s_accelerate(ctx):
    if not _has("accelerate"):
        return
    import torch
    from accelerate import Accelerator

    acc = Accelerator(cpu=True)
    net = torch.nn.Linear(2, 2)
    opt = torch.optim.AdamW(net.parameters())
    sch = torch.optim.lr_scheduler.LinearLR(opt)
    net, opt, sch = acc.prepare(net, opt, sch)
    d = "acc_state"
    acc.save_state(d, safe_serialization=False) if "safe_serialization" in acc.save_state.__code__.co_varnames else acc.save_state(d)
    for fn in sorted(os.listdir(d)):
        if fn.endswith((".bin", ".pkl", ".pt", ".pth")):
            dest = ctx.path("accelerate", "save_state_" + fn)
            os.replace(os.path.join(d, fn), dest)
            ctx.add(dest, "accelerate", "Accelerator.save_state", f"{fn} of Accelerator.save_state")
    for m, n in (("accelerate.state", "PartialState"), ("accelerate.utils.dataclasses", "DistributedType")):
        try:
            obj = getattr(importlib.import_module(m), n)
            ctx.mem("accelerate", n, pickle.dumps(obj.NO if n == "DistributedType" else obj, protocol=4))
        except Exception:
            pass
