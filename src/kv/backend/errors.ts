// Operating errors of the storage backends. Codes carry the `kv_` prefix of
// the KV layer so the APIs can map them (bad input → 400, too large → 413).
import { RondoError } from '../../core/errors.js';

/** Empty or oversized bucket type, bucket or key. */
export class KeyInvalidError extends RondoError {
  constructor(message: string) {
    super('kv_key_invalid', message);
  }
}
/** Value larger than VALUE_BYTES_MAX. */
export class ValueTooLargeError extends RondoError {
  constructor(message: string) {
    super('kv_value_too_large', message);
  }
}
/** Index name without `_bin`/`_int`, a term of the wrong type or size, too many entries. */
export class IndexInvalidError extends RondoError {
  constructor(message: string) {
    super('kv_index_invalid', message);
  }
}
/** Operation on an engine after `close()`. */
export class BackendClosedError extends RondoError {
  constructor(message = 'storage engine is closed') {
    super('kv_backend_closed', message);
  }
}
