// Merging the sorted page streams of a coverage query. Each covering vnode
// answers in its store's order, page by page; the merge emits one sorted,
// de-duplicated stream in chunks, holding at most two pages per vnode (the
// page being merged and the next, fetched ahead). An item is emitted only
// once every source still running has a head: that is what keeps the
// output sorted, and what makes `max_results` pagination exact.
import { AbortedError, RondoError, assert } from '../../core/errors.js';

/** One page from a vnode; `more` false when the vnode has nothing after it. */
export interface Page<T> {
  items: T[];
  more: boolean;
}

/** Fetches a source's next page (the source keeps its own continuation). */
export type PageSource<T> = () => Promise<Page<T>>;

interface Cursor<T> {
  items: T[];
  index: number;
  more: boolean;
  next: Promise<Page<T>> | undefined;
  fetch: PageSource<T>;
}

export interface MergeOptions<T> {
  compare: (a: T, b: T) => number;
  /** Items per emitted chunk (at most). */
  chunkItems: number;
  signal?: AbortSignal;
}

function prefetch<T>(c: Cursor<T>): void {
  if (c.more && c.next === undefined) {
    c.next = c.fetch();
    // Failures surface when the page is awaited; this only keeps an early one from being unhandled.
    c.next.catch(() => undefined);
  }
}

/** Waits until `c` has a head item or is exhausted. */
async function fill<T>(c: Cursor<T>, signal: AbortSignal | undefined): Promise<void> {
  while (c.index >= c.items.length && c.more) {
    prefetch(c);
    const page = await (c.next as Promise<Page<T>>);
    if (signal?.aborted) throw new AbortedError('coverage query aborted');
    c.next = undefined;
    c.items = page.items;
    c.index = 0;
    c.more = page.more;
    prefetch(c);
  }
}

/**
 * Sorted union of the sources, equal neighbours (by `compare`) emitted once.
 * Any source's failure ends the merge with that error.
 */
export async function* mergeSorted<T>(sources: readonly PageSource<T>[], opts: MergeOptions<T>): AsyncGenerator<T[]> {
  assert(opts.chunkItems >= 1, 'chunks hold at least one item');
  const cursors: Cursor<T>[] = sources.map((fetch) => ({ items: [], index: 0, more: true, next: undefined, fetch }));
  for (const c of cursors) prefetch(c);
  // Invariant from here on: every cursor that may have more has a head item.
  await Promise.all(cursors.map((c) => fill(c, opts.signal)));
  let last: T | undefined;
  let haveLast = false;
  let chunk: T[] = [];
  let drained: Cursor<T> | undefined;
  for (;;) {
    if (opts.signal?.aborted) throw new AbortedError('coverage query aborted');
    if (drained !== undefined) {
      // Its next page may hold the smallest item: send what is ready, then wait for it.
      if (chunk.length > 0) {
        yield chunk;
        chunk = [];
      }
      await fill(drained, opts.signal);
      drained = undefined;
    }
    let best: Cursor<T> | undefined;
    for (const c of cursors) {
      if (c.index >= c.items.length) continue;
      if (best === undefined || opts.compare(c.items[c.index] as T, best.items[best.index] as T) < 0) best = c;
    }
    if (best === undefined) break;
    const item = best.items[best.index++] as T;
    if (best.index >= best.items.length && best.more) drained = best;
    if (haveLast && opts.compare(item, last as T) === 0) continue;
    // Pages come from peers: a source out of order fails the query rather than the node.
    if (haveLast && opts.compare(item, last as T) < 0) throw new RondoError('internal', 'a covering vnode answered out of order');
    last = item;
    haveLast = true;
    chunk.push(item);
    if (chunk.length >= opts.chunkItems) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Code-point order of two strings, which is the byte order of their UTF-8
 * forms (the store's order). Plain `<` compares UTF-16 units, which puts
 * U+E000..U+FFFF after the surrogate pairs of higher code points.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Move surrogates (D800..DFFF) above E000..FFFF, as their code points are.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}
