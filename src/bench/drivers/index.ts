// The drivers `rondo bench` knows, by name. A driver speaks one protocol;
// see ../types.ts for the contract and ./socket.ts for the shared plumbing.
import { InvalidArgumentError } from '../../core/errors.js';
import type { DriverFactory } from '../types.js';
import { etcdDriver } from './etcd.js';
import { createHttpDriver } from './http.js';
import { createPbDriver } from './pb.js';
import { redisDriver } from './redis.js';

export const driverFactories: Record<string, DriverFactory> = {
  http: createHttpDriver,
  pb: createPbDriver,
  etcd: etcdDriver,
  redis: redisDriver,
};

/** The factory of a driver name; a clear error listing the known ones otherwise. */
export function driverFactory(name: string): DriverFactory {
  const factory = Object.hasOwn(driverFactories, name) ? driverFactories[name] : undefined;
  if (!factory) throw new InvalidArgumentError(`unknown driver "${name}" (known: ${Object.keys(driverFactories).join(', ')})`);
  return factory;
}
