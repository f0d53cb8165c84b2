// LoRA and embedding handling apart from parity (issue 20): prompt tags as A1111 reads them, module names in every
// layout against the importer's own LDM map, the unmatched-layer report, unknown names with close matches, PNG
// hashes as A1111 computes them, and adapted sessions reused for a repeated set.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { attachAdapters, prepareAdapters } from '../src-core/adapters/apply.ts';
import { countPrompt } from '../src-core/prompt/count.ts';
import { loadClipTokenizer } from '../src-core/tokenizer/clip-tokenizer.ts';
import { tokenizerDir } from '../src-core/conformance/tokenizer-vectors.ts';
import { loraCalls, parseExtraNetworks } from '../src-core/adapters/prompt-tags.ts';
import { ldmUNetModule } from '../src-core/adapters/layer-names.ts';
import { ldmUNetNames } from '../src-core/import/ldm-unet-keys.ts';
import { readLoraFile } from '../src-core/adapters/lora-file.ts';
import { closeMatches } from '../src-core/adapters/library.ts';
import { openSafetensors } from '../src-core/import/safetensors.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { writeSafetensors, type TestTensor } from './helpers/safetensors-writer.ts';
import { readEmbedding } from '../src-core/adapters/embedding-file.ts';
import { missingAdapters } from '../src-core/adapters/png-check.ts';
import { fromHalfBits, toHalfBits } from '../src-core/model/half.ts';
import { importWithAdapters, type AdaptedModel } from './helpers/adapted-model.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const LORAS = join(FIXTURES, 'lora', 'loras');
const REQUEST = { negativePrompt: '', seed: 7, steps: 2, cfgScale: 7.5, sampler: 'euler', width: 64, height: 64 } as const;

// A1111's short hashes (first 12 hex digits of a SHA-256), computed here from the files as A1111 does, apart from the
// app's code: kohya's addnet hash covers a LoRA file after its safetensors header, an embedding's its whole file.
const shortSha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').slice(0, 12);
const KOHYA_BYTES = readFileSync(join(LORAS, 'sd1-kohya.safetensors'));
const KOHYA_ADDNET = shortSha256(KOHYA_BYTES.subarray(8 + Number(KOHYA_BYTES.readBigUInt64LE(0))));
const XYZEMB_TI = shortSha256(readFileSync(join(FIXTURES, 'lora', 'embeddings', 'xyzemb.safetensors')));

let fixture: AdaptedModel;
let work: string;
let model: StableDiffusionModel;

before(async () => {
  fixture = await importWithAdapters(join(FIXTURES, 'import', 'sd1', 'diffusers'), (tmp) => ({
    loraDirs: [LORAS, join(tmp, 'loras')],
    embeddingDirs: [join(FIXTURES, 'lora', 'embeddings')],
  }));
  ({ work, model } = fixture);
});

after(() => fixture?.close());

test('tags: removed from the prompt, weights as A1111 reads them', () => {
  const { prompt, tags } = parseExtraNetworks('a cat <lora:style:0.8>, <lora:b:0.5:1.5> <lyco:c> <hypernet:h:1> <lora:d:te=0.2:unet=0.7>');
  assert.equal(prompt, 'a cat ,    ');
  assert.deepEqual(
    loraCalls(tags).map((c) => [c.name, c.te, c.unet]),
    [
      ['style', 0.8, 0.8],
      ['b', 0.5, 1.5],
      ['c', 1, 1],
      ['d', 0.2, 0.7],
    ],
  );
  assert.throws(() => loraCalls(parseExtraNetworks('<lora:x:abc>').tags), /"abc" is not a number/);
  assert.equal(parseExtraNetworks('no tags (x:1.2) <not a tag>').tags.length, 0);
});

test("LDM module names: the inverse of the importer's map, for every weight of SD 1.5", () => {
  const shapes = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'bench', 'import', 'sd15-ldm-shapes.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const keys = Object.keys(shapes)
    .filter((k) => k.startsWith('model.diffusion_model.'))
    .map((k) => k.slice('model.diffusion_model.'.length));
  const names = ldmUNetNames(keys);
  const modules = [...names.keys()].filter((n) => n.endsWith('.weight')).map((n) => n.slice(0, -'.weight'.length));
  const upHasAttention = (level: number) => modules.some((m) => m.startsWith(`up_blocks.${level}.attentions.`));
  let checked = 0;
  for (const module of modules) {
    const ldm = names.get(`${module}.weight`)!.slice(0, -'.weight'.length);
    assert.equal(ldmUNetModule(module, 2, upHasAttention), ldm, module);
    checked++;
  }
  assert.ok(checked > 300, `${checked} modules`);
});

