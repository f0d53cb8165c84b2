// The durable write lives in src-core (the engine's import cache uses it too); electron/ keeps this path.
export { describeFsError, writeAll, writeFileAtomic, type WriteOps } from '../src-core/atomic-write.ts';
