/** A problem with a model folder, phrased for the user and naming the part at fault. */
export class ModelError extends Error {
  constructor(
    readonly component: string,
    message: string,
  ) {
    super(`${component}: ${message}`);
    this.name = 'ModelError';
  }
}

/** An execution provider could not run a component (missing libraries, no GPU adapter...). */
export class ProviderError extends Error {
  constructor(
    readonly provider: string,
    readonly component: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