test('LoRA files: kohya, PEFT and older diffusers keys read as modules; LyCORIS kinds listed as unsupported', () => {
  const path = join(work, 'kinds.safetensors');
  const t = (shape: number[]): TestTensor => ({ shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) });
  writeSafetensors(path, {
    'lora_unet_mid_block_attentions_0_proj_in.lora_down.weight': t([4, 32, 1, 1]),
    'lora_unet_mid_block_attentions_0_proj_in.lora_up.weight': t([32, 4, 1, 1]),
    'lora_unet_mid_block_attentions_0_proj_in.alpha': t([]),
    'unet.mid_block.attentions.0.proj_out.lora_A.weight': t([4, 32]),
    'unet.mid_block.attentions.0.proj_out.lora_B.weight': t([32, 4]),
    'unet.mid_block.attentions.0.transformer_blocks.0.attn1.processor.to_q_lora.down.weight': t([4, 32]),
    'unet.mid_block.attentions.0.transformer_blocks.0.attn1.processor.to_q_lora.up.weight': t([32, 4]),
    'lora_unet_mid_block_resnets_0_conv1.hada_w1_a': t([32, 4]),
    'lora_unet_mid_block_resnets_0_conv1.hada_w1_b': t([4, 32]),
    'lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight': t([4, 32]),
  });
  const { contents, file } = readLoraFile(path);
  file.close();
  assert.deepEqual(contents.modules.map((m) => [m.component, m.style, m.name]).sort(), [
    ['unet', 'dotted', 'mid_block.attentions.0.proj_out'],
    ['unet', 'dotted', 'mid_block.attentions.0.transformer_blocks.0.attn1.to_q'],
    ['unet', 'underscored', 'mid_block_attentions_0_proj_in'],
  ]);
  assert.deepEqual(contents.unsupported.map((u) => [u.key, u.kind]).sort(), [
    ['lora_te_text_model_encoder_layers_0_mlp_fc1', 'incomplete (no up or down matrix)'],
    ['lora_unet_mid_block_resnets_0_conv1', 'LoHa'],
  ]);
});

test('a LoRA with layers this model does not have: applied where it matches, the rest reported by name', async () => {
  const kohya = openSafetensors(join(LORAS, 'sd1-kohya.safetensors'));
  const tensors: Record<string, TestTensor> = {};
  for (const name of kohya.names()) tensors[name] = { shape: [...kohya.info(name).shape], values: kohya.read(name) };
  kohya.close();
  tensors['lora_unet_down_blocks_9_attentions_0_proj_in.lora_down.weight'] = { shape: [4, 16, 1, 1] };
  tensors['lora_unet_down_blocks_9_attentions_0_proj_in.lora_up.weight'] = { shape: [16, 4, 1, 1] };
  tensors['lora_unet_mid_block_resnets_0_conv2.hada_w1_a'] = { shape: [32, 4] };
  mkdirSync(join(work, 'loras'), { recursive: true });
  writeSafetensors(join(work, 'loras', 'extra-layers.safetensors'), tensors);
  const result = await generate(model, { ...REQUEST, prompt: 'a red circle <lora:extra-layers:1>' });
  const note = result.notes.find((n) => n.startsWith('LoRA extra-layers:'));
  assert.ok(note, result.notes.join('\n'));
  assert.match(
    note,
    /106 of 108 layers applied; not applied: lora_unet_down_blocks_9_attentions_0_proj_in \(no such layer in this model\), lora_unet_mid_block_resnets_0_conv2 \(LoHa, not supported\)/,
  );
});

test('a LoRA that matches nothing in this model is refused, naming what did not match', async () => {
  writeSafetensors(join(work, 'loras', 'other-model.safetensors'), {
    'lora_unet_input_blocks_4_1_proj_in.lora_down.weight': { shape: [4, 640] },
    'lora_unet_input_blocks_4_1_proj_in.lora_up.weight': { shape: [640, 4] },
  });
  await assert.rejects(
    generate(model, { ...REQUEST, prompt: 'x <lora:other-model:1>' }),
    /LoRA other-model matches none of this model's layers.*lora_unet_input_blocks_4_1_proj_in \(shape: /,
  );
});

