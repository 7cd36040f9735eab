// The part of basho-riak-client 2.4.0 (CommonJS, no bundled types) that the
// compatibility tests use. Shapes follow node_modules/basho-riak-client/lib:
// values come back as Buffers, vclocks as Buffers, 2i continuations as the
// protobufjs 5 ByteBuffer the client decoded (pass it back unchanged).
declare module 'basho-riak-client' {
  namespace Riak {
    /** err is a string (or Error); data, on an RpbErrorResp, is { msg, code }. */
    type Callback<T> = (err: unknown, result: T, data?: unknown) => void;

    interface FetchValueResult {
      isNotFound: boolean;
      isUnchanged: boolean | null;
      vclock: Buffer | null;
      values: Commands.KV.RiakObject[];
    }

    interface StoreValueResult {
      generatedKey: string | null;
      vclock: Buffer | null;
      values: Commands.KV.RiakObject[];
    }

    interface ListKeysResult {
      bucketType: string;
      bucket: string;
      keys: string[];
      done: boolean | null;
    }

    interface ListBucketsResult {
      buckets: string[];
      done: boolean | null;
    }

    interface IndexQueryValue {
      indexKey: string | number | null;
      objectKey: string;
    }

    interface IndexQueryResult {
      values: IndexQueryValue[];
      done: boolean | null;
      /** A protobufjs ByteBuffer, or null when there is no next page. */
      continuation: unknown;
    }

    interface BucketProps {
      nVal: number | null;
      allowMult: boolean | null;
      lastWriteWins: boolean | null;
      notFoundOk: boolean | null;
      basicQuorum: boolean | null;
      r: number | null;
      w: number | null;
      [prop: string]: unknown;
    }

    interface PreflistResult {
      preflist: { partition: number; node: string; primary: boolean }[];
    }

    interface StoreValueOptions {
      bucket: string;
      bucketType?: string;
      key?: string | Buffer;
      value: unknown;
      vclock?: Buffer;
      returnBody?: boolean;
      w?: number;
      timeout?: number;
      conflictResolver?: (values: Commands.KV.RiakObject[]) => Commands.KV.RiakObject;
    }

    interface FetchValueOptions {
      bucket: string;
      bucketType?: string;
      key: string | Buffer;
      r?: number;
      timeout?: number;
      conflictResolver?: (values: Commands.KV.RiakObject[]) => Commands.KV.RiakObject;
      convertToJs?: boolean;
    }

    interface DeleteValueOptions {
      bucket: string;
      bucketType?: string;
      key: string | Buffer;
      vclock?: Buffer;
      timeout?: number;
    }

    interface ListKeysOptions {
      bucket: string;
      bucketType?: string;
      stream?: boolean;
      timeout?: number;
    }

    interface ListBucketsOptions {
      bucketType?: string;
      stream?: boolean;
      timeout?: number;
    }

    interface SecondaryIndexQueryOptions {
      bucket: string;
      bucketType?: string;
      indexName: string;
      indexKey?: string | number;
      rangeStart?: string | number;
      rangeEnd?: string | number;
      returnKeyAndIndex?: boolean;
      maxResults?: number;
      continuation?: unknown;
      stream?: boolean;
      paginationSort?: boolean;
      timeout?: number;
    }

    interface StorePropsOptions {
      nVal?: number;
      allowMult?: boolean;
      lastWriteWins?: boolean;
      notFoundOk?: boolean;
      basicQuorum?: boolean;
      r?: number;
      w?: number;
    }

    class Client {
      constructor(nodes: string[], callback?: (err: unknown, client: Client) => void);
      execute(command: unknown): void;
      stop(callback: Callback<unknown>): void;
      ping(callback: Callback<boolean>): void;
      fetchValue(options: FetchValueOptions, callback: Callback<FetchValueResult>): void;
      storeValue(options: StoreValueOptions, callback: Callback<StoreValueResult>): void;
      deleteValue(options: DeleteValueOptions, callback: Callback<boolean>): void;
      listKeys(options: ListKeysOptions, callback: Callback<ListKeysResult>): void;
      listBuckets(options: ListBucketsOptions, callback: Callback<ListBucketsResult>): void;
      secondaryIndexQuery(options: SecondaryIndexQueryOptions, callback: Callback<IndexQueryResult>): void;
      fetchBucketProps(options: { bucket: string; bucketType?: string }, callback: Callback<BucketProps>): void;
      storeBucketProps(options: StorePropsOptions & { bucket: string; bucketType?: string }, callback: Callback<boolean>): void;
      resetBucketProps(options: { bucket: string; bucketType?: string }, callback: Callback<boolean>): void;
      fetchBucketTypeProps(options: { bucketType: string }, callback: Callback<BucketProps>): void;
      storeBucketTypeProps(options: StorePropsOptions & { bucketType: string }, callback: Callback<boolean>): void;
      fetchPreflist(options: { bucket: string; bucketType?: string; key: string | Buffer }, callback: Callback<PreflistResult>): void;
    }

    namespace Commands {
      class Ping {
        constructor(callback: Callback<boolean>);
      }
      namespace KV {
        class RiakObject {
          value: unknown;
          contentType: string;
          vclock?: Buffer;
          isTombstone?: boolean;
          indexes?: Record<string, (string | number)[]>;
          setValue(value: unknown): this;
          getValue(): unknown;
          setContentType(contentType: string): this;
          addToIndex(indexName: string, ...values: (string | number)[]): this;
          getIndex(indexName: string): (string | number)[] | undefined;
          setVClock(vclock: Buffer): this;
          getVClock(): Buffer | undefined;
        }
      }
    }
  }
  export = Riak;
}
