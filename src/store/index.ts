import * as path from 'node:path';
import { FsStoreBackend } from './fs-backend';
import { TranscriptStore } from './transcript-store';

export { TranscriptStore, TranscriptNode, type StoredItem } from './transcript-store';
export type { StoreBackend } from './backend';
export { FsStoreBackend } from './fs-backend';
export { ObjectNotFoundError, CorruptObjectError } from './errors';

/** Opens the default filesystem store under `<unrollHome>/store`. */
export function openFsStore(unrollHome: string): TranscriptStore {
  return new TranscriptStore(new FsStoreBackend(path.join(unrollHome, 'store')));
}
