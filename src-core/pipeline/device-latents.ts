// A sampling run's latents on the device (WebGPU; guidance/unet.ts, DeviceLatents): each step runs the UNet on the
// sample the last step left there, then the step graph (model/step-graph.ts) on the UNet's output, which never
// leaves the device. Only the step's scalars go up, with fresh noise where the sampler draws it; the latent comes
// back at the end, or for a preview. Every device tensor is held by the model's DeviceTensors until freed here
// (the model frees what is left before closing its sessions, as a GPU tensor freed after them crashes the process).
import * as ort from 'onnxruntime-node';
import type { DeviceLatents, StepCoefficients, UNetBatch } from '../guidance/unet.ts';
import type { DeviceTensors } from '../model/device-tensors.ts';
import { startModel, stepModel, STEP_COEFFICIENTS } from '../model/step-graph.ts';
import type { FloatType } from '../model/tensors.ts';

export interface DeviceLatentOptions {
  tensors: DeviceTensors;
  unetFloat: FloatType;
  guided: boolean;
  /** The UNet's batch: the images, twice when guided. */
  rows: number;
  /** One image's latent: channels, height, width. */
  latent: [number, number, number];
  /** The UNet on a sample on the device; its output stays there (the caller frees it). */
  runUNet: (input: UNetBatch, sample: ort.Tensor) => Promise<ort.Tensor>;
  /** Each step graph's run time (ms). */
  stepTime?: (ms: number) => void;
  /** Each wait for the device (a check or a read: mostly the queued UNet runs' time on the device), in ms. */
  waitTime?: (ms: number) => void;
}

/** The running check's start, and the step graph's `checked` input at a run's first step. */
const NOTHING_CHECKED = new ort.Tensor('float32', new Float32Array(1), [1]);

export class DeviceLatentRun implements DeviceLatents {
  private x?: ort.Tensor;
  /** The next evaluation point, where it is not the latent (Heun's prediction). */
  private point?: ort.Tensor;
  private sample?: ort.Tensor;
  private denoised?: ort.Tensor;
  /** The estimate before `denoised`, for read('previous'). */
  private previous?: ort.Tensor;
  /** The running checks (step graph's checked_next) not read yet, with their steps; the last is the next step's input. */
  private unchecked: Array<{ step: number; checked: ort.Tensor }> = [];
  /** The last check read and found finite, while it is still the next step's input. */
  private lastChecked?: ort.Tensor;
  private steps = 0;
  private readonly dims: number[];

  constructor(private readonly options: DeviceLatentOptions) {
    this.dims = [options.guided ? options.rows / 2 : options.rows, ...options.latent];
  }

  async start(x: Float64Array, cIn: number): Promise<void> {
    const { tensors, unetFloat, guided } = this.options;
    const session = await tensors.session(`latent-start/${unetFloat}/${guided}`, () => startModel(unetFloat, guided), {
      x_out: 'gpu-buffer',
      sample: 'gpu-buffer',
    });
    const out = await session.run({
      x: new ort.Tensor('float32', Float32Array.from(x), this.dims),
      c_in: new ort.Tensor('float32', Float32Array.of(cIn), [1]),
    });
    this.release();
    this.x = this.hold(out.x_out);
    this.sample = this.hold(out.sample);
  }

