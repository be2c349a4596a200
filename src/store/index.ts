import * as path from 'node:path';
import { EncryptedStoreBackend } from '../codec/encrypted-backend';
import type { KeyRing } from '../codec/keys';
import { FsStoreBackend } from './fs-backend';
import { TranscriptStore } from './transcript-store';

export { TranscriptStore, TranscriptNode, type StoredItem } from './transcript-store';
export type { StoreBackend, ObjectLinks, ChainRow, RoundTripCounter } from './backend';
export { FsStoreBackend } from './fs-backend';
export { ObjectNotFoundError, CorruptObjectError, StoreIoError, StoreReadError, StoreWriteError, type StoredObjectKind } from './errors';
export { PgStoreBackend, StoreClosedError } from './pg-backend';
export { CountingStoreBackend } from './counting-backend';
export { openStore, checkStore, type OpenedStore, type OpenStoreOptions } from './open-store';
export { parseStoreSpec, describeStoreSpec, type StoreSpec } from './store-spec';
export { StoreConfigError, StoreUnavailableError, StoreIdCorruptError } from './errors';
export { StoreSchemaTooNewError } from './pg-schema';

/**
 * Opens the default filesystem store under `<unrollHome>/store`. With `keys`, objects and
 * markers are encrypted at rest (see src/codec/encrypted-backend.ts); without, they are
 * written in plaintext and reading an encrypted one is a clear error. Objects written
 * before encryption was turned on stay readable either way.
 */
export function openFsStore(unrollHome: string, keys?: KeyRing | null): TranscriptStore {
  return new TranscriptStore(new EncryptedStoreBackend(new FsStoreBackend(path.join(unrollHome, 'store')), keys ?? null));
}
