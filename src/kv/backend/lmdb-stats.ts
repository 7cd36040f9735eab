// What an LMDB data file holds, page by page and row by row, for the
// bench/key-overhead.ts breakdown. Opens the file read-only, so run it on a
// closed environment (or one whose writer can tolerate a reader). Reads every
// row: minutes for hundreds of millions of keys, not for a request path.
import { open, type Database } from 'lmdb';
import { KIND_INDEX, KIND_OBJECT, KIND_REVERSE } from './keys.js';
import { LMDB_ROWS_DB, LMDB_VALUES_DB } from './lmdb.js';

export interface LmdbTreeStats {
  name: string;
  depth: number;
  entries: number;
  leafPages: number;
  branchPages: number;
  overflowPages: number;
  /** Bytes of its records as they sit in leaf pages (key, value, 8-byte node header, 2-byte slot); undefined for LMDB's own trees. */
  recordBytes?: number;
}
export interface LmdbRecordStats {
  role: string;
  entries: number;
  keyBytes: number;
  valueBytes: number;
}
export interface LmdbFileStats {
  layout: 'single' | 'value-tree';
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

const DB_OPTIONS = { keyEncoding: 'binary', encoding: 'binary', compression: false, cache: false } as const;

/** LMDB's leaf node header (data size, flags, key size) and the page's 2-byte slot for it. */
export const LMDB_NODE_BYTES = 8 + 2;
export const LMDB_PAGE_HEADER_BYTES = 16;

/** Adds the records of `db` by role; returns their bytes in leaf pages. */
function addRecords(records: Map<string, LmdbRecordStats>, db: Database<Buffer, Buffer>, roleOf: (key: Buffer) => string): number {
  let bytes = 0;
  for (const { key, value } of db.getRange({})) {
    bytes += key.length + value.length + LMDB_NODE_BYTES;
    const role = roleOf(key);
    const r = records.get(role) ?? { role, entries: 0, keyBytes: 0, valueBytes: 0 };
    r.entries += 1;
    r.keyBytes += key.length;
    r.valueBytes += value.length;
    records.set(role, r);
  }
  return bytes;
}

export function lmdbFileStats(file: string): LmdbFileStats {
  const root = open<Buffer, Buffer>({ path: file, readOnly: true, maxDbs: 2, ...DB_OPTIONS });
  try {
    const stats = root.getStats() as RawStats & { lastPageNumber: number; mapSize: number; free: RawStats };
    const records = new Map<string, LmdbRecordStats>();
    const rowRole = (key: Buffer): string => ROLE_OF_KIND[key[2] as number] ?? 'other';
    const valueTree = root.doesExist(Buffer.from(`${LMDB_ROWS_DB}\0`));
    const dbs: LmdbTreeStats[] = [];
    if (valueTree) {
      const rows = root.openDB<Buffer, Buffer>({ name: LMDB_ROWS_DB, ...DB_OPTIONS });
      const values = root.openDB<Buffer, Buffer>({ name: LMDB_VALUES_DB, ...DB_OPTIONS });
      const rowBytes = addRecords(records, rows, rowRole);
      const valueBytes = addRecords(records, values, () => 'value');
      dbs.push(tree('main', stats), { ...tree(LMDB_ROWS_DB, rows.getStats() as RawStats), recordBytes: rowBytes }, { ...tree(LMDB_VALUES_DB, values.getStats() as RawStats), recordBytes: valueBytes });
    } else {
      dbs.push({ ...tree('rows', stats), recordBytes: addRecords(records, root, rowRole) });
    }
    dbs.push(tree('freelist', stats.free));
    return { layout: valueTree ? 'value-tree' : 'single', pageSize: stats.pageSize, lastPage: stats.lastPageNumber, mapSize: stats.mapSize, dbs, records: [...records.values()] };
  } finally {
    void root.close();
  }
}
