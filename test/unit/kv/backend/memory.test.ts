import { openMemoryEngine } from '../../../../src/kv/backend/index.js';
import { runStorageEngineCompliance } from './compliance.js';

runStorageEngineCompliance('memory', async () => {
  const engine = openMemoryEngine();
  return { engine, cleanup: () => engine.close() };
});
