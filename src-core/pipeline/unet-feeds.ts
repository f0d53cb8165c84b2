// The UNet's input tensors, kept across the steps of a run: a fresh ort.Tensor per input and step (and a fresh
// float16 copy of a 4x64x64 latent) cost more than a sampler step's arithmetic. A feed is rebuilt only when its
// source array or shape changes; otherwise the sample's float16 copy and the timestep are rewritten in place.
import * as ort from 'onnxruntime-node';
import { toHalfBits } from '../model/half.ts';
import type { StableDiffusionModel, TimestepType } from '../model/model.ts';
import { floatTensor, type FloatType } from '../model/tensors.ts';
import type { UNetFloats } from '../guidance/unet.ts';
import type { DeviceTensors } from '../model/device-tensors.ts';

const sameDims = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * A float input over one source array: a tensor of the input's type wraps the array itself (float32 values, or half
 * bit patterns for float16), and a float16 input given float32 values holds their conversion.
 */
export class FloatFeed {
  private source?: UNetFloats;
  private tensor?: ort.Tensor;

  constructor(private readonly type: FloatType) {}

  /** The tensor for `source`; `changed` says its values may differ from the last call's (a conversion runs again). */
  of(source: UNetFloats, dims: readonly number[], changed = false): ort.Tensor {
    if (!this.tensor || this.source !== source || !sameDims(this.tensor.dims, dims)) {
      this.source = source;
      if (source instanceof Float32Array) this.tensor = floatTensor(this.type, source, dims);
      else if (this.type === 'float16') this.tensor = new ort.Tensor('float16', source, dims);
      else throw new TypeError('half bit patterns given for a float32 input');
    } else if (changed) {
      this.refresh();
    }
    return this.tensor;
  }

  /** The same tensor over the same source, whose values changed: float32 values for float16 are converted again. */
  refresh(): void {
    if (this.type === 'float16' && this.source instanceof Float32Array && this.tensor)
      toHalfBits(this.source, this.tensor.data as Uint16Array);
  }
}

/** The timestep input: one tensor per batch size, its value written before each call. */
export class TimestepFeed {
  private tensor?: ort.Tensor;
  private batch = -1;

  constructor(
    private readonly type: TimestepType,
    private readonly shape: StableDiffusionModel['info']['timestepShape'],
  ) {}

  of(timestep: number, batch: number): ort.Tensor {
    if (!this.tensor || this.batch !== batch) {
      const dims = this.shape === 'scalar' ? [] : this.shape === 'single' ? [1] : [batch];
      const count = this.shape === 'batch' ? batch : 1;
      const data =
        this.type === 'int64' ? new BigInt64Array(count) : this.type === 'float16' ? new Uint16Array(count) : new Float32Array(count);
      this.tensor = new ort.Tensor(this.type, data, dims);
      this.batch = batch;
    }
    const data = this.tensor.data as Float32Array | Uint16Array | BigInt64Array;
    // Integer-timestep exports take the nearest whole timestep (the pipeline asks for 'nearest' then). Written by a
    // loop: TypedArray fill is a call into V8's runtime, 5 us between two UNet calls for two values.
    if (data instanceof BigInt64Array) {
      const value = BigInt(Math.round(timestep));
      for (let i = 0; i < data.length; i++) data[i] = value;
    } else {
      const value = data instanceof Uint16Array ? toHalfBits(Float32Array.of(timestep))[0] : timestep;
      for (let i = 0; i < data.length; i++) data[i] = value;
    }
    return this.tensor;
  }
}

/**
 * The UNet's output written into an array of the caller's, given to onnxruntime as a preallocated output tensor: the
 * values are there when the run returns, and the denoiser's kernels read them in place (one 128 KiB copy fewer
 * between two calls at 4x64x64). Checked at the first run: the array is filled with NaN before it, and where a
 * provider left it unwritten (its bits differ from the returned tensor's), the returned tensors are read from then on.
 */
