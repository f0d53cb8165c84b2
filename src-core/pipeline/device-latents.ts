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
}

/** Stands for "no previous estimate" and "no noise" in the step graph (broadcast over the latent). */
const NONE = new ort.Tensor('float32', new Float32Array(1), [1, 1, 1, 1]);

export class DeviceLatentRun implements DeviceLatents {
  private x?: ort.Tensor;
  private sample?: ort.Tensor;
  private denoised?: ort.Tensor;
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

  async step(input: UNetBatch, c: StepCoefficients, noise?: Float32Array): Promise<boolean> {
    const { tensors, unetFloat, guided, runUNet } = this.options;
    if (!this.x || !this.sample) throw new Error('the device run was not started');
    const modelOut = this.hold(await runUNet({ ...input, batch: this.options.rows }, this.sample));
    try {
      const session = await tensors.session(`latent-step/${unetFloat}/${guided}`, () => stepModel(unetFloat, guided), {
        x_next: 'gpu-buffer',
        denoised: 'gpu-buffer',
        sample: 'gpu-buffer',
        finite: 'cpu',
      });
      const out = await session.run({
        x: this.x,
        model_out: modelOut,
        previous: this.denoised ?? NONE,
        noise: noise ? new ort.Tensor('float32', noise, this.dims) : NONE,
        coefficients: new ort.Tensor(
          'float32',
          Float32Array.from(STEP_COEFFICIENTS, (name) => c[name]),
          [STEP_COEFFICIENTS.length],
        ),
      });
      this.release();
      this.x = this.hold(out.x_next);
      this.denoised = this.hold(out.denoised);
      this.sample = this.hold(out.sample);
      return Number.isFinite((out.finite.data as Float32Array)[0]);
    } finally {
      tensors.free(modelOut);
    }
  }

  async read(which: 'x' | 'denoised'): Promise<Float64Array> {
    const tensor = which === 'x' ? this.x : this.denoised;
    if (!tensor) throw new Error(`no ${which} on the device yet`);
    return Float64Array.from((await this.options.tensors.download(tensor)).data as Float32Array);
  }

  /** Frees the run's tensors on the device. */
  release(): void {
    for (const tensor of [this.x, this.sample, this.denoised]) if (tensor) this.options.tensors.free(tensor);
    this.x = this.sample = this.denoised = undefined;
  }

  private hold(tensor: ort.Tensor): ort.Tensor {
    this.options.tensors.hold(tensor);
    return tensor;
  }
}
