// The app's state and actions, shared by the views: what the engine told us (app.info, models,
// gallery), the generate form, the running job, messages. Pure logic lives in the other lib
// modules; this class only wires them to the client and to Svelte's reactivity.
import type { ActiveJob, AppInfo, EventName, Events, GalleryEntry, ModelSummary, ProviderName } from '../../../src-core/contract/api.ts';
import type { ConnectionState, StudioClient } from './client.ts';
import { withContext } from './errors.ts';
import { FormErrorBanner, withPrefix } from './form-error.ts';
import { adaptToModel, defaultForm, formToRequest, sizeMultipleOf, vaeFactorOf, type FormState } from './form.ts';
import { listGallery, mergeEntries, sortNewest } from './gallery.ts';
import type { ImportMessage } from './import-message.ts';
import {
  IDLE_JOB,
  isActive,
  adoptJob,
  jobAccepted,
  jobCancelling,
  jobEvent,
  jobInterrupted,
  jobRejected,
  startJob,
  type JobEvent,
  type JobState,
} from './job.ts';
import { GenerateQueue } from './generate-queue.svelte.ts';
import { isModelProblem, NO_MODEL, switchError } from './model-status.ts';
import { imagesOf, type GenerateRequestInput } from '../../../src-core/contract/generate.ts';
import { defaultHires, defaultImg2img, withImg2img, type HiresForm, type Img2imgForm } from './img2img.ts';
import { Experiments, type ExperimentHost } from './experiments.svelte.ts';

export type View = 'generate' | 'gallery' | 'compare' | 'explore';

export const ENGINE_RESTARTING = 'The engine stopped unexpectedly: engine restarting… your gallery is safe.';
export const CONNECTION_LOST_BANNER = 'Engine connection lost — reconnecting…';

const UNREACHABLE = 'Could not reach the engine';

export class Studio implements ExperimentHost {
  readonly client: StudioClient;
  info = $state.raw<AppInfo | null>(null);
  models = $state.raw<ModelSummary[]>([]);
  form = $state<FormState>(defaultForm());
  /** img2img's source image and denoising strength, and hires fix (the Generate view). */
  img2img = $state<Img2imgForm>(defaultImg2img());
  hires = $state<HiresForm>(defaultHires());
  /** The source image of the last img2img job, for the before/after view. */
  lastSource = $state.raw<Img2imgForm['source']>(null);
  job = $state.raw<JobState>(IDLE_JOB);
  gallery = $state.raw<GalleryEntry[]>([]);
  galleryLoaded = $state(false);
  selectedId = $state<string | null>(null);
  view = $state<View>('generate');
  /** The message of the error box (role=alert); null hides it. */
  error = $state<string | null>(null);
  /** What loading parameters from a PNG could not carry over. */
  notes = $state.raw<ImportMessage | null>(null);
  connection = $state<ConnectionState>('connecting');
  engine = $state.raw<Events['engine.status'] | null>(null);
  lastSeed = $state<number | null>(null);
  /** Set for a few seconds after the engine came back from a crash. */
  engineRecovered = $state(false);
  switchingModel = $state(false);
  /** Generate requests waiting for the running one (and one waiting for the model to load). */
  readonly queue = new GenerateQueue();
  /** The Compare view's grid and the Explore view's sweep. */
  readonly experiments: Experiments;
  #cancelWanted = false;
  #unsubscribe: Array<() => void> = [];
  #formError = new FormErrorBanner();

  constructor(client: StudioClient) {
    this.client = client;
    this.experiments = new Experiments(this);
  }

  get vaeFactor(): number {
    return vaeFactorOf(this.info);
  }

  /** What the model's image sides must be multiples of (its UNet's downsamplings included). */
  get sizeMultiple(): number {
    return sizeMultipleOf(this.info);
  }

  get busy(): boolean {
    return isActive(this.job);
  }

  /** No model info yet (a cold start) or a model switch under way. */
  get modelLoading(): boolean {
    return !this.info || this.switchingModel;
  }

  get engineRestarting(): boolean {
    return this.engine?.state === 'crashed' || this.engine?.state === 'restarting';
  }

