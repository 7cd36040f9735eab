// Operating errors of bucket types and properties. The APIs map every code to
// an HTTP status (400 for bad props and names, 404 for an unknown type, 409
// for a type in the wrong state) and a PB error message.
import { RondoError } from '../../core/errors.js';

export type BucketsErrorCode = 'kv_bad_props' | 'kv_unknown_bucket_type' | 'kv_bad_bucket_type' | 'kv_bad_bucket_name' | 'kv_bucket_type_state';

export interface PropProblem {
  readonly property: string;
  readonly reason: string;
}

/** One or more properties are invalid; the message names each and what is wrong. Nothing was written. */
export class BadBucketPropsError extends RondoError {
  readonly problems: readonly PropProblem[];
  constructor(problems: readonly PropProblem[]) {
    super('kv_bad_props', `invalid bucket properties: ${problems.map((p) => `${p.property}: ${p.reason}`).join('; ')}`);
    this.problems = problems;
  }
}

/** The type was never created, or was created but is not active yet. */
export class UnknownBucketTypeError extends RondoError {
  readonly bucketType: string;
  constructor(bucketType: string, reason: 'missing' | 'inactive') {
    super('kv_unknown_bucket_type', reason === 'missing' ? `bucket type '${bucketType}' does not exist` : `bucket type '${bucketType}' is not active`);
    this.bucketType = bucketType;
  }
}

/** A bad type name, or an operation the `default` type does not allow. */
export class BadBucketTypeError extends RondoError {
  constructor(message: string) {
    super('kv_bad_bucket_type', message);
  }
}

/** A bucket name that is empty or too long. */
export class BadBucketNameError extends RondoError {
  constructor(message: string) {
    super('kv_bad_bucket_name', message);
  }
}

/** The type is in the wrong state for the operation (create on an active type, activate before every node has it). */
export class BucketTypeStateError extends RondoError {
  constructor(message: string) {
    super('kv_bucket_type_state', message);
  }
}
