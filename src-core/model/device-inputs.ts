// Inputs kept on the GPU for the WebGPU provider. onnxruntime-node hands a WebGPU run's outputs back as GPU buffers
// when asked (`preferredOutputLocation: 'gpu-buffer'`) and takes such tensors as inputs, but it has no call that
// uploads an array: a one-node graph (Identity) on the same provider does it, once per array. The UNet then reads
// the prompt states from the GPU at every step instead of having them copied there at each call.
// A GPU tensor holds GPU memory until it is disposed (the garbage collector never frees it), and disposing one after
// the provider's last session is released crashes the process: the uploads dispose every tensor they made, and
// the model disposes them before its sessions.
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { Graph, type DType } from '../onnx/graph.ts';
import { sessionOptions, type ExecutionProvider } from './session.ts';

const { onnx } = onnxProto;

/** Providers whose tensors onnxruntime-node can keep on the device between runs. */
const KEEPS_TENSORS: readonly ExecutionProvider[] = ['webgpu'];

/** An Identity graph over one input of this type and rank, every dimension free. */
export function identityModel(type: DType, rank: number): Uint8Array {
  const graph = new Graph(`upload_${type}_${rank}`, 'float32');
  const dims = Array.from({ length: rank }, (_, i) => `d${i}`);
  graph.output('y', graph.op('Identity', [graph.input('x', type, dims)]), type, dims);
  return onnx.ModelProto.encode(graph.toModel([])).finish();
}

export class DeviceUploads {
  /** One Identity session per type and rank, made at its first upload. */
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly live = new Set<ort.Tensor>();
  private disposed = false;

  private constructor(private readonly provider: ExecutionProvider) {}

  /** Uploads for a provider that keeps tensors on its device; undefined for the others (their inputs are host arrays). */
  static for(provider: ExecutionProvider): DeviceUploads | undefined {
    return KEEPS_TENSORS.includes(provider) ? new DeviceUploads(provider) : undefined;
  }

  /** A copy of a host tensor on the device, the same type and shape; free() it when it is no longer fed. */
  async upload(tensor: ort.Tensor): Promise<ort.Tensor> {
    if (this.disposed) throw new Error('the model was unloaded');
    const key = `${tensor.type}/${tensor.dims.length}`;
    let session = this.sessions.get(key);
    if (!session) {
      const options = { ...sessionOptions(this.provider), preferredOutputLocation: 'gpu-buffer' as const };
      session = ort.InferenceSession.create(identityModel(tensor.type as DType, tensor.dims.length), options);
      this.sessions.set(key, session);
      session.catch(() => this.sessions.delete(key)); // a failed creation is tried again by the next upload
    }
    const { y } = await (await session).run({ x: tensor });
    if (y.location !== 'gpu-buffer') throw new Error(`the ${this.provider} provider returned the upload on the ${y.location}`);
    this.live.add(y);
    return y;
  }

  /** Frees a tensor upload() made (others are left alone). */
  free(tensor: ort.Tensor): void {
    if (this.live.delete(tensor)) tensor.dispose();
  }

  /** How many uploaded tensors are held (not freed yet). */
  get held(): number {
    return this.live.size;
  }

  /** Frees every tensor still held and closes the sessions; called before the model's own sessions are released. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const tensor of this.live) tensor.dispose();
    this.live.clear();
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(async (s) => (await s.catch(() => undefined))?.release()));
  }
}