  /** Subscribes to events and loads what the views show. */
  start(): void {
    const jobEvents: EventName[] = ['job.progress', 'job.preview', 'job.done', 'job.failed'];
    for (const name of jobEvents) {
      this.#unsubscribe.push(this.client.on(name, (data) => this.#onJobEvent({ name, data } as JobEvent)));
    }
    this.#unsubscribe.push(
      ...this.experiments.subscribe(),
      this.client.on('engine.status', (s) => this.#onEngineStatus(s)),
      this.client.onConnection((state) => this.#onConnection(state)),
    );
    this.connection = this.client.connection();
    this.#unsubscribe.push(
      $effect.root(() => {
        $effect(() => {
          if (this.#formError.stale(this.error)) this.error = null;
        });
      }),
    );
    void this.refresh();
  }

  stop(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  showError(doing: string, error: unknown): void {
    this.error = withContext(doing, error);
  }

  setError(message: string | null): void {
    this.error = message;
  }

  addToGallery(entries: GalleryEntry[]): void {
    this.gallery = mergeEntries(this.gallery, entries);
  }

  /** Shows a form check's message in the banner until the form no longer gives it. */
  showFormError(check: () => string | null): void {
    this.error = this.#formError.show(check);
  }

  /** The Generate form's request (img2img and hires fix included), or its first problem. */
  #generateRequest(random?: () => number) {
    const sizes = { vaeFactor: this.vaeFactor, sizeMultiple: this.sizeMultiple, random };
    return withImg2img(formToRequest(this.form, sizes), this.img2img, this.hires, sizes);
  }

  /** app.info, the model list and the gallery (again after a reconnect or an engine restart). */
  async refresh(): Promise<void> {
    const [info, models, gallery, active] = await Promise.allSettled([
      this.client.call('app.info', {}),
      this.client.call('model.list', {}),
      listGallery(this.client),
      this.client.call('job.active', {}),
    ]);
    if (active.status === 'fulfilled') this.#adoptJobs(active.value);
    if (info.status === 'fulfilled') {
      if (this.error?.startsWith(UNREACHABLE)) this.error = null;
      this.#setInfo(info.value);
    } else {
      this.showError(UNREACHABLE, info.reason);
    }
    if (models.status === 'fulfilled') this.models = models.value;
    if (gallery.status === 'fulfilled') {
      this.gallery = sortNewest(gallery.value);
      this.galleryLoaded = true;
    } else if (info.status === 'fulfilled') {
      this.showError('Could not load the gallery', gallery.reason);
    }
  }

  /** Jobs running that this window does not follow (it was reloaded or opened meanwhile): followed from now on. */
  #adoptJobs(active: ActiveJob[]): void {
    this.#setJob(adoptJob(this.job, active));
    this.experiments.adopt(active);
  }

