// Bucket properties in Riak's HTTP shape: {"props": {...}} with keys sorted,
// numbers and booleans as JSON numbers and booleans, symbolic quorums as
// strings ("r": "quorum"), mod/fun pairs as {"mod": ..., "fun": ...}.
import { BadBucketPropsError } from './errors.js';
import type { Props } from './props.js';

export interface PropsJson {
  props: Record<string, unknown>;
}

export interface PropsJsonExtras {
  /** Bucket name, shown by GET .../buckets/B/props. */
  name?: string;
  /** Type state, shown by GET /types/T/props. */
  active?: boolean;
  claimant?: string;
}

export function propsToJson(props: Props, extras: PropsJsonExtras = {}): PropsJson {
  const flat: Record<string, unknown> = { ...props.custom };
  for (const [name, value] of Object.entries(props)) {
    if (name !== 'custom' && value !== undefined) flat[name] = value;
  }
  for (const [name, value] of Object.entries(extras)) {
    if (value !== undefined) flat[name] = value;
  }
  const sorted = Object.fromEntries(
    Object.keys(flat)
      .sort()
      .map((name) => [name, structuredClone(flat[name])]),
  );
  return { props: sorted };
}

/**
 * The raw properties of a request body (already parsed JSON, or its text).
 * Riak wants an object with a "props" object; anything else is refused
 * (BadBucketPropsError naming "props"). Values are checked by validateProps.
 */
export function propsFromJson(body: unknown): Record<string, unknown> {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      throw new BadBucketPropsError([{ property: 'props', reason: 'the body is not valid JSON' }]);
    }
  }
  const props = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>).props : undefined;
  if (props === null || typeof props !== 'object' || Array.isArray(props)) {
    throw new BadBucketPropsError([{ property: 'props', reason: 'the body must be a JSON object {"props": {...}}' }]);
  }
  return { ...(props as Record<string, unknown>) };
}
