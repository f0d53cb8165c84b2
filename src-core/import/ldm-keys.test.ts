import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapLdmCheckpoint, mapVaeFile } from './ldm-keys.ts';
import { ldmUNetLayout } from './ldm-unet-keys.ts';
import { arrayWeight, weightMap, type WeightRef, type WeightSource } from './weights.ts';
import {
  TINY_SD1,
  TINY_SD2,
  entrySource,
  ldmEntries,
  ldmVaeEntries,
  valuesFor,
  type LdmDims,
  type LdmEntry,
} from '../../tests/helpers/ldm-checkpoints.ts';

/** Which entry a mapped weight reads: the first value is the entry's index + 1 (see valuesFor). */
function sourceEntry(entries: LdmEntry[], ref: WeightRef): LdmEntry {
  return entries[ref.read()[0] - 1];
}

/** Every expected name of `component` maps to its own key, with the expected shape, and nothing else is mapped. */
function checkComponent(entries: LdmEntry[], mapped: WeightSource, component: LdmEntry['component'], extra: string[] = []): void {
  const expected = entries.filter((e) => e.component === component && e.name);
  for (const e of expected) {
    assert.ok(mapped.has(e.name), `${e.name} (from ${e.key}) is mapped`);
    const ref = mapped.get(e.name);
    assert.equal(sourceEntry(entries, ref).key, e.key, `${e.name} reads ${e.key}`);
    const linearVae = /mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(e.name);
    assert.deepEqual(ref.shape, linearVae ? e.shape.slice(0, 2) : e.shape, `shape of ${e.name}`);
  }
  const names = new Set(expected.map((e) => e.name));
  const surplus = mapped.names().filter((n) => !names.has(n) && !extra.includes(n));
  assert.deepEqual(surplus, [], `no unexpected ${component} names`);
}

const qkvNames = (layers: number) =>
  Array.from({ length: layers }, (_, l) =>
    ['q', 'k', 'v'].flatMap((p) => ['weight', 'bias'].map((w) => `text_model.encoder.layers.${l}.self_attn.${p}_proj.${w}`)),
  ).flat();

test('SD 1 layout: every UNet, VAE and text key maps to its diffusers name', () => {
  const entries = ldmEntries(TINY_SD1, { ema: true });
  const mapped = mapLdmCheckpoint(entrySource(entries));
  assert.equal(mapped.textKind, 'clip');
  checkComponent(entries, mapped.unet, 'unet');
  checkComponent(entries, mapped.vae, 'vae');
  checkComponent(entries, mapped.textEncoder, 'text');
  assert.deepEqual(mapped.unused, ['cond_stage_model.transformer.text_model.embeddings.position_ids']);
  assert.equal(mapped.emaIgnored, 2);
  // A few names spelled out, as diffusers has them.
  for (const name of [
    'down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight',
    'up_blocks.0.upsamplers.0.conv.weight',
    'up_blocks.1.upsamplers.0.conv.weight',
    'up_blocks.3.attentions.2.proj_out.weight',
    'mid_block.resnets.1.time_emb_proj.bias',
    'decoder.up_blocks.0.upsamplers.0.conv.weight',
    'encoder.mid_block.attentions.0.to_out.0.weight',
    'decoder.conv_norm_out.bias',
  ]) {
    assert.ok(mapped.unet.has(name) || mapped.vae.has(name), name);
  }
  assert.equal(
    sourceEntry(entries, mapped.unet.get('up_blocks.1.upsamplers.0.conv.weight')).key,
    'model.diffusion_model.output_blocks.5.2.conv.weight',
  );
  assert.equal(
    sourceEntry(entries, mapped.vae.get('decoder.up_blocks.0.resnets.2.conv1.weight')).key,
    'first_stage_model.decoder.up.3.block.2.conv1.weight',
  );
});

test('SD 1 files without "text_model." (old transformers) map the same', () => {
  const entries = ldmEntries({ ...TINY_SD1, oldClipNames: true });
  const mapped = mapLdmCheckpoint(entrySource(entries));
  checkComponent(entries, mapped.textEncoder, 'text');
  assert.ok(mapped.textEncoder.has('text_model.encoder.layers.1.mlp.fc2.weight'));
});

test('SD 2 layout: OpenCLIP names, fused q/k/v split in thirds, the last layer dropped', () => {
  const entries = ldmEntries(TINY_SD2);
  const raw = entrySource(entries);
  const mapped = mapLdmCheckpoint(raw);
  assert.equal(mapped.textKind, 'openclip');
  checkComponent(entries, mapped.unet, 'unet');
  checkComponent(entries, mapped.textEncoder, 'text', qkvNames(2));
  assert.ok(mapped.unet.get('down_blocks.0.attentions.0.proj_in.weight').shape.length === 2, 'linear proj_in');
  assert.ok(!mapped.textEncoder.names().some((n) => n.includes('layers.2.')), 'last layer dropped');
  assert.ok(mapped.unused.includes('cond_stage_model.model.transformer.resblocks.2.attn.in_proj_weight'));
  assert.ok(mapped.unused.includes('cond_stage_model.model.text_projection'));
  const h = TINY_SD2.text.hidden;
  for (const layer of [0, 1]) {
    const key = `cond_stage_model.model.transformer.resblocks.${layer}.attn.in_proj_`;
    const fusedW = raw.get(`${key}weight`).read(),
      fusedB = raw.get(`${key}bias`).read();
    ['q', 'k', 'v'].forEach((p, third) => {
      const w = mapped.textEncoder.get(`text_model.encoder.layers.${layer}.self_attn.${p}_proj.weight`);
      const b = mapped.textEncoder.get(`text_model.encoder.layers.${layer}.self_attn.${p}_proj.bias`);
      assert.deepEqual(w.shape, [h, h]);
      assert.deepEqual(b.shape, [h]);
      assert.deepEqual([...w.read()], [...fusedW.slice(third * h * h, (third + 1) * h * h)], `${p} weight of layer ${layer}`);
      assert.deepEqual([...b.read()], [...fusedB.slice(third * h, (third + 1) * h)], `${p} bias of layer ${layer}`);
      assert.equal(w.read().buffer.byteLength, h * h * 4, 'a third owns its own buffer');
    });
  }
});