  async step(input: UNetBatch, c: StepCoefficients, noise?: Float64Array): Promise<void> {
    const { tensors, unetFloat, guided, runUNet } = this.options;
    if (!this.x || !this.sample) throw new Error('the device run was not started');
    const modelOut = this.hold(await runUNet({ ...input, batch: this.options.rows }, this.sample));
    try {
      // The graph for the step's terms: a point of its own where the last step made one, a next one where this step
      // makes one, D_prev where it weighs, noise where some is added.
      const terms = {
        point: this.point !== undefined,
        next: c.next !== undefined,
        previous: c.previous !== 0 && this.denoised !== undefined,
        noise: noise !== undefined,
      };
      const key = `latent-step/${unetFloat}/${guided}/${Object.values(terms).join('/')}`;
      const session = await tensors.session(key, () => stepModel(unetFloat, guided, terms), {
        x_next: 'gpu-buffer',
        ...(terms.next ? { point_next: 'gpu-buffer' as const } : {}),
        denoised: 'gpu-buffer',
        sample: 'gpu-buffer',
        checked_next: 'gpu-buffer',
      });
      const feeds: Record<string, ort.Tensor> = {
        x: this.x,
        model_out: modelOut,
        coefficients: new ort.Tensor('float32', coefficientsOf(c, terms.point), [STEP_COEFFICIENTS.length]),
        checked: this.unchecked.at(-1)?.checked ?? this.lastChecked ?? NOTHING_CHECKED,
      };
      if (this.point) feeds.point = this.point;
      if (terms.previous) feeds.previous = this.denoised!;
      if (noise) feeds.noise = new ort.Tensor('float32', Float32Array.from(noise), this.dims);
      const t0 = performance.now();
      const out = await session.run(feeds);
      this.options.stepTime?.(performance.now() - t0);
      // The step's inputs are done with, but for D, which becomes the previous estimate.
      for (const old of [this.x, this.point, this.sample, this.previous]) if (old) tensors.free(old);
      this.previous = this.denoised;
      this.x = this.hold(out.x_next);
      this.point = terms.next ? this.hold(out.point_next) : undefined;
      this.denoised = this.hold(out.denoised);
      this.sample = this.hold(out.sample);
      this.unchecked.push({ step: this.steps++, checked: this.hold(out.checked_next) });
      if (this.lastChecked) this.options.tensors.free(this.lastChecked);
      this.lastChecked = undefined;
    } finally {
      tensors.free(modelOut);
    }
  }

  async firstNotFinite(): Promise<{ step: number; value: number } | undefined> {
    const t0 = performance.now();
    try {
      return await this.findNotFinite();
    } finally {
      this.options.waitTime?.(performance.now() - t0);
    }
  }

  private async findNotFinite(): Promise<{ step: number; value: number } | undefined> {
    const last = this.unchecked.at(-1);
    if (!last) return undefined;
    if (Number.isFinite(await this.scalar(last.checked))) {
      for (const { checked } of this.unchecked.slice(0, -1)) this.options.tensors.free(checked);
      this.unchecked = [];
      this.lastChecked = last.checked;
      return undefined;
    }
    // Once not finite, the running check stays so: the first such is the step that broke it.
    for (const { step, checked } of this.unchecked) {
      const value = await this.scalar(checked);
      if (!Number.isFinite(value)) return { step, value };
    }
    throw new Error('the running check changed while it was read');
  }

  async read(which: 'x' | 'denoised' | 'previous'): Promise<Float64Array> {
    const tensor = which === 'x' ? this.x : which === 'denoised' ? this.denoised : this.previous;
    if (!tensor) throw new Error(`no ${which} on the device yet`);
    const t0 = performance.now();
    const values = (await this.options.tensors.download(tensor)).data as Float32Array;
    this.options.waitTime?.(performance.now() - t0);
    return Float64Array.from(values);
  }

  /** Frees the run's tensors on the device. */
  release(): void {
    this.releaseLatents();
    for (const tensor of [...this.unchecked.map((u) => u.checked), this.lastChecked]) if (tensor) this.options.tensors.free(tensor);
    this.unchecked = [];
    this.lastChecked = undefined;
    this.steps = 0;
  }

  private releaseLatents(): void {
    for (const tensor of [this.x, this.point, this.sample, this.denoised, this.previous]) if (tensor) this.options.tensors.free(tensor);
    this.x = this.point = this.sample = this.denoised = this.previous = undefined;
  }

  private async scalar(tensor: ort.Tensor): Promise<number> {
    return ((await this.options.tensors.download(tensor)).data as Float32Array)[0];
  }

  private hold(tensor: ort.Tensor): ort.Tensor {
    this.options.tensors.hold(tensor);
    return tensor;
  }
}

/**
 * The step graph's coefficients in STEP_COEFFICIENTS' order. Where the point is the latent itself (no point of its
 * own), its weights go to the latent's.
 */
function coefficientsOf(c: StepCoefficients, ownPoint: boolean): Float32Array {
  const next = c.next ?? { x: 0, point: 0, denoised: 0 };
  const values: Record<(typeof STEP_COEFFICIENTS)[number], number> = {
    ...c,
    x: ownPoint ? c.x : c.x + c.point,
    point: ownPoint ? c.point : 0,
    nextX: ownPoint ? next.x : next.x + next.point,
    nextPoint: ownPoint ? next.point : 0,
    nextDenoised: next.denoised,
  };
  return Float32Array.from(STEP_COEFFICIENTS, (name) => values[name]);
}