test('an unknown LoRA name is refused with close matches', async () => {
  await assert.rejects(generate(model, { ...REQUEST, prompt: 'x <lora:sd1-kohay:1>' }), (error: Error) => {
    assert.equal(error.name, 'RequestError');
    assert.match(error.message, /unknown LoRA "sd1-kohay" in .*; close matches: sd1-kohya$/);
    return true;
  });
  assert.deepEqual(closeMatches('Detail', ['add_detail', 'detail_tweaker', 'lighting']), ['add_detail', 'detail_tweaker']);
  assert.deepEqual(closeMatches('sd1-koh', ['sd1-kohya', 'sd1-kohya-ldm', 'sd1-peft']), ['sd1-kohya', 'sd1-kohya-ldm']);
  const bare = await loadModel(model.info.dir, { provider: 'cpu' });
  try {
    await assert.rejects(
      generate(bare, { ...REQUEST, prompt: 'x <lora:a:1>' }),
      /unknown LoRA "a" \(no LoRA folder is set: --lora-dir on the command line\)/,
    );
  } finally {
    await bare.dispose();
  }
});

test("PNG parameters carry A1111's Lora hashes and TI hashes, and read back", async () => {
  const result = await generate(model, { ...REQUEST, prompt: 'a red circle on a xyzemb background <lora:sd1-kohya:0.7>' });
  const parameters = result.images[0]!.parameters;
  assert.match(parameters, new RegExp(`Lora hashes: "sd1-kohya: ${KOHYA_ADDNET}", TI hashes: "xyzemb: ${XYZEMB_TI}"`));
  assert.match(parameters, /^a red circle on a xyzemb background <lora:sd1-kohya:0.7>\n/);
  const read = parametersToRequest(parameters);
  assert.equal(read.loraHashes, `sd1-kohya: ${KOHYA_ADDNET}`);
  assert.equal(read.tiHashes, `xyzemb: ${XYZEMB_TI}`);
  // Named twice, listed once (A1111's dict of hashes).
  const twice = await generate(model, { ...REQUEST, prompt: 'a red circle <lora:sd1-kohya:0.4> <lora:sd1-kohya:0.3>' });
  assert.match(twice.images[0]!.parameters, new RegExp(`Lora hashes: "sd1-kohya: ${KOHYA_ADDNET}"(,|$)`, 'm'));
});

test('an embedding the prompt names whose file cannot be read is refused, naming it; one no prompt names is not reported', async () => {
  const folder = join(work, 'broken-embeddings');
  mkdirSync(folder);
  const bytes = readFileSync(join(FIXTURES, 'lora', 'embeddings', 'xyzemb.safetensors'));
  writeFileSync(join(folder, 'xyzemb.safetensors'), bytes);
  writeFileSync(join(folder, 'brokenemb.safetensors'), bytes.subarray(0, bytes.length - 40)); // cut short, as an interrupted copy
  fixture.attach({ loraDirs: [LORAS], embeddingDirs: [folder] });
  try {
    for (const prompts of [{ prompt: 'a red circle on a brokenemb background' }, { prompt: 'a red circle', negativePrompt: 'brokenemb' }]) {
      await assert.rejects(generate(model, { ...REQUEST, ...prompts }), (error: Error) => {
        assert.equal(error.name, 'RequestError');
        const path = join(folder, 'brokenemb.safetensors');
        assert.equal(
          error.message.startsWith(
            `the embedding "brokenemb" named in the prompt cannot be read (${path}): brokenemb.safetensors: truncated file`,
          ),
          true,
          error.message,
        );
        return true;
      });
    }
    const result = await generate(model, { ...REQUEST, prompt: 'a red circle on a xyzemb background' });
    assert.match(result.images[0]!.parameters, new RegExp(`TI hashes: "xyzemb: ${XYZEMB_TI}"`));
    assert.doesNotMatch(result.notes.join('\n'), /brokenemb/);
  } finally {
    fixture.attach({ loraDirs: [LORAS, join(work, 'loras')], embeddingDirs: [join(FIXTURES, 'lora', 'embeddings')] });
  }
});