test('a config can ask for a number of text layers', () => {
  const mapped = mapLdmCheckpoint(entrySource(ldmEntries(TINY_SD2)), { textLayers: 3 });
  assert.ok(mapped.textEncoder.has('text_model.encoder.layers.2.self_attn.q_proj.weight'));
  assert.throws(() => mapLdmCheckpoint(entrySource(ldmEntries(TINY_SD2)), { textLayers: 4 }), /asks for 4 layers but .* has 3/);
  const sd1 = mapLdmCheckpoint(entrySource(ldmEntries(TINY_SD1)), { textLayers: 1 });
  assert.ok(!sd1.textEncoder.has('text_model.encoder.layers.1.mlp.fc1.weight'));
});

test("UNet layouts other than SD's 2 layers x 4 levels are walked correctly", () => {
  const dims: LdmDims = { ...TINY_SD1, channels: [4, 8, 12], layers: 1, attention: [false, true, true] };
  const entries = ldmEntries(dims);
  assert.deepEqual(ldmUNetLayout(entries.filter((e) => e.component === 'unet').map((e) => e.key.slice('model.diffusion_model.'.length))), {
    levels: 3,
    layersPerBlock: 1,
  });
  const mapped = mapLdmCheckpoint(entrySource(entries));
  checkComponent(entries, mapped.unet, 'unet');
  checkComponent(entries, mapped.vae, 'vae');
});

test('missing tensors and missing components are ImportErrors naming them', () => {
  const entries = ldmEntries(TINY_SD1);
  const mapped = mapLdmCheckpoint(entrySource(entries.filter((e) => !e.key.endsWith('input_blocks.1.0.in_layers.2.weight'))), {
    label: 'x.safetensors',
  });
  assert.throws(
    () => mapped.unet.get('down_blocks.0.resnets.0.conv1.weight'),
    /missing tensor down_blocks\.0\.resnets\.0\.conv1\.weight \(UNet of x\.safetensors\)/,
  );
  assert.throws(() => mapLdmCheckpoint(entrySource(entries.filter((e) => e.component !== 'vae'))), /has no VAE/);
  assert.throws(() => mapLdmCheckpoint(entrySource(entries.filter((e) => !e.key.startsWith('cond_stage_model.')))), /has no text encoder/);
  assert.throws(() => mapLdmCheckpoint(entrySource(entries.filter((e) => e.component !== 'text'))), /has no text encoder/);
  assert.throws(() => mapLdmCheckpoint(entrySource(entries.filter((e) => e.component !== 'unet'))), /has no UNet/);
});

test('a separate VAE file: bare LDM names, first_stage_model. names, or (old) diffusers names', () => {
  for (const prefix of ['', 'first_stage_model.']) {
    const entries = ldmVaeEntries(TINY_SD1, prefix);
    const extra: LdmEntry = { key: `${prefix}loss.logvar`, name: '', component: 'none', shape: [] };
    const { vae, unused } = mapVaeFile(entrySource([...entries, extra]));
    checkComponent(entries, vae, 'vae');
    assert.deepEqual(unused, [`${prefix}loss.logvar`]);
  }
  // Diffusers names as diffusers < 0.14 saved them (query/key/value/proj_attn) become today's.
  const diffusersNames = new Map<string, WeightRef>();
  ldmVaeEntries(TINY_SD1).forEach((e, i) => {
    const old = e.name
      .replace(/attentions\.0\.to_q/, 'attentions.0.query')
      .replace(/attentions\.0\.to_k/, 'attentions.0.key')
      .replace(/attentions\.0\.to_v/, 'attentions.0.value')
      .replace(/attentions\.0\.to_out\.0/, 'attentions.0.proj_attn');
    const shape = /attentions\.0\.(query|key|value|proj_attn)\.weight$/.test(old) ? e.shape.slice(0, 2) : e.shape;
    diffusersNames.set(old, arrayWeight(shape, valuesFor(i, shape)));
  });
  const { vae } = mapVaeFile(weightMap(diffusersNames));
  assert.ok(vae.has('decoder.mid_block.attentions.0.to_out.0.weight'));
  assert.ok(!vae.has('decoder.mid_block.attentions.0.proj_attn.weight'));
  assert.equal(vae.names().length, diffusersNames.size);
  assert.throws(() => mapVaeFile(entrySource(ldmEntries(TINY_SD1).filter((e) => e.component === 'unet'))), /is not a VAE/);
});
