// npm run generate -- --prompt "a red circle on a blue background" [options]
// Generates images with a diffusers-ONNX model folder (the embedded model by default) and writes PNGs
// that carry their parameters.
import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  EMPHASIS_CHOICES,
  NOISE_SOURCE_CHOICES,
  PROVIDER_CHOICES,
  SAMPLER_CHOICES,
  SCHEDULE_CHOICES,
  type GenerateRequestInput,
} from '../contract/generate.ts';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { loadModel } from '../model/model.ts';
import { rerunWithHugePages } from '../model/huge-pages.ts';
import { modelFolderFor } from './model-arg.ts';
import type { ProviderChoice } from '../model/session.ts';
import { SamplingCancelled } from '../samplers/types.ts';
import { ImportCancelled } from '../import/importer.ts';
import { InOrder } from '../pipeline/in-order.ts';
import { savePng } from '../pipeline/save.ts';
import { generate, type GeneratedImage } from '../pipeline/txt2img.ts';
import { IMG2IMG_HELP, IMG2IMG_OPTIONS, img2imgFromCli, readInitImage } from './img2img-options.ts';
import { numberOption } from './option-values.ts';
import { ADAPTER_HELP, ADAPTER_OPTIONS, adapterFolders, attachCliAdapters, type AdapterFolders } from './adapter-options.ts';
import { stringOptions } from './string-options.ts';
import { CHURN_HELP, CHURN_OPTIONS, samplerOptionsFromCli } from './sampler-options.ts';
import { preflight } from './preflight.ts';
import { VARIATION_HELP, VARIATION_OPTIONS, variationFromCli } from './variation-options.ts';
import { SCHEDULE_HELP, SCHEDULE_OPTIONS, scheduleFromCli } from './schedule-options.ts';

const OPTION_HELPS = IMG2IMG_HELP + ADAPTER_HELP;
const HELP = `Usage: npm run generate -- --prompt TEXT [options]

  --prompt TEXT          what to draw (required)
  --negative TEXT        negative prompt (default: empty)
  --sampler NAME         ${SAMPLER_CHOICES.join(' | ')} (default: euler)
  --schedule NAME        ${SCHEDULE_CHOICES.join(' | ')}
                         (default: karras; ddim uses its own grid; align_your_steps takes the SDXL or SD 1.5 table by model)
${SCHEDULE_HELP}  --steps N              sampling steps (default: 20)
  --cfg SCALE            classifier-free guidance scale (default: 7; 1 = no guidance)
  --seed N               seed of the first image; image k uses seed + k (default: random)
${VARIATION_HELP}  --count N              batch count: batches made one after the other (default: 1)
  --batch-size N         images per batch, one UNet call (default: 1); count x batch size images in all, as A1111
  --width N, --height N  image size in pixels, a multiple of the VAE factor (default: the model's)
  --noise NAME           ${NOISE_SOURCE_CHOICES.join(' | ')} (default: default)
  --eta X                ancestral/SDE noise amount for Euler a, DPM2 a, DPM++ 2S a and the DPM++ SDE samplers (default: 1)
  --s-noise X            noise multiplier for Restart and the samplers --eta names (default: 1)
  --restart SPEC         restart setting: a1111 | sd | JSON segments, e.g. '[[3,2,0.06,0.3]]' (default: a1111)
  --restart-gamma X      churn inside restart passes (segments only)
  --s-min X, --s-max X   sigma window where churn applies (segments only)
${CHURN_HELP}  --timestep MODE        fractional | nearest (default: fractional)
  --emphasis MODE        ${EMPHASIS_CHOICES.join(' | ')}: what (word:1.2) weights do (default: original, as A1111)
  --clip-skip N          SD 1.x: condition on the text encoder's layer N from the end, 1 to 12, as A1111's Clip skip
                         (default: 1, the last; SD 2 and SDXL ignore it, as A1111 does)
  --original-size WxH    SDXL: the size the image is conditioned as cut from (default: the image size)
  --crop-top N, --crop-left N  SDXL: the crop's top-left corner in that original (default: 0, 0)
${OPTION_HELPS}  --model PATH           diffusers-ONNX model folder (default: the embedded model), or a checkpoint (.safetensors)
                         or diffusers folder, imported on first use into the import cache (RESTART_STUDIO_IMPORTS,
                         default ~/.cache/restart-studio/imported-models) and reused afterwards
  --model-config DIR     with a checkpoint: a diffusers folder whose configs give its architecture
  --provider NAME        ${PROVIDER_CHOICES.join(' | ')} (default: auto: the fastest this machine can load)
  --out DIR              output folder (default: outputs)
  --help                 show this help
`;

class UsageError extends Error {}

function originalSizeOption(spec: string | undefined): { originalWidth?: number; originalHeight?: number } {
  if (spec === undefined) return {};
  const match = /^(\d+)x(\d+)$/.exec(spec.trim());
  if (!match) throw new UsageError(`--original-size must be WIDTHxHEIGHT, e.g. 2048x2048 (got "${spec}")`);
  return { originalWidth: Number(match[1]), originalHeight: Number(match[2]) };
}

