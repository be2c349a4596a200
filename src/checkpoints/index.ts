/**
 * Workspace checkpoints: the files of a run as part of its durable record (see
 * ./snapshot.ts for taking one, ./restore.ts for using one, ./chain.ts for the store).
 */
export * from './types';
export { snapshotWorkspace, type SnapshotInput } from './snapshot';
export { checkoutCheckpoint, resetWorkspace, compareCheckpoints, checkpointFiles, type CheckpointPlace } from './restore';
export { readCheckpoint, checkpointChain, checkpointObjects, fetchCheckpoint, CheckpointNotFoundError } from './chain';
export { GitUnavailableError, GitCommandError } from './shadow-git';
