// Which cached imports this importer still reuses. The importer version is part of every cache folder's name and of
// its import_info.json, but a new version need not change every family's output (version 2 changed SD 1/2's text
// encoders only): a folder that an older version made for a family whose output has not changed since is reused,
// not imported again (minutes and gigabytes for SDXL), and is not removed as superseded.
import { FAMILY_OUTPUT_VERSION, IMPORTER_VERSION } from './importer.ts';
import type { ImportInfo } from './write-folder.ts';

/** Whether a folder that `importerVersion` made for `family` holds what this importer would write now. */
export function stillCurrent(info: Pick<ImportInfo, 'family' | 'importerVersion'>): boolean {
  // A newer app's folder may hold what this one cannot read.
  return info.importerVersion >= FAMILY_OUTPUT_VERSION[info.family] && info.importerVersion <= IMPORTER_VERSION;
}

/** Whether a folder was made before its family's output last changed (never one a newer app made). */
export function superseded(info: Pick<ImportInfo, 'family' | 'importerVersion'>): boolean {
  return info.importerVersion < FAMILY_OUTPUT_VERSION[info.family];
}

/** The older importer versions whose folders may still be current for some family, newest first. */
export function earlierReusableVersions(): number[] {
  const oldest = Math.min(...Object.values(FAMILY_OUTPUT_VERSION));
  const versions: number[] = [];
  for (let version = IMPORTER_VERSION - 1; version >= oldest; version--) versions.push(version);
  return versions;
}