export function parseCli(argv: string[]):
  | {
      request: GenerateRequestInput;
      model: string;
      modelConfig?: string;
      provider: ProviderChoice;
      out: string;
      initImagePath?: string;
      adapters: AdapterFolders;
      /** Options given but ignored (checked all the same), in words. */
      notes: string[];
    }
  | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...stringOptions(
          'prompt',
          'negative',
          'sampler',
          'schedule',
          'steps',
          'cfg',
          'seed',
          'count',
          'batch-size',
          'width',
          'height',
          'noise',
          'eta',
          's-noise',
          'restart',
          'restart-gamma',
          's-min',
          's-max',
          'timestep',
          'emphasis',
          'clip-skip',
          'original-size',
          'crop-top',
          'crop-left',
          'model',
          'model-config',
          'provider',
          'out',
        ),
        help: { type: 'boolean' },
        ...IMG2IMG_OPTIONS,
        ...ADAPTER_OPTIONS,
        ...VARIATION_OPTIONS,
        ...SCHEDULE_OPTIONS,
        ...CHURN_OPTIONS,
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.prompt === undefined) throw new UsageError('--prompt is required');
  const provider = (v.provider ?? 'auto') as ProviderChoice;
  if (!(PROVIDER_CHOICES as readonly string[]).includes(provider))
    throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}`);
  const img2img = img2imgFromCli(v);
  const sampler = v.sampler ?? 'euler';
  const samplers = img2img.fields.hires?.sampler ? [...new Set([sampler, img2img.fields.hires.sampler])] : [sampler];
  const samplerOptions = samplerOptionsFromCli(v, samplers);
  const variation = variationFromCli(v);
  if (v.out !== undefined && v.out.trim() === '') throw new UsageError(`--out needs a folder (got "${v.out}")`);
  const request: GenerateRequestInput = {
    ...img2img.fields,
    prompt: v.prompt,
    negativePrompt: v.negative,
    sampler: v.sampler as GenerateRequestInput['sampler'],
    schedule: v.schedule as GenerateRequestInput['schedule'],
    steps: numberOption(v, 'steps'),
    cfgScale: numberOption(v, 'cfg'),
    seed: numberOption(v, 'seed') ?? randomInt(0, 2 ** 32),
    ...variation.fields,
    count: numberOption(v, 'count'),
    batchSize: numberOption(v, 'batch-size'),
    width: numberOption(v, 'width'),
    height: numberOption(v, 'height'),
    noiseSource: v.noise as GenerateRequestInput['noiseSource'],
    ...samplerOptions.fields,
    ...scheduleFromCli(v),
    timestepMode: v.timestep as GenerateRequestInput['timestepMode'],
    emphasis: v.emphasis as GenerateRequestInput['emphasis'],
    clipSkip: numberOption(v, 'clip-skip'),
    ...originalSizeOption(v['original-size']),
    cropTop: numberOption(v, 'crop-top'),
    cropLeft: numberOption(v, 'crop-left'),
  };
  // Leave unset options out so the schema's defaults apply.
  const cleaned = Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined)) as GenerateRequestInput;
  return {
    request: cleaned,
    model: v.model ?? DEFAULT_MODEL_DIR,
    modelConfig: v['model-config'],
    provider,
    out: resolve(v.out ?? 'outputs'),
    initImagePath: img2img.initImagePath,
    adapters: adapterFolders(v),
    notes: [...samplerOptions.notes, ...img2img.notes, ...variation.notes],
  };
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (options === 'help') {
    console.log(HELP);
    return 0;
  }
  // Bad options are refused before a checkpoint is imported or the model loaded.
  const initImage = options.initImagePath ? readInitImage(options.initImagePath) : undefined;
  preflight(options.request, options.out, initImage);
  // onnxruntime's memory for LoRA sets is reused with the engine's malloc settings (model/huge-pages.ts): the app's
  // engine process starts with them; this command starts itself again with them when LoRAs may be applied.
  if (options.adapters.loraDirs.length > 0) await rerunWithHugePages();
  for (const note of options.notes) console.error(`note: ${note}`); // after the rerun: printed once
  const controller = new AbortController();
  process.once('SIGINT', () => {
    console.error('cancelling after the current model call...');
    controller.abort();
  });
  const folder = await modelFolderFor(options.model, { config: options.modelConfig, signal: controller.signal });
  const model = await loadModel(folder, { provider: options.provider });
  attachCliAdapters(model, options.adapters);
  for (const f of model.fallbacks) console.error(`note: not using ${f.provider}: ${f.reason}`);
  console.error(`running on ${model.provider}`);
  // Each batch is saved as it arrives, file after file, while the next batch samples; a failed write (full disk)
  // stops the run, and what was saved stays.
  const saving = new InOrder();
  const onBatch = (images: GeneratedImage[]) => {
    for (const image of images) {
      void saving.queue(async () => {
        try {
          const path = await savePng(options.out, image.seed, image.png);
          const variationSeed = image.variationSeed !== undefined ? `  variation seed ${image.variationSeed}` : '';
          console.log(`${path}  seed ${image.seed}${variationSeed}  ${image.width}x${image.height}`);
        } catch (error) {
          controller.abort();
          throw error;
        }
      });
    }
  };
  try {
    let result;
    try {
      result = await generate(model, options.request, { signal: controller.signal, initImage, onBatch });
    } finally {
      await saving.drain(); // a write error is the reason a run stopped early: it wins over the cancel it caused
    }
    for (const note of result.notes) console.error(`note: ${note}`);
    const t = result.timings,
      n = result.images.length;
    console.log(
      `${n} image(s), ${result.evaluations} model evaluations each, ${(t.totalMs / 1000).toFixed(2)} s in all ` +
        `(${(t.totalMs / n / 1000).toFixed(2)} s per image; text ${t.textEncoderMs.toFixed(0)} ` +
        `ms, UNet ${t.unetMs.toFixed(0)} ms in ${t.unetCalls} calls, VAE ${t.vaeMs.toFixed(0)} ms)`,
    );
    return 0;
  } finally {
    await model.dispose();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      if (error instanceof SamplingCancelled || error instanceof ImportCancelled) {
        console.error('cancelled');
        process.exit(130);
      }
      console.error(`error: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
