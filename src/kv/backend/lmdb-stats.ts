// What an LMDB data file holds, page by page and row by row, for the
// bench/key-overhead.ts breakdown. Opens the file read-only, so run it on a
// closed environment (or one whose writer can tolerate a reader). Reads every
// row: minutes for hundreds of millions of keys, not for a request path.
import { open } from 'lmdb';
import { KIND_INDEX, KIND_OBJECT, KIND_REVERSE } from './keys.js';

export interface LmdbTreeStats {
  name: string;
  depth: number;
  entries: number;
  leafPages: number;
  branchPages: number;
  overflowPages: number;
}
export interface LmdbRecordStats {
  role: string;
  entries: number;
  keyBytes: number;
  valueBytes: number;
}
export interface LmdbFileStats {
  pageSize: number;
  /** Highest page number in use: the file's used part is lastPage + 1 pages. */
  lastPage: number;
  mapSize: number;
  /** The B-trees, LMDB's free-page list included (its pages are in use too). */
  dbs: LmdbTreeStats[];
  records: LmdbRecordStats[];
}

interface RawStats {
  pageSize: number;
  treeDepth: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  entryCount: number;
  overflowPages: number;
}

function tree(name: string, s: RawStats): LmdbTreeStats {
  return { name, depth: s.treeDepth, entries: s.entryCount, leafPages: s.treeLeafPageCount, branchPages: s.treeBranchPageCount, overflowPages: s.overflowPages };
}

const ROLE_OF_KIND: Record<number, string> = { [KIND_OBJECT]: 'object', [KIND_INDEX]: 'index', [KIND_REVERSE]: 'reverse' };

export function lmdbFileStats(file: string): LmdbFileStats {
  const db = open<Buffer, Buffer>({ path: file, readOnly: true, keyEncoding: 'binary', encoding: 'binary', compression: false, cache: false });
  try {
    const stats = db.getStats() as RawStats & { lastPageNumber: number; mapSize: number; free: RawStats };
    const records = new Map<string, LmdbRecordStats>();
    for (const { key, value } of db.getRange({})) {
      const role = ROLE_OF_KIND[key[2] as number] ?? 'other';
      const r = records.get(role) ?? { role, entries: 0, keyBytes: 0, valueBytes: 0 };
      r.entries += 1;
      r.keyBytes += key.length;
      r.valueBytes += value.length;
      records.set(role, r);
    }
    return {
      pageSize: stats.pageSize,
      lastPage: stats.lastPageNumber,
      mapSize: stats.mapSize,
      dbs: [tree('rows', stats), tree('freelist', stats.free)],
      records: [...records.values()],
    };
  } finally {
    void db.close();
  }
}
