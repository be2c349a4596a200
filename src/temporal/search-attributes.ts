/**
 * Whether the server has Unroll's search attributes (src/shared/search-attributes.ts)
 * registered in a namespace. A workflow that sets an unregistered attribute fails its
 * workflow task over and over, so the client asks once at thread start and records the
 * answer in the thread's settings (`searchAttributes`); the workflow sets them only then.
 */
import type { ConnectionLike, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

import { UNROLL_SEARCH_ATTRIBUTES } from '../shared/search-attributes';

const { IndexedValueType } = temporal.api.enums.v1;
const INDEXED_TYPE = { Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME } as const;

/**
 * True when every Unroll search attribute is registered in `namespace` with its type;
 * false when one is missing or has another type, or the server does not say (an
 * operator API it refuses to this client): the thread then runs without them.
 */
export async function searchAttributesRegistered(connection: ConnectionLike, namespace: string): Promise<boolean> {
  // A client's connection is a Connection unless a test or tool passed another kind.
  const operator = (connection as Partial<Connection>).operatorService;
  if (operator === undefined) return false;
  let registered: Record<string, number>;
  try {
    const answer = await operator.listSearchAttributes({ namespace });
    registered = { ...(answer.systemAttributes ?? {}), ...(answer.customAttributes ?? {}) };
  } catch {
    return false;
  }
  return UNROLL_SEARCH_ATTRIBUTES.every(({ name, cliType }) => registered[name] === (INDEXED_TYPE[cliType] as number));
}