  #setInfo(info: AppInfo): void {
    const before = this.info;
    this.info = info;
    this.form = adaptToModel(this.form, before, info);
    if (info.modelError) this.error = `The model could not be loaded: ${info.modelError}`;
    this.#modelReady(info);
  }

  /** A model works: model errors are gone, and a Generate pressed while it loaded runs now. */
  #modelReady(info: AppInfo): void {
    if (!info.model) return;
    if (!info.modelError && isModelProblem(this.error)) this.error = null;
    if (this.queue.wanted && !this.switchingModel) {
      this.queue.wanted = false;
      void this.generate();
    }
  }

  /** Loads a model folder, or the same one on another execution provider. */
  async selectModel(dir: string, provider?: ProviderName): Promise<void> {
    if (!dir || (dir === this.info?.model?.dir && (!provider || provider === this.info?.providerChoice))) return;
    this.switchingModel = true;
    let failed: string | null = null;
    try {
      const info = await this.client.call('model.select', provider ? { dir, provider } : { dir });
      const before = this.info;
      this.info = info;
      this.form = adaptToModel(this.form, before, info);
      if (info.modelError) this.error = `The model could not be loaded: ${info.modelError}`;
    } catch (error) {
      failed = switchError(error);
    } finally {
      this.switchingModel = false;
    }
    if (this.info) this.#modelReady(this.info);
    // After #modelReady, which clears model problems: the previous model still works, but the switch failed.
    if (failed) this.error = failed;
  }

  async generate(): Promise<void> {
    // Until the model's info arrives the form still holds placeholder sizes: run once it is there.
    if (this.modelLoading || this.engineRestarting) {
      this.queue.wanted = true;
      return;
    }
    if (!this.info?.model) {
      this.error = NO_MODEL;
      return;
    }
    const checked = this.#generateRequest();
    if (checked.error !== undefined) {
      this.showFormError(() => withPrefix('Could not generate', this.#generateRequest(() => 0).error));
      return;
    }
    if (this.busy) this.queue.add(checked.value);
    else await this.#run(checked.value);
  }

  async #run(request: GenerateRequestInput): Promise<void> {
    this.error = null;
    this.notes = null;
    this.lastSeed = request.seed;
    this.lastSource = request.initImage ? $state.snapshot(this.img2img.source) : null;
    this.#cancelWanted = false;
    this.job = startJob(imagesOf(request));
    try {
      const { jobId } = await this.client.call('job.generate', request);
      this.#setJob(jobAccepted(this.job, jobId));
      if (this.#cancelWanted && isActive(this.job)) void this.cancel();
    } catch (error) {
      this.#setJob(jobRejected(this.job, withContext('Could not generate', error)));
    }
  }

  async cancel(): Promise<void> {
    if (!this.busy) return;
    this.job = jobCancelling(this.job);
    const jobId = this.job.jobId;
    if (!jobId) {
      this.#cancelWanted = true;
      return;
    }
    await this.cancelJob(jobId);
  }

  async cancelJob(jobId: string): Promise<void> {
    try {
      await this.client.call('job.cancel', { jobId });
    } catch (error) {
      this.showError('Could not cancel', error);
    }
  }

  #setJob(next: JobState): void {
    const before = this.job;
    this.job = next;
    if (next.phase === 'failed' && before.phase !== 'failed' && next.error) {
      this.error = next.error.startsWith('Could not') ? next.error : withContext('Could not generate', next.error);
    }
    const queued = isActive(before) && !isActive(next) ? this.queue.take() : undefined;
    if (queued) void this.#run(queued);
  }

  #onJobEvent(event: JobEvent): void {
    if (event.name === 'job.failed' && event.data.entries) this.gallery = mergeEntries(this.gallery, event.data.entries);
    if (event.name === 'job.done') {
      this.gallery = mergeEntries(this.gallery, event.data.entries);
      if (event.data.jobId === this.job.jobId && event.data.entries.length) this.lastSeed = event.data.entries[0].seed;
    }
    this.#setJob(jobEvent(this.job, event));
  }

  #onEngineStatus(status: Events['engine.status']): void {
    const was = this.engine?.state;
    this.engine = status;
    if (status.state === 'crashed' || status.state === 'restarting') {
      this.engineRecovered = false;
      if (isModelProblem(this.error)) this.error = null; // the banner says "engine restarting…" instead
      this.#setJob(jobInterrupted(this.job, 'Could not generate: the engine stopped unexpectedly during generation'));
      this.experiments.interrupt('the engine stopped unexpectedly', false);
    } else if (status.state === 'ready' && (was === 'crashed' || was === 'restarting')) {
      this.engineRecovered = true;
      setTimeout(() => (this.engineRecovered = false), 5000);
      void this.refresh();
    }
  }

  #onConnection(state: ConnectionState): void {
    const before = this.connection;
    this.connection = state;
    if (state === 'reconnecting') {
      this.#setJob(
        jobInterrupted(
          this.job,
          'Could not generate: the connection to the engine was lost; images that were finished will appear in the gallery',
        ),
      );
      this.experiments.interrupt('the connection to the engine was lost', true);
    } else if (state === 'open' && before === 'reconnecting') {
      // The first connection answers the calls start() queued; later ones need a fresh look.
      void this.refresh();
    }
  }

  useRandomSeed(): void {
    this.form.seed = -1;
  }

  reuseLastSeed(): void {
    if (this.lastSeed !== null) this.form.seed = this.lastSeed;
  }
}
