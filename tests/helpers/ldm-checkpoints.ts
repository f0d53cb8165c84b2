// Synthetic SD 1 / SD 2 checkpoints in the LDM layout for the importer's tests: every key with the
// diffusers name it must map to (written out by hand per block, independently of the importer's maps)
// and a shape. Real SD sizes cost nothing here (nothing is allocated until a tensor is read), so
// config inference can be checked at SD 1.5's true sizes; tiny sizes give files to write.
import { weightMap, type WeightRef, type WeightSource } from '../../src-core/import/weights.ts';

export interface LdmEntry {
  key: string;
  /** The diffusers name it maps to ('' where none: unused keys, EMA copies, SD 2's last text layer). */
  name: string;
  component: 'unet' | 'vae' | 'text' | 'none';
  shape: number[];
}

export interface LdmDims {
  family: 'sd1' | 'sd2';
  channels: number[];
  layers: number;
  attention: boolean[];
  context: number;
  text: { hidden: number; layers: number; ff: number; vocab: number; positions: number };
  vae: { channels: number[]; layers: number; latent: number };
  /** SD 1 files saved by old transformers lack "text_model." after "cond_stage_model.transformer.". */
  oldClipNames?: boolean;
}

/** SD 1's structure (2 layers per block, attention at every level but the last, 4 latent channels) at the given widths. */
export function sd1Dims(channels: number[], context: number, text: LdmDims['text'], vaeChannels: number[]): LdmDims {
  const attention = [true, true, true, false];
  return { family: 'sd1', channels, layers: 2, attention, context, text, vae: { channels: vaeChannels, layers: 2, latent: 4 } };
}

/** SD 1.5's text encoder, CLIP ViT-L/14. */
export const CLIP_L_TEXT: LdmDims['text'] = { hidden: 768, layers: 12, ff: 3072, vocab: 49408, positions: 77 };

export const SD15_DIMS = sd1Dims([320, 640, 1280, 1280], 768, CLIP_L_TEXT, [128, 256, 512, 512]);

export const TINY_SD1 = sd1Dims([4, 8, 8, 8], 6, { hidden: 6, layers: 2, ff: 12, vocab: 10, positions: 5 }, [4, 8, 8, 8]);

export const TINY_SD2: LdmDims = { ...TINY_SD1, family: 'sd2', text: { ...TINY_SD1.text, layers: 3 } };

const suffixed = (name: string, part: string) => (name ? `${name}.${part}` : '');

function linear(
  out: LdmEntry[],
  component: LdmEntry['component'],
  key: string,
  name: string,
  rows: number,
  cols: number,
  bias = true,
): void {
  out.push({ key: `${key}.weight`, name: suffixed(name, 'weight'), component, shape: [rows, cols] });
  if (bias) out.push({ key: `${key}.bias`, name: suffixed(name, 'bias'), component, shape: [rows] });
}
function conv(out: LdmEntry[], component: LdmEntry['component'], key: string, name: string, o: number, i: number, k: number): void {
  out.push(
    { key: `${key}.weight`, name: suffixed(name, 'weight'), component, shape: [o, i, k, k] },
    { key: `${key}.bias`, name: suffixed(name, 'bias'), component, shape: [o] },
  );
}
function norm(out: LdmEntry[], component: LdmEntry['component'], key: string, name: string, c: number): void {
  out.push(
    { key: `${key}.weight`, name: suffixed(name, 'weight'), component, shape: [c] },
    { key: `${key}.bias`, name: suffixed(name, 'bias'), component, shape: [c] },
  );
}

function unetResnet(out: LdmEntry[], key: string, name: string, cin: number, c: number, temb: number): void {
  norm(out, 'unet', `${key}.in_layers.0`, `${name}.norm1`, cin);
  conv(out, 'unet', `${key}.in_layers.2`, `${name}.conv1`, c, cin, 3);
  linear(out, 'unet', `${key}.emb_layers.1`, `${name}.time_emb_proj`, c, temb);
  norm(out, 'unet', `${key}.out_layers.0`, `${name}.norm2`, c);
  conv(out, 'unet', `${key}.out_layers.3`, `${name}.conv2`, c, c, 3);
  if (cin !== c) conv(out, 'unet', `${key}.skip_connection`, `${name}.conv_shortcut`, c, cin, 1);
}

