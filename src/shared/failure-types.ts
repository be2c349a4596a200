/**
 * Failure types shared by activities (which throw them) and workflows (which decide on
 * them). Pure constants: safe to import from workflow code.
 */
/** The `type` of every ApplicationFailure the inference activity throws. */
export const InferenceFailureType = {
  /** Transient: rate limit, overload, server error, network, stream cut. Retried. */
  Transient: 'ModelTransientError',
  /** The conversation no longer fits the model's window; the workflow must compact. */
  ContextWindowExceeded: 'ContextWindowExceeded',
  /** The provider rejected the request (400/404/422): retrying would not help. */
  RequestRejected: 'ModelRequestRejected',
  /** The key is wrong or lacks permission (401/403). */
  AuthenticationFailed: 'ModelAuthenticationFailed',
  /** The account is out of quota (429 insufficient_quota). */
  QuotaExceeded: 'ModelQuotaExceeded',
  /** The worker has no API key for the provider. */
  MissingApiKey: 'MissingApiKey',
} as const;

/**
 * The `type` of the failures any activity throws for trouble with the transcript store
 * (see src/activities/store-errors.ts).
 */
export const StoreFailureType = {
  /**
   * An object the step needs is corrupt or missing, and stayed so over several attempts:
   * retrying cannot repair it. Final; the message names the object and the thread.
   */
  ObjectUnreadable: 'StoreObjectUnreadable',
  /**
   * The store cannot be read or written right now (full disk, I/O error, read-only
   * mount, too many open files), or an object looked unreadable on an early attempt.
   * Retried with backoff; the message says what failed ("…; retrying").
   */
  Transient: 'StoreTransientError',
  /**
   * The worker's store is not the thread's (the thread records its store's id): every
   * read would miss. Final; the message names both stores and the setting to change.
   */
  WrongStore: 'StoreMismatch',
} as const;

/** The failure types the turn treats as final for the turn (the thread goes on). */
export const NON_RETRYABLE_INFERENCE_FAILURES: readonly string[] = [
  StoreFailureType.ObjectUnreadable,
  StoreFailureType.WrongStore,
  InferenceFailureType.ContextWindowExceeded,
  InferenceFailureType.RequestRejected,
  InferenceFailureType.AuthenticationFailed,
  InferenceFailureType.QuotaExceeded,
  InferenceFailureType.MissingApiKey,
];


/**
 * The `type` of the failure that ends a turn whose model kept answering with malformed
 * output (calls that repeat a call_id), after a bounded number of fresh requests.
 */
export const MALFORMED_OUTPUT_FAILURE = 'ModelOutputMalformed';

/** The `type` of the failure of a turn whose user message, named by hash (`exec -i`), is no user message. Final. */
export const UserInputFailureType = {
  NotAUserMessage: 'NotAUserMessage',
} as const;
