// Shared helpers of the storage compliance suite.
import { afterEach, beforeEach } from 'node:test';
import type { StorageEngine, StoreKey } from '../../../../src/kv/backend/index.js';

export interface EngineFixture {
  engine: StorageEngine;
  cleanup: () => Promise<void>;
}
export type EngineSetup = () => Promise<EngineFixture>;

/** A fresh engine per test, cleaned up even when the test fails. */
export function useEngine(setup: EngineSetup): () => StorageEngine {
  let fixture: EngineFixture | undefined;
  beforeEach(async () => {
    fixture = await setup();
  });
  afterEach(async () => {
    const current = fixture;
    fixture = undefined;
    await current?.cleanup();
  });
  return () => {
    if (!fixture) throw new Error('engine used outside a test');
    return fixture.engine;
  };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export const text = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8'));
export const bytes = (value: string): Uint8Array => new Uint8Array(Buffer.from(value, 'utf8'));
export const k = (key: string | Uint8Array, bucket: string | Uint8Array = 'b', bucketType = 'default'): StoreKey => ({ bucketType, bucket, key });
export const hex = (value: Uint8Array): string => Buffer.from(value).toString('hex');
