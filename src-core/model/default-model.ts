import { fileURLToPath } from 'node:url';

/** The small model the project trains and ships (models/README.md); used when no model is given. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../models/restart-shapes-64', import.meta.url));