function unetTransformer(out: LdmEntry[], key: string, name: string, c: number, d: LdmDims): void {
  const linearProj = d.family === 'sd2';
  norm(out, 'unet', `${key}.norm`, `${name}.norm`, c);
  if (linearProj) linear(out, 'unet', `${key}.proj_in`, `${name}.proj_in`, c, c);
  else conv(out, 'unet', `${key}.proj_in`, `${name}.proj_in`, c, c, 1);
  const b = `transformer_blocks.0`;
  for (const attn of ['attn1', 'attn2']) {
    const kv = attn === 'attn1' ? c : d.context;
    linear(out, 'unet', `${key}.${b}.${attn}.to_q`, `${name}.${b}.${attn}.to_q`, c, c, false);
    linear(out, 'unet', `${key}.${b}.${attn}.to_k`, `${name}.${b}.${attn}.to_k`, c, kv, false);
    linear(out, 'unet', `${key}.${b}.${attn}.to_v`, `${name}.${b}.${attn}.to_v`, c, kv, false);
    linear(out, 'unet', `${key}.${b}.${attn}.to_out.0`, `${name}.${b}.${attn}.to_out.0`, c, c);
  }
  linear(out, 'unet', `${key}.${b}.ff.net.0.proj`, `${name}.${b}.ff.net.0.proj`, 8 * c, c);
  linear(out, 'unet', `${key}.${b}.ff.net.2`, `${name}.${b}.ff.net.2`, c, 4 * c);
  for (const n of ['norm1', 'norm2', 'norm3']) norm(out, 'unet', `${key}.${b}.${n}`, `${name}.${b}.${n}`, c);
  if (linearProj) linear(out, 'unet', `${key}.proj_out`, `${name}.proj_out`, c, c);
  else conv(out, 'unet', `${key}.proj_out`, `${name}.proj_out`, c, c, 1);
}

function unetEntries(d: LdmDims, out: LdmEntry[]): void {
  const p = 'model.diffusion_model.';
  const ch = d.channels,
    temb = 4 * ch[0],
    L = ch.length;
  linear(out, 'unet', `${p}time_embed.0`, 'time_embedding.linear_1', temb, ch[0]);
  linear(out, 'unet', `${p}time_embed.2`, 'time_embedding.linear_2', temb, temb);
  conv(out, 'unet', `${p}input_blocks.0.0`, 'conv_in', ch[0], 4, 3);
  let n = 1;
  const skips = [ch[0]];
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < d.layers; j++, n++) {
      unetResnet(out, `${p}input_blocks.${n}.0`, `down_blocks.${i}.resnets.${j}`, j === 0 ? ch[Math.max(i - 1, 0)] : ch[i], ch[i], temb);
      if (d.attention[i]) unetTransformer(out, `${p}input_blocks.${n}.1`, `down_blocks.${i}.attentions.${j}`, ch[i], d);
      skips.push(ch[i]);
    }
    if (i < L - 1) {
      conv(out, 'unet', `${p}input_blocks.${n}.0.op`, `down_blocks.${i}.downsamplers.0.conv`, ch[i], ch[i], 3);
      skips.push(ch[i]);
      n++;
    }
  }
  const top = ch[L - 1];
  unetResnet(out, `${p}middle_block.0`, 'mid_block.resnets.0', top, top, temb);
  unetTransformer(out, `${p}middle_block.1`, 'mid_block.attentions.0', top, d);
  unetResnet(out, `${p}middle_block.2`, 'mid_block.resnets.1', top, top, temb);
  n = 0;
  let prev = top;
  for (let i = 0; i < L; i++) {
    const level = L - 1 - i,
      c = ch[level],
      attention = d.attention[level];
    for (let j = 0; j <= d.layers; j++, n++) {
      const cin = prev + skips.pop()!;
      unetResnet(out, `${p}output_blocks.${n}.0`, `up_blocks.${i}.resnets.${j}`, cin, c, temb);
      prev = c;
      if (attention) unetTransformer(out, `${p}output_blocks.${n}.1`, `up_blocks.${i}.attentions.${j}`, c, d);
      if (j === d.layers && i < L - 1)
        conv(out, 'unet', `${p}output_blocks.${n}.${attention ? 2 : 1}.conv`, `up_blocks.${i}.upsamplers.0.conv`, c, c, 3);
    }
  }
  norm(out, 'unet', `${p}out.0`, 'conv_norm_out', ch[0]);
  conv(out, 'unet', `${p}out.2`, 'conv_out', 4, ch[0], 3);
}

