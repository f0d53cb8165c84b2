"""Networks of the embedded model, written for this project (diffusers-like structure so the
configs in the model folder describe them truthfully).

- AutoencoderKL-like VAE: encoder (conv_in, per level `layers_per_block` resnets, downsample except
  at the last level, mid block resnet/attention/resnet, norm, silu, conv_out to 2*latent, 1x1 quant conv),
  decoder mirrored with layers_per_block+1 resnets per level.
- CLIP-like text encoder: the 49408 CLIP ids are remapped inside the model to a small table
  (known caption words get their own rows, every other id one "unknown" row), learned positions,
  pre-LayerNorm transformer layers with CLIP's causal mask and quick_gelu, final LayerNorm.
- UNet2DCondition-like UNet: sinusoidal timestep embedding (flip_sin_to_cos, freq_shift 0) + MLP,
  CrossAttnDown/Up blocks with resnets and spatial transformers (self-attention, cross-attention on the
  text states, GEGLU feed-forward), mid block, skip connections.
- Evaluator: a small CNN classifier for the attributes of real images.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- building blocks
class ResBlock(nn.Module):
    def __init__(self, cin, cout, groups, temb=None, eps=1e-6):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout) if temb else None
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.temb is not None:
            h = h + self.temb(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


def attention(q, k, v, heads, mask=None):
    b, n, c = q.shape
    m = k.shape[1]
    d = c // heads
    q = q.reshape(b, n, heads, d).transpose(1, 2)
    k = k.reshape(b, m, heads, d).transpose(1, 2)
    v = v.reshape(b, m, heads, d).transpose(1, 2)
    w = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(d))
    if mask is not None:
        w = w + mask
    w = torch.softmax(w, dim=-1)
    return torch.matmul(w, v).transpose(1, 2).reshape(b, n, c)


class Attn(nn.Module):
    def __init__(self, dim, ctx_dim, heads, bias=False):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=bias)
        self.k = nn.Linear(ctx_dim, dim, bias=bias)
        self.v = nn.Linear(ctx_dim, dim, bias=bias)
        self.o = nn.Linear(dim, dim)

    def forward(self, x, ctx=None, mask=None):
        ctx = x if ctx is None else ctx
        return self.o(attention(self.q(x), self.k(ctx), self.v(ctx), self.heads, mask))


class SpatialTransformer(nn.Module):
    """GroupNorm, 1x1 proj_in, [self-attn, cross-attn, GEGLU FF] with LayerNorms, 1x1 proj_out, residual."""

    def __init__(self, ch, ctx_dim, heads, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch, eps=1e-6)
        self.proj_in = nn.Conv2d(ch, ch, 1)
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(ch), nn.LayerNorm(ch), nn.LayerNorm(ch)
        self.attn1 = Attn(ch, ch, heads)
        self.attn2 = Attn(ch, ctx_dim, heads)
        self.ff_in = nn.Linear(ch, ch * 4 * 2)
        self.ff_out = nn.Linear(ch * 4, ch)
        self.proj_out = nn.Conv2d(ch, ch, 1)

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        y = self.proj_in(self.norm(x)).flatten(2).transpose(1, 2)
        y = y + self.attn1(self.ln1(y))
        y = y + self.attn2(self.ln2(y), ctx)
        a, g = self.ff_in(self.ln3(y)).chunk(2, dim=-1)
        y = y + self.ff_out(a * F.gelu(g))
        y = y.transpose(1, 2).reshape(b, c, h, w)
        return x + self.proj_out(y)


class Down(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Up(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class VaeAttn(nn.Module):
    def __init__(self, ch, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch, eps=1e-6)
        self.attn = Attn(ch, ch, 1, bias=True)

    def forward(self, x):
        b, c, h, w = x.shape
        y = self.norm(x).flatten(2).transpose(1, 2)
        return x + self.attn(y).transpose(1, 2).reshape(b, c, h, w)


# ---------------------------------------------------------------- VAE
class Encoder(nn.Module):
    def __init__(self, chans, layers, groups, latent):
        super().__init__()
        self.conv_in = nn.Conv2d(3, chans[0], 3, padding=1)
        blocks = []
        c = chans[0]
        for i, co in enumerate(chans):
            for _ in range(layers):
                blocks.append(ResBlock(c, co, groups))
                c = co
            if i < len(chans) - 1:
                blocks.append(Down(c))
        self.blocks = nn.ModuleList(blocks)
        self.mid1, self.mid_attn, self.mid2 = ResBlock(c, c, groups), VaeAttn(c, groups), ResBlock(c, c, groups)
        self.norm = nn.GroupNorm(groups, c, eps=1e-6)
        self.conv_out = nn.Conv2d(c, 2 * latent, 3, padding=1)
        self.quant = nn.Conv2d(2 * latent, 2 * latent, 1)

    def forward(self, x):
        h = self.conv_in(x)
        for b in self.blocks:
            h = b(h)
        h = self.mid2(self.mid_attn(self.mid1(h)))
        return self.quant(self.conv_out(F.silu(self.norm(h))))


class Decoder(nn.Module):
    def __init__(self, chans, layers, groups, latent):
        super().__init__()
        rc = list(reversed(chans))
        c = rc[0]
        self.post_quant = nn.Conv2d(latent, latent, 1)
        self.conv_in = nn.Conv2d(latent, c, 3, padding=1)
        self.mid1, self.mid_attn, self.mid2 = ResBlock(c, c, groups), VaeAttn(c, groups), ResBlock(c, c, groups)
        blocks = []
        for i, co in enumerate(rc):
            for _ in range(layers + 1):
                blocks.append(ResBlock(c, co, groups))
                c = co
            if i < len(rc) - 1:
                blocks.append(Up(c))
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.GroupNorm(groups, c, eps=1e-6)
        self.conv_out = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(self.post_quant(z))
        h = self.mid2(self.mid_attn(self.mid1(h)))
        for b in self.blocks:
            h = b(h)
        return self.conv_out(F.silu(self.norm(h)))


class VAE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg  # block_out_channels etc., for the export and the latent size
        a = (cfg["block_out_channels"], cfg["layers_per_block"], cfg["norm_num_groups"], cfg["latent_channels"])
        self.encoder = Encoder(*a)
        self.decoder = Decoder(*a)

    def encode(self, x):
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        # offset so that training starts from a narrow posterior (std ~0.02) instead of unit noise
        return mean, (logvar - 8.0).clamp(-30, 20)


# ---------------------------------------------------------------- text encoder
class TextLayer(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attn(d, d, heads, bias=True)
        self.fc1, self.fc2 = nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask=mask)
        h = self.fc1(self.ln2(x))
        return x + self.fc2(h * torch.sigmoid(1.702 * h))


class TextEncoder(nn.Module):
    """input_ids [b,77] (CLIP ids) -> last_hidden_state [b,77,d], pooler_output [b,d] (state at the first EOS)."""

    def __init__(self, cfg, remap):
        super().__init__()
        d = cfg["hidden_size"]
        self.register_buffer("remap", torch.as_tensor(remap, dtype=torch.long))  # [49408] -> row
        rows = int(self.remap.max()) + 1
        self.tok = nn.Embedding(rows, d)
        self.pos = nn.Parameter(torch.randn(cfg["max_position_embeddings"], d) * 0.01)
        nn.init.normal_(self.tok.weight, std=0.02)
        self.layers = nn.ModuleList(TextLayer(d, cfg["num_attention_heads"], cfg["intermediate_size"])
                                    for _ in range(cfg["num_hidden_layers"]))
        self.final = nn.LayerNorm(d)
        n = cfg["max_position_embeddings"]
        self.register_buffer("mask", torch.full((n, n), -1e4).triu(1))

    def forward(self, input_ids):
        ids = input_ids.long()
        x = self.tok(self.remap[ids]) + self.pos
        for layer in self.layers:
            x = layer(x, self.mask)
        x = self.final(x)
        eos = torch.argmax(ids, dim=-1)
        pooled = x[torch.arange(x.shape[0]), eos]
        return x, pooled


# ---------------------------------------------------------------- UNet
def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    a = t.reshape(-1, 1).float() * freqs[None]
    return torch.cat([torch.cos(a), torch.sin(a)], dim=-1)  # flip_sin_to_cos=True, freq_shift=0


class UNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch = cfg["block_out_channels"]
        L = cfg["layers_per_block"]
        g = cfg["norm_num_groups"]
        heads = cfg["attention_head_dim"]
        ctx = cfg["cross_attention_dim"]
        self.ch0 = ch[0]
        ted = ch[0] * 4
        self.t1, self.t2 = nn.Linear(ch[0], ted), nn.Linear(ted, ted)
        self.conv_in = nn.Conv2d(cfg["in_channels"], ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        skips = [ch[0]]
        c = ch[0]
        for i, co in enumerate(ch):
            for _ in range(L):
                self.down.append(nn.ModuleList([ResBlock(c, co, g, ted, 1e-5), SpatialTransformer(co, ctx, heads, g)]))
                c = co
                skips.append(c)
            if i < len(ch) - 1:
                self.down.append(Down(c))
                skips.append(c)
        self.mid1 = ResBlock(c, c, g, ted, 1e-5)
        self.mid_attn = SpatialTransformer(c, ctx, heads, g)
        self.mid2 = ResBlock(c, c, g, ted, 1e-5)
        self.up = nn.ModuleList()
        for i, co in enumerate(reversed(ch)):
            for _ in range(L + 1):
                self.up.append(nn.ModuleList([ResBlock(c + skips.pop(), co, g, ted, 1e-5), SpatialTransformer(co, ctx, heads, g)]))
                c = co
            if i < len(ch) - 1:
                self.up.append(Up(c))
        self.norm_out = nn.GroupNorm(g, c, eps=1e-5)
        self.conv_out = nn.Conv2d(c, cfg["out_channels"], 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        emb = self.t2(F.silu(self.t1(timestep_embedding(timestep, self.ch0))))
        emb = emb.expand(sample.shape[0], -1) if emb.shape[0] == 1 else emb
        h = self.conv_in(sample)
        hs = [h]
        for m in self.down:
            if isinstance(m, Down):
                h = m(h)
            else:
                h = m[1](m[0](h, emb), encoder_hidden_states)
            hs.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb), encoder_hidden_states), emb)
        for m in self.up:
            if isinstance(m, Up):
                h = m(h)
            else:
                h = m[1](m[0](torch.cat([h, hs.pop()], dim=1), emb), encoder_hidden_states)
        return self.conv_out(F.silu(self.norm_out(h)))


# ---------------------------------------------------------------- evaluator
class Evaluator(nn.Module):
    """Small CNN: image in [-1,1] [b,3,64,64] -> logits per attribute + features [b,feat]."""

    def __init__(self, heads, feat=64):
        super().__init__()
        def blk(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(),
                                 nn.Conv2d(o, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2))
        self.body = nn.Sequential(blk(3, 24), blk(24, 48), blk(48, 64), blk(64, 96))  # -> 4x4
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(96 * 16, 128), nn.ReLU(), nn.Linear(128, feat), nn.ReLU())
        self.heads = nn.ModuleDict({k: nn.Linear(feat, n) for k, n in heads.items()})

    def forward(self, x):
        f = self.fc(self.body(x))
        return tuple(self.heads[k](f) for k in self.heads) + (f,)