export class OutputFeed {
  private target?: UNetFloats;
  private tensor?: ort.Tensor;
  /** { name: tensor }, made with the tensor: an object made between two UNet calls costs microseconds. */
  private preallocated: Record<string, ort.Tensor> = {};
  /** Whether the provider writes into the preallocated tensor; undefined until the first run shows it. */
  private writes?: boolean;
  private used = false;

  private readonly names: string[];

  /** `type`: the output's declared float type; undefined (another type) never preallocates. */
  constructor(
    private readonly name: string,
    private readonly type: FloatType | undefined,
  ) {
    this.names = [name];
  }

  /** The run's fetches: the preallocated output over `target` where it can be one, otherwise the output's name. */
  fetches(target: UNetFloats | undefined, dims: readonly number[]): ort.InferenceSession.FetchesType {
    const fits = this.type !== undefined && target instanceof (this.type === 'float16' ? Uint16Array : Float32Array);
    this.used = fits && this.writes !== false;
    if (!this.used) return this.names;
    if (this.target !== target || !sameDims(this.tensor!.dims, dims)) {
      this.target = target;
      this.tensor = new ort.Tensor(this.type!, target!, dims);
      this.preallocated = { [this.name]: this.tensor };
    }
    if (this.writes === undefined) target!.fill(target instanceof Uint16Array ? 0x7e00 : NaN);
    return this.preallocated;
  }

  /**
   * The run failed: true when it was the first run given the preallocated output, which is not given again (the
   * caller runs once more without it; an error of the model itself comes back then).
   */
  refusedAtFirstRun(): boolean {
    if (!this.used || this.writes !== undefined) return false;
    this.writes = false;
    return true;
  }

  /** Whether the provider writes into the preallocated output (undefined before a run that offered one). */
  get inPlace(): boolean | undefined {
    return this.writes;
  }

  /** After the run: the target, when the output was written there; undefined to read the returned tensor instead. */
  written(returned: ort.Tensor): UNetFloats | undefined {
    if (!this.used) return undefined;
    this.writes ??= sameBits(returned.data as UNetFloats, this.target!);
    return this.writes ? this.target : undefined;
  }
}

function sameBits(a: UNetFloats, b: UNetFloats): boolean {
  if (a.length !== b.length) return false;
  const wordsA = new Uint16Array(a.buffer, a.byteOffset, a.byteLength / 2),
    wordsB = new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
  for (let i = 0; i < wordsA.length; i++) if (wordsA[i] !== wordsB[i]) return false;
  return true;
}

/**
 * The UNet's inputs that are the same at every step of a run (the prompt states; SDXL's pooled vector and sizes), fed
 * from the device where the model keeps tensors there (DeviceTensors, WebGPU): each is uploaded when its host tensor
 * changes (once per run) instead of copied to the GPU at every call. An upload that fails leaves the host tensors
 * fed from then on, as for the other providers.
 */
export class ResidentInputs {
  private readonly held = new Map<string, { host: ort.Tensor; device: ort.Tensor }>();
  private refused = false;

  constructor(
    private readonly uploads: DeviceTensors | undefined,
    private readonly names: readonly string[],
  ) {}

  /** `feeds` with those inputs replaced by their device copies. */
  async of(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    if (!this.uploads || this.refused) return feeds;
    const resident = { ...feeds };
    try {
      for (const name of this.names) {
        const host = feeds[name];
        if (!host) continue;
        let copy = this.held.get(name);
        if (copy?.host !== host) {
          if (copy) this.uploads.free(copy.device);
          this.held.delete(name);
          copy = { host, device: await this.uploads.upload(host) };
          this.held.set(name, copy);
        }
        resident[name] = copy.device;
      }
    } catch {
      this.release();
      this.refused = true;
      return feeds;
    }
    return resident;
  }

  /** Whether those inputs are fed from the device; undefined where the model keeps none there. */
  get onDevice(): boolean | undefined {
    return this.uploads && !this.refused;
  }

  /** Frees the device copies (the run is over); a later call uploads again. */
  release(): void {
    for (const { device } of this.held.values()) this.uploads?.free(device);
    this.held.clear();
  }
}