function vaeResnet(out: LdmEntry[], key: string, name: string, cin: number, c: number): void {
  norm(out, 'vae', `${key}.norm1`, `${name}.norm1`, cin);
  conv(out, 'vae', `${key}.conv1`, `${name}.conv1`, c, cin, 3);
  norm(out, 'vae', `${key}.norm2`, `${name}.norm2`, c);
  conv(out, 'vae', `${key}.conv2`, `${name}.conv2`, c, c, 3);
  if (cin !== c) conv(out, 'vae', `${key}.nin_shortcut`, `${name}.conv_shortcut`, c, cin, 1);
}

function vaeMid(out: LdmEntry[], p: string, side: string, c: number): void {
  vaeResnet(out, `${p}${side}.mid.block_1`, `${side}.mid_block.resnets.0`, c, c);
  norm(out, 'vae', `${p}${side}.mid.attn_1.norm`, `${side}.mid_block.attentions.0.group_norm`, c);
  for (const [l, h] of [
    ['q', 'to_q'],
    ['k', 'to_k'],
    ['v', 'to_v'],
    ['proj_out', 'to_out.0'],
  ]) {
    // 1x1 convolutions in LDM; the expected shape after mapping is [c, c] (see vaeLinearShape).
    conv(out, 'vae', `${p}${side}.mid.attn_1.${l}`, `${side}.mid_block.attentions.0.${h}`, c, c, 1);
  }
  vaeResnet(out, `${p}${side}.mid.block_2`, `${side}.mid_block.resnets.1`, c, c);
}

function vaeEntries(d: LdmDims, out: LdmEntry[], p = 'first_stage_model.'): void {
  const ch = d.vae.channels,
    L = ch.length;
  conv(out, 'vae', `${p}encoder.conv_in`, 'encoder.conv_in', ch[0], 3, 3);
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < d.vae.layers; j++)
      vaeResnet(
        out,
        `${p}encoder.down.${i}.block.${j}`,
        `encoder.down_blocks.${i}.resnets.${j}`,
        j === 0 ? ch[Math.max(i - 1, 0)] : ch[i],
        ch[i],
      );
    if (i < L - 1)
      conv(out, 'vae', `${p}encoder.down.${i}.downsample.conv`, `encoder.down_blocks.${i}.downsamplers.0.conv`, ch[i], ch[i], 3);
  }
  vaeMid(out, p, 'encoder', ch[L - 1]);
  norm(out, 'vae', `${p}encoder.norm_out`, 'encoder.conv_norm_out', ch[L - 1]);
  conv(out, 'vae', `${p}encoder.conv_out`, 'encoder.conv_out', 2 * d.vae.latent, ch[L - 1], 3);
  conv(out, 'vae', `${p}quant_conv`, 'quant_conv', 2 * d.vae.latent, 2 * d.vae.latent, 1);
  conv(out, 'vae', `${p}post_quant_conv`, 'post_quant_conv', d.vae.latent, d.vae.latent, 1);
  conv(out, 'vae', `${p}decoder.conv_in`, 'decoder.conv_in', ch[L - 1], d.vae.latent, 3);
  vaeMid(out, p, 'decoder', ch[L - 1]);
  for (let i = 0; i < L; i++) {
    const level = L - 1 - i; // LDM's up.N is diffusers' up_blocks.(L-1-N)
    for (let j = 0; j <= d.vae.layers; j++)
      vaeResnet(
        out,
        `${p}decoder.up.${level}.block.${j}`,
        `decoder.up_blocks.${i}.resnets.${j}`,
        j === 0 ? ch[Math.min(level + 1, L - 1)] : ch[level],
        ch[level],
      );
    if (level > 0)
      conv(out, 'vae', `${p}decoder.up.${level}.upsample.conv`, `decoder.up_blocks.${i}.upsamplers.0.conv`, ch[level], ch[level], 3);
  }
  norm(out, 'vae', `${p}decoder.norm_out`, 'decoder.conv_norm_out', ch[0]);
  conv(out, 'vae', `${p}decoder.conv_out`, 'decoder.conv_out', 3, ch[0], 3);
}

