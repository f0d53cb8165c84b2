// A sampling run's latents on the host, in the denoiser's workspace (kernels/kernel-memory.ts): after each UNet run,
// one kernel pass (kernels/linear-step.ts) applies guidance, the sampler's LinearStep and the next input's scaling,
// where the denoiser's combine, the sampler's own update and the next call's scaling took three passes and three
// calls into the kernels. The UNet's input and output are the workspace's own, so nothing is copied between steps.
import { linearStep } from '../kernels/linear-step.ts';
import { scaleInput } from '../kernels/latent-kernels.ts';
import type { LatentWorkspace } from '../kernels/kernel-memory.ts';
import type { DeviceLatents, StepCoefficients, UNetBatch, UNetCall, UNetFloats } from './unet.ts';

/** The workspace arrays it works in, 0 to 4: two estimates in turn (D and D_prev), the latent, a point, the noise. */
export const WORKSPACE_ARRAYS = 5;

export class WorkspaceLatents implements DeviceLatents {
  /** The host checks each step's D in the pass that computes it: a check costs nothing. */
  readonly checkEvery = 1;
  readonly noiseArray: Float64Array;
  private readonly x: Float64Array;
  private readonly ownPoint: Float64Array;
  private readonly estimates: [Float64Array, Float64Array];
  /** The evaluation point: x, or ownPoint after a step that moved it (Heun's prediction). */
  private point: Float64Array;
  private turn = 0;
  private steps = 0;
  private notFinite?: { step: number; value: number };

  /**
   * `input`: the denoiser's UNet batch, its sample (and output, where the provider writes it in place) the
   * workspace's own. The workspace has at least WORKSPACE_ARRAYS arrays.
   */
  constructor(
    private readonly workspace: LatentWorkspace,
    private readonly unet: UNetCall,
    private readonly input: UNetBatch,
    private readonly guided: boolean,
  ) {
    const [d0, d1, x, point, noise] = Array.from({ length: WORKSPACE_ARRAYS }, (_, k) => workspace.array(k)!);
    this.estimates = [d0, d1];
    this.x = this.point = x;
    this.ownPoint = point;
    this.noiseArray = noise;
  }

  async start(x: Float64Array, cIn: number): Promise<void> {
    this.x.set(x);
    this.point = this.x;
    this.steps = 0;
    this.notFinite = undefined;
    scaleInput(this.input.sample, this.x, cIn, this.guided);
  }

  async step(input: UNetBatch, c: StepCoefficients, drawNoise?: () => Float64Array): Promise<void> {
    const out = this.inWorkspace(await this.unet(input));
    const previous = this.steps > 0 ? this.estimates[this.turn] : undefined;
    this.turn ^= 1;
    const denoised = this.estimates[this.turn];
    const noise = drawNoise?.();
    if (noise && noise !== this.noiseArray) this.noiseArray.set(noise);
    const nextPoint = this.ownPoint; // in place where the point is already its own
    const finite = linearStep(
      { x: this.x, point: this.point, nextPoint, denoised, previous, noise: noise && this.noiseArray, out, input: this.input.sample },
      c,
      this.guided,
    );
    this.point = c.next ? nextPoint : this.x;
    if (!finite && !this.notFinite) this.notFinite = { step: this.steps, value: denoised.find((v) => !Number.isFinite(v))! };
    this.steps++;
  }

  async firstNotFinite(): Promise<{ step: number; value: number } | undefined> {
    return this.notFinite;
  }

  async read(which: 'x' | 'denoised' | 'previous'): Promise<Float64Array> {
    if (which === 'x') return this.x;
    return this.estimates[which === 'denoised' ? this.turn : this.turn ^ 1];
  }

  /** The workspace stays the denoiser's (released with it). */
  release(): void {}

  /** The UNet's output in the workspace: where the provider wrote it, or copied into the workspace's room for it. */
  private inWorkspace(out: UNetFloats): Float32Array | Uint16Array {
    const sample = this.input.sample;
    if (out.length !== sample.length) throw new RangeError(`UNet returned ${out.length} values for an input of ${sample.length}`);
    const own = this.input.output;
    if (own && out === own) return own;
    const room = this.workspace.unetOutput(out instanceof Uint16Array, out.length);
    room.set(out);
    return room;
  }
}
