/** A problem with a model folder, phrased for the user and naming the part at fault. */
export class ModelError extends Error {
  constructor(readonly component: string, message: string) {
    super(`${component}: ${message}`);
    this.name = 'ModelError';
  }
}
