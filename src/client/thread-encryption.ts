/**
 * Refusing to write to an encrypted thread without its key. A client without the key
 * would send its message, approval or settings as plaintext payloads: the server would
 * record them in the clear in a history that is otherwise ciphertext, and a worker with
 * the key would accept them and run the turn. So every command that writes to a thread
 * (resume, send, approve, deny, interrupt, compact) first reads whether the thread is
 * encrypted, which needs no key: the first event of the thread's history (the session's
 * start, or its latest continue-as-new) carries the codec's metadata on its input
 * payload, `encoding: binary/encrypted` and the key id.
 */
import type { Client } from '@temporalio/client';
import { AesGcmPayloadCodec, payloadKeyId } from '../codec/aes-gcm-codec';
import { MissingEncryptionKeyError, UnknownEncryptionKeyError } from '../codec/errors';
import type { KeyRing } from '../codec/keys';
import { sessionWorkflowId, THREAD_ID } from '../shared/ids';
import { InvalidThreadIdError, ThreadNotFoundError } from './thread-errors';

/** gRPC status NOT_FOUND. */
const GRPC_NOT_FOUND = 5;

/** The key ring a client encrypts with (from its payload codecs), or null without encryption. */
export function clientKeys(client: Client): KeyRing | null {
  const codecs = client.options.loadedDataConverter.payloadCodecs;
  const codec = codecs.find((c): c is AesGcmPayloadCodec => c instanceof AesGcmPayloadCodec);
  return codec ? codec.keys : null;
}

/**
 * The id of the key a thread's payloads are encrypted with, or null when they are not,
 * read from the raw first event of the thread's current run (no key needed).
 *
 * @throws ThreadNotFoundError when the server has no such thread.
 */
export async function threadKeyId(client: Client, threadId: string): Promise<string | null> {
  if (!THREAD_ID.test(threadId)) throw new InvalidThreadIdError(threadId);
  let first;
  try {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: sessionWorkflowId(threadId) },
      maximumPageSize: 1,
    });
    first = page.history?.events?.[0];
  } catch (err) {
    if ((err as { code?: unknown }).code === GRPC_NOT_FOUND) throw new ThreadNotFoundError(threadId);
    throw err;
  }
  const payload = first?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return null;
  return payloadKeyId({ metadata: payload.metadata ?? undefined, data: payload.data ?? undefined }) ?? null;
}

/**
 * Throws unless this client can write to the thread: a {@link MissingEncryptionKeyError}
 * when the thread is encrypted and the client has no key, an
 * {@link UnknownEncryptionKeyError} when its key ring lacks the thread's key. Nothing is
 * written either way.
 */
export async function assertCanWriteTo(client: Client, threadId: string): Promise<void> {
  const keyId = await threadKeyId(client, threadId);
  if (keyId === null) return;
  const keys = clientKeys(client);
  if (!keys) throw new MissingEncryptionKeyError(`thread ${threadId}`, keyId);
  if (!keys.get(keyId)) throw new UnknownEncryptionKeyError(keyId, `thread ${threadId}`, keys.ids());
}