test('npm run generate with --lora-dir: the LoRA is applied as in the app, and the PNG names it', async () => {
  const prompt = 'a red circle on a blue background <lora:sd1-kohya:0.8>';
  const out = join(work, 'cli-out');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      'src-core/cli/generate.ts',
      ...['--model', model.info.dir, '--lora-dir', LORAS, '--prompt', prompt, '--seed', '7', '--steps', '2', '--cfg', '7.5'],
      // On the CPU, as the model it is compared with (auto would take a GPU provider where the machine has one).
      ...['--sampler', 'euler', '--width', '64', '--height', '64', '--provider', 'cpu', '--out', out],
    ],
    { cwd: join(import.meta.dirname, '..'), env: { ...process.env, RESTART_STUDIO_ADAPTERS: join(work, 'cli-cache') } },
  );
  assert.match(stdout, /00001-7\.png {2}seed 7 {2}64x64/);
  const png = readFileSync(join(out, '00001-7.png'));
  assert.match(readTextChunks(png).parameters, new RegExp(`Lora hashes: "sd1-kohya: ${KOHYA_ADDNET}"`));
  const inProcess = await generate(model, { ...REQUEST, prompt });
  assert.deepEqual(png, inProcess.images[0]!.png, 'the same image as generate() in this process');
});

test("the token counter: an embedding takes as many tokens as it has vectors, <lora:...> tags none (A1111's count)", () => {
  const embeddings = join(FIXTURES, 'lora', 'embeddings');
  assert.equal(readEmbedding(join(embeddings, 'xyzemb.safetensors')).parts.default!.count, 2);
  // The fixture's own tokenizer, and SD 1.5's (a copy of the model given the same embedding folder): "xyzemb" is 5 and
  // 4 BPE tokens in them, "red" one.
  const sd15 = { ...model, tokenizer: loadClipTokenizer(tokenizerDir()) };
  attachAdapters(sd15, { loraDirs: [LORAS], embeddingDirs: [embeddings], cacheRoot: join(work, 'cache') });
  const reds = (n: number) => Array(n).fill('red').join(' ');
  for (const counted of [model, sd15]) {
    assert.deepEqual(
      countPrompt(counted, 'a red circle on a xyzemb background <lora:sd1-kohya:0.7>'),
      countPrompt(counted, 'a red circle on a red red background'),
    );
    assert.deepEqual(countPrompt(counted, `${reds(10)} xyzemb, xyzemb`), { tokens: 15, max: 75 });
    // Its vectors stay in one chunk: after 74 tokens the chunk closes (75 counted) and they start the next one.
    assert.deepEqual(countPrompt(counted, `${reds(74)} xyzemb`), { tokens: 77, max: 150 });
    assert.deepEqual(countPrompt(counted, reds(76)), { tokens: 76, max: 150 });
  }
  // A model without embedding folders counts the name's own tokens.
  assert.deepEqual(countPrompt({ ...model, tokenizer: sd15.tokenizer }, 'xyzemb <lora:sd1-kohya:0.7>'), { tokens: 4, max: 75 });
});

test('a repeated LoRA set reuses its sessions; another weight makes new ones', async () => {
  const prompt = { prompt: 'x <lora:sd1-kohya:0.3>', negativePrompt: '' };
  const first = await prepareAdapters(model, prompt);
  const t0 = performance.now();
  const again = await prepareAdapters(model, prompt);
  const ms = performance.now() - t0;
  assert.equal(again.model, first.model);
  assert.ok(ms < 200, `${ms} ms for a repeated set`);
  const other = await prepareAdapters(model, { prompt: 'x <lora:sd1-kohya:0.4>', negativePrompt: '' });
  assert.notEqual(other.model.unet, first.model.unet);
  assert.notEqual(other.textKey, first.textKey);
  const plain = await prepareAdapters(model, { prompt: 'x', negativePrompt: '' });
  assert.equal(plain.model, model);
});

