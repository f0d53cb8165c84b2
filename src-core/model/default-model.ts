import { join } from 'node:path';
import { appRoot } from '../app-root.ts';

/**
 * Where the shipped models are: models/ beside package.json when running from sources; in a packaged app, the
 * resources folder's models/, where electron-builder's extraResources put them (build/electron-builder.yml), because
 * the app's own files are inside app.asar, which onnxruntime's native code cannot read.
 */
export function modelsRoot(root = appRoot(), resources = (process as { resourcesPath?: string }).resourcesPath): string {
  return resources && /\.asar([\\/]|$)/.test(root) ? join(resources, 'models') : join(root, 'models');
}

/** The small model the project trains and ships (models/README.md); used when no model is given. */
export const DEFAULT_MODEL_DIR = join(modelsRoot(), 'restart-shapes-64');
