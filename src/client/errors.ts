// The client's one error class. `code` is stable and machine-readable:
// - 'timeout', 'overload': the server said so (errmsg exactly that, or
//   "overload: ..."), or the client gave up waiting ('timeout') or found every
//   connection slot and wait slot of a node taken ('overload');
// - 'connection': connecting failed, or the connection closed with requests
//   pending; 'aborted': the caller's AbortSignal fired; 'protocol': the server
//   sent something the client cannot read (the connection is dropped);
// - otherwise the `<code>` prefix of the server's "<code>: <message>"
//   (kv_precondition_failed, invalid_argument, kv_unknown_bucket_type, ...),
//   or 'server' when the message has no such prefix ("not supported: ...").
// `retryable` says whether trying again (maybe on another node) can help.

export type RondoClientErrorCode = 'timeout' | 'overload' | 'connection' | 'aborted' | 'protocol' | 'server' | (string & {});

const RETRYABLE: ReadonlySet<string> = new Set(['timeout', 'overload', 'connection']);
const CODE_PREFIX = /^([a-z][a-z0-9_]*): ([\s\S]*)$/;

export class RondoClientError extends Error {
  readonly code: RondoClientErrorCode;
  readonly retryable: boolean;
  /** The node ("host:port") the failed attempt went to, when one was chosen. */
  node: string | undefined;

  constructor(code: RondoClientErrorCode, message: string, opts: { node?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RondoClientError';
    this.code = code;
    this.retryable = RETRYABLE.has(code);
    this.node = opts.node;
  }
}

export function isRondoClientError(err: unknown): err is RondoClientError {
  return err instanceof RondoClientError;
}

/** The error an RpbErrorResp errmsg stands for. */
export function serverError(errmsg: string, node?: string): RondoClientError {
  const opts = node === undefined ? {} : { node };
  if (errmsg === 'timeout' || errmsg === 'overload') return new RondoClientError(errmsg, `server: ${errmsg}`, opts);
  const match = CODE_PREFIX.exec(errmsg);
  if (match) return new RondoClientError(match[1] as string, errmsg, opts);
  return new RondoClientError('server', errmsg, opts);
}

export function connectionError(message: string, node?: string, cause?: unknown): RondoClientError {
  return new RondoClientError('connection', message, { ...(node === undefined ? {} : { node }), cause });
}

export function abortedError(signal: AbortSignal): RondoClientError {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
  return new RondoClientError('aborted', `aborted: ${why}`, { cause: reason });
}