function textEntries(d: LdmDims, out: LdmEntry[]): void {
  const t = d.text,
    h = t.hidden;
  if (d.family === 'sd1') {
    const p = d.oldClipNames ? 'cond_stage_model.transformer.' : 'cond_stage_model.transformer.text_model.';
    out.push({
      key: `${p}embeddings.token_embedding.weight`,
      name: 'text_model.embeddings.token_embedding.weight',
      component: 'text',
      shape: [t.vocab, h],
    });
    out.push({
      key: `${p}embeddings.position_embedding.weight`,
      name: 'text_model.embeddings.position_embedding.weight',
      component: 'text',
      shape: [t.positions, h],
    });
    out.push({ key: `${p}embeddings.position_ids`, name: '', component: 'none', shape: [1, t.positions] });
    for (let l = 0; l < t.layers; l++) {
      const k = `${p}encoder.layers.${l}`,
        n = `text_model.encoder.layers.${l}`;
      for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj'])
        linear(out, 'text', `${k}.self_attn.${proj}`, `${n}.self_attn.${proj}`, h, h);
      norm(out, 'text', `${k}.layer_norm1`, `${n}.layer_norm1`, h);
      norm(out, 'text', `${k}.layer_norm2`, `${n}.layer_norm2`, h);
      linear(out, 'text', `${k}.mlp.fc1`, `${n}.mlp.fc1`, t.ff, h);
      linear(out, 'text', `${k}.mlp.fc2`, `${n}.mlp.fc2`, h, t.ff);
    }
    norm(out, 'text', `${p}final_layer_norm`, 'text_model.final_layer_norm', h);
    return;
  }
  const p = 'cond_stage_model.model.';
  out.push({
    key: `${p}token_embedding.weight`,
    name: 'text_model.embeddings.token_embedding.weight',
    component: 'text',
    shape: [t.vocab, h],
  });
  out.push({
    key: `${p}positional_embedding`,
    name: 'text_model.embeddings.position_embedding.weight',
    component: 'text',
    shape: [t.positions, h],
  });
  for (let l = 0; l < t.layers; l++) {
    const k = `${p}transformer.resblocks.${l}`,
      kept = l < t.layers - 1;
    const n = kept ? `text_model.encoder.layers.${l}` : '';
    const comp = kept ? 'text' : 'none';
    // The fused q/k/v: its three HF names are checked by the split test, not through this table.
    out.push({ key: `${k}.attn.in_proj_weight`, name: '', component: comp, shape: [3 * h, h] });
    out.push({ key: `${k}.attn.in_proj_bias`, name: '', component: comp, shape: [3 * h] });
    const sub = (part: string) => (kept ? `${n}.${part}` : '');
    linear(out, comp, `${k}.attn.out_proj`, sub('self_attn.out_proj'), h, h);
    norm(out, comp, `${k}.ln_1`, sub('layer_norm1'), h);
    norm(out, comp, `${k}.ln_2`, sub('layer_norm2'), h);
    linear(out, comp, `${k}.mlp.c_fc`, sub('mlp.fc1'), t.ff, h);
    linear(out, comp, `${k}.mlp.c_proj`, sub('mlp.fc2'), h, t.ff);
  }
  norm(out, 'text', `${p}ln_final`, 'text_model.final_layer_norm', h);
  out.push({ key: `${p}text_projection`, name: '', component: 'none', shape: [h, h] });
  out.push({ key: `${p}logit_scale`, name: '', component: 'none', shape: [] });
}

/** Every key of a synthetic checkpoint (UNet, VAE, text encoder, and a few EMA copies). */
export function ldmEntries(d: LdmDims, options: { ema?: boolean } = {}): LdmEntry[] {
  const out: LdmEntry[] = [];
  unetEntries(d, out);
  vaeEntries(d, out);
  textEntries(d, out);
  if (options.ema)
    out.push(
      { key: 'model_ema.decay', name: '', component: 'none', shape: [] },
      { key: 'model_ema.diffusion_modeltime_embed0weight', name: '', component: 'none', shape: [4 * d.channels[0], d.channels[0]] },
    );
  return out;
}

/** A bare VAE file's entries (no prefix), as vae-ft-mse-840000-ema-pruned.safetensors has them. */
export function ldmVaeEntries(d: LdmDims, prefix = ''): LdmEntry[] {
  const out: LdmEntry[] = [];
  vaeEntries(d, out, prefix);
  return out;
}

/** A value that identifies its tensor: entry index + 1 in the first element, then a ramp. */
export function valuesFor(index: number, shape: readonly number[]): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: count }, (_, i) => (i === 0 ? index + 1 : (index + 1) * 1000 + i));
}

/** The entries as a raw WeightSource (values made on read). */
export function entrySource(entries: LdmEntry[]): WeightSource {
  const refs = new Map<string, WeightRef>();
  entries.forEach((e, i) => refs.set(e.key, { shape: e.shape, read: () => valuesFor(i, e.shape) }));
  return weightMap(refs);
}
