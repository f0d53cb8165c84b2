// The VAE of an LDM-layout checkpoint (keys after "first_stage_model.", or a bare VAE file) under
// diffusers' AutoencoderKL names. The decoder's levels run the other way round in LDM ("up.0" is the
// last, full-resolution level), and the mid-block attention's q/k/v/proj_out are 1x1 convolutions
// there but linear layers in diffusers. Older diffusers folders name that attention
// query/key/value/proj_attn; vaeDiffusersName brings those to today's names too.

const RESNET_PARTS: Record<string, string> = {
  norm1: 'norm1',
  conv1: 'conv1',
  norm2: 'norm2',
  conv2: 'conv2',
  nin_shortcut: 'conv_shortcut',
};

const ATTENTION_PARTS: Record<string, string> = {
  norm: 'group_norm',
  q: 'to_q',
  k: 'to_k',
  v: 'to_v',
  proj_out: 'to_out.0',
};

/** Attention weights stored as 1x1 convolutions in LDM files, linear in diffusers. */
export const VAE_LINEAR_WEIGHTS = /^(encoder|decoder)\.mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$/;

const SAME: ReadonlySet<string> = new Set(['conv_in', 'conv_out', 'quant_conv', 'post_quant_conv']);

/** Number of decoder levels of an LDM VAE ("decoder.up.N."), needed to reverse their order. */
export function ldmVaeUpLevels(keys: string[]): number {
  let most = -1;
  for (const key of keys) {
    const match = /^decoder\.up\.(\d+)\./.exec(key);
    if (match) most = Math.max(most, Number(match[1]));
  }
  return most + 1;
}

/** diffusers name -> LDM key (both without "first_stage_model."). Keys it does not know are left out. */
export function ldmVaeNames(keys: string[]): Map<string, string> {
  const upLevels = ldmVaeUpLevels(keys);
  const names = new Map<string, string>();
  for (const key of keys) {
    const name = vaeName(key, upLevels);
    if (name !== undefined) names.set(name, key);
  }
  return names;
}

function split(rest: string): [string, string] {
  const dot = rest.lastIndexOf('.');
  return [rest.slice(0, dot), rest.slice(dot + 1)];
}

function vaeName(key: string, upLevels: number): string | undefined {
  const [module, param] = split(key);
  if (param !== 'weight' && param !== 'bias') return undefined;
  if (SAME.has(module)) return key;
  const coder = /^(encoder|decoder)\.(.+)$/.exec(module);
  if (!coder) return undefined;
  const [side, rest] = [coder[1], coder[2]];
  const out = (name: string | undefined) => (name === undefined ? undefined : `${side}.${name}.${param}`);
  if (rest === 'conv_in' || rest === 'conv_out') return out(rest);
  if (rest === 'norm_out') return out('conv_norm_out');

  let match = /^mid\.block_([12])\.(\w+)$/.exec(rest);
  if (match) return out(RESNET_PARTS[match[2]] && `mid_block.resnets.${Number(match[1]) - 1}.${RESNET_PARTS[match[2]]}`);
  match = /^mid\.attn_1\.(\w+)$/.exec(rest);
  if (match) return out(ATTENTION_PARTS[match[1]] && `mid_block.attentions.0.${ATTENTION_PARTS[match[1]]}`);

  match = /^(down|up)\.(\d+)\.block\.(\d+)\.(\w+)$/.exec(rest);
  if (match && (side === 'encoder') === (match[1] === 'down')) {
    const level = match[1] === 'down' ? Number(match[2]) : upLevels - 1 - Number(match[2]);
    const blocks = match[1] === 'down' ? 'down_blocks' : 'up_blocks';
    return out(RESNET_PARTS[match[4]] && `${blocks}.${level}.resnets.${match[3]}.${RESNET_PARTS[match[4]]}`);
  }
  match = /^down\.(\d+)\.downsample\.conv$/.exec(rest);
  if (match && side === 'encoder') return out(`down_blocks.${match[1]}.downsamplers.0.conv`);
  match = /^up\.(\d+)\.upsample\.conv$/.exec(rest);
  if (match && side === 'decoder') return out(`up_blocks.${upLevels - 1 - Number(match[1])}.upsamplers.0.conv`);
  return undefined;
}

/** Old diffusers attention names (before diffusers 0.14) -> today's. */
const OLD_ATTENTION: Record<string, string> = {
  query: 'to_q',
  key: 'to_k',
  value: 'to_v',
  proj_attn: 'to_out.0',
};

/** A diffusers-layout VAE name in today's naming (old attention names renamed, others unchanged). */
export function vaeDiffusersName(name: string): string {
  const match = /^((?:encoder|decoder)\.mid_block\.attentions\.0)\.(query|key|value|proj_attn)\.(weight|bias)$/.exec(name);
  return match ? `${match[1]}.${OLD_ATTENTION[match[2]]}.${match[3]}` : name;
}

/** Whether VAE keys (prefix removed) use the LDM layout rather than diffusers'. */
export function isLdmVaeLayout(keys: string[]): boolean {
  return keys.some(
    (k) => k.startsWith('encoder.down.') || k.startsWith('decoder.up.') || k.startsWith('encoder.mid.') || k.startsWith('decoder.mid.'),
  );
}