test("a LoRA set's sessions take the base's place in memory; a prompt without LoRAs opens the base again, same image", async () => {
  const plain = { ...REQUEST, prompt: 'a red circle on a blue background' };
  const before = await generate(model, plain);
  const sessions = model.sessions!;
  assert.ok(sessions.isOpen(model.unet) && sessions.isOpen(model.textEncoder));
  const adapted = await generate(model, { ...plain, prompt: `${plain.prompt} <lora:sd1-kohya:0.7>` });
  assert.equal(sessions.isOpen(model.unet), false, 'the base UNet is released while the adapted one is open');
  assert.equal(sessions.isOpen(model.textEncoder), false, 'so is the base text encoder (the LoRA changes it too)');
  assert.notDeepEqual(adapted.images[0]!.png, before.images[0]!.png);
  const after = await generate(model, plain);
  assert.ok(sessions.isOpen(model.unet) && sessions.isOpen(model.textEncoder));
  assert.deepEqual(after.images[0]!.png, before.images[0]!.png);
  // The adapted sessions were closed to make room: the set is made again, and gives the same image.
  const again = await generate(model, { ...plain, prompt: `${plain.prompt} <lora:sd1-kohya:0.7>` });
  assert.deepEqual(again.images[0]!.png, adapted.images[0]!.png);
  assert.equal(sessions.isOpen(model.unet), false);
});

test(".pt embeddings, read without running their pickle: A1111's dict, an fp16 ParameterDict; one asking to run a command refused", () => {
  const pt = join(FIXTURES, 'lora', 'embeddings-pt');
  const expected = readEmbedding(join(FIXTURES, 'lora', 'embeddings', 'xyzemb.safetensors')).parts.default!;
  const plain = readEmbedding(join(pt, 'xyzemb.pt')).parts.default!;
  assert.deepEqual([plain.count, plain.width], [2, 32]);
  assert.deepEqual(plain.vectors, expected.vectors);
  const paramDict = readEmbedding(join(pt, 'paramdict.pt')).parts.default!;
  assert.deepEqual(paramDict.vectors, fromHalfBits(toHalfBits(expected.vectors)));
  const marker = '/tmp/restart-studio-evil-pt-ran';
  rmSync(marker, { force: true });
  assert.throws(() => readEmbedding(join(pt, 'evil.pt')), /evil\.pt: not an embedding/);
  assert.equal(existsSync(marker), false);
});

test('a PNG naming LoRAs and embeddings that are not here says which', () => {
  const folders = { loraDirs: [LORAS], embeddingDirs: [join(FIXTURES, 'lora', 'embeddings')] };
  const notes = missingAdapters(
    {
      request: { prompt: 'a cat <lora:sd1-kohya:1> <lora:gone:0.5>' },
      loraHashes: `sd1-kohya: ${KOHYA_ADDNET}, gone: 0123456789ab`,
      tiHashes: `xyzemb: ${XYZEMB_TI}, other-emb: 00000000aaaa`,
    },
    folders,
  );
  assert.deepEqual(notes, [
    `LoRA gone (hash 0123456789ab) is not in your LoRA folder (${LORAS})`,
    `embedding other-emb (hash 00000000aaaa) is not in your embeddings folder (${join(FIXTURES, 'lora', 'embeddings')})`,
  ]);
  const changed = missingAdapters({ request: { prompt: '<lora:sd1-kohya:1>' }, loraHashes: 'sd1-kohya: ffffffffffff' }, folders);
  assert.deepEqual(changed, [`LoRA sd1-kohya here (hash ${KOHYA_ADDNET}) is not the file the image was made with (hash ffffffffffff)`]);
});

test("hires fix's own prompt: an embedding only it names is loaded (TI hashes); its LoRA tags must be the prompt's", async () => {
  const hires = { scale: 1.5, steps: 2 };
  const red = 'a red circle on a blue background';
  // The embedding named only in the hires prompt: loaded, and listed as A1111 lists the embeddings a job used.
  const withEmbedding = await generate(model, {
    ...REQUEST,
    prompt: red,
    hires: { ...hires, prompt: 'a red circle on a xyzemb background' },
  });
  assert.match(withEmbedding.images[0]!.parameters, new RegExp(`TI hashes: "xyzemb: ${XYZEMB_TI}"`));
  // The same LoRA tags as the prompt's (A1111 users copy the prompt): accepted; another weight: refused in words.
  const tagged = `${red} <lora:sd1-kohya:0.5>`;
  const same = await generate(model, { ...REQUEST, prompt: tagged, hires: { ...hires, prompt: `${tagged}, sharp` } });
  assert.equal(same.images.length, 1);
  await assert.rejects(generate(model, { ...REQUEST, prompt: tagged, hires: { ...hires, prompt: `${red} <lora:sd1-kohya:0.9>` } }), /LoRA/);
});
