// Limits of the HTTP codec. Each is named for what it bounds, with its unit.

/** Path segments in a request URL we look at; anything longer is no route (404). */
export const PATH_SEGMENTS_MAX = 8;
/** Query parameters parsed per request; more is refused (400). */
export const QUERY_PARAMS_MAX = 64;
/** Attempts to find a multipart boundary that occurs in no sibling value. */
export const BOUNDARY_ATTEMPTS_MAX = 16;
