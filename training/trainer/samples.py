"""Stage samples: a PNG grid drawn with PyTorch (DDIM, eta 0) in the work dir, for a look at a run's progress."""
import torch

from clip_tokenizer import tokenizer_for
from pngio import write_png, grid
from trainer.common import alphas_cumprod, latent_hw, log, tload, to_uint8
from trainer.unet import load_unet_te
from trainer.vae import load_vae

PROMPTS = ["a red circle on a blue background", "two yellow squares on black", "a green triangle on a white background",
           "a purple square on an orange background", "a small white circle in the top left corner on a red background",
           "two blue triangles on a yellow background", "an orange circle on a green background", "a black triangle on purple"]


def ddim(unet, x, cond, unc, ac, steps, guidance):
    """DDIM (eta 0) with classifier-free guidance on integer timesteps evenly spaced from 999 to 0."""
    n = len(x)
    ts = torch.linspace(999, 0, steps).round().long().to(x.device)
    for i, t in enumerate(ts):
        a = ac[t]
        e_u = unet(x, t.float().expand(n), unc)
        e_c = unet(x, t.float().expand(n), cond)
        e = e_u + guidance * (e_c - e_u)
        x0 = (x - (1 - a).sqrt() * e) / a.sqrt()
        ap = ac[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0, device=x.device)
        x = ap.sqrt() * x0 + (1 - ap).sqrt() * e
    return x


@torch.no_grad()
def stage_samples(run, guidance=5.0, steps=20):
    scale = tload(run.file("latents.pt"))["scaling_factor"]
    vae = load_vae(run)
    unet, te, s = load_unet_te(run)
    tok = tokenizer_for(run.paths.tokenizer)
    dev = run.device
    ac = alphas_cumprod().to(dev)
    g = torch.Generator().manual_seed(0)
    per = 6
    ids = torch.tensor([tok.encode77(p) for p in PROMPTS for _ in range(per)], dtype=torch.int32, device=dev)
    n = len(ids)
    cond = te(ids)[0]
    unc = te(torch.tensor([tok.encode77("")] * n, dtype=torch.int32, device=dev))[0]
    hw = latent_hw(vae.cfg)
    x = torch.randn(n, 4, hw, hw, generator=g).to(dev)  # drawn on the CPU: the same noise on any device
    x = ddim(unet, x, cond, unc, ac, steps, guidance)
    img = vae.decoder(x / scale).clamp(-1, 1)
    path = run.file(f"samples_step{s['step']}.png")
    write_png(path, grid(list(to_uint8(img)), per, 2))
    log("samples written to", path)
