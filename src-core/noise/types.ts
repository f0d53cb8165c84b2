/**
 * A seeded stream of standard-normal values for one image. `randn(count)` behaves like one call of
 * torch.randn(count) on that image's generator: successive calls continue the stream. The start
 * latent is the first call; samplers that add noise (Euler a, Restart) make the later ones.
 */
export interface NoiseStream {
  randn(count: number): Float64Array;
}
