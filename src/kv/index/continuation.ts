// The opaque continuation of a paginated index query: the last (term, key)
// returned, so the next page starts strictly after it. Clients only hand it
// back; we still validate it, since it comes from outside.
import { InvalidArgumentError } from '../../core/errors.js';
import { INDEX_CONTINUATION_CHARS_MAX } from './limits.js';

export interface IndexPosition {
  term: string | number;
  key: string;
}

export function encodeContinuation(p: IndexPosition): string {
  return Buffer.from(JSON.stringify([p.term, p.key]), 'utf8').toString('base64url');
}

/** Throws InvalidArgumentError on anything that is not a continuation we issued. */
export function decodeContinuation(text: string): IndexPosition {
  const bad = (why: string) => new InvalidArgumentError(`bad continuation: ${why}`);
  if (text.length === 0 || text.length > INDEX_CONTINUATION_CHARS_MAX) throw bad(`length ${text.length} (1..${INDEX_CONTINUATION_CHARS_MAX})`);
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text)) throw bad('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad('does not decode');
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad('not a [term, key] pair');
  const [term, key] = parsed as unknown[];
  if (typeof key !== 'string' || key.length === 0) throw bad('no key');
  if (typeof term === 'string' || (typeof term === 'number' && Number.isSafeInteger(term))) return { term, key };
  throw bad('term is neither a string nor a safe integer');
}
