// Shapes shared by the HTTP codec.

/** What the server writes back; header names in their canonical case. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** An async iterable is streamed with chunked transfer encoding (listings, index queries). */
  body: Uint8Array | string | AsyncIterable<string>;
}

/** Request headers as node:http gives them (names lowercase), or any case. */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Parsed query string: the first value of each parameter, names as sent. */
export type Query = ReadonlyMap<string, string>;
