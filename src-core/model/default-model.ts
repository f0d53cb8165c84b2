import { join } from 'node:path';
import { appRoot } from '../app-root.ts';

/** The small model the project trains and ships (models/README.md); used when no model is given. */
export const DEFAULT_MODEL_DIR = join(appRoot(), 'models', 'restart-shapes-64');
