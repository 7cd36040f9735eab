// The production Env: real clock, real timers, real randomness, a file-backed
// metadata store. This folder and src/core/transport are the only places in
// src/core allowed to touch them (see eslint.config.js, PURITY).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Env, Logger, MetaStore, NetworkPort, NodeName, Random, TimerId } from '../env.js';
import { InvalidArgumentError } from '../errors.js';

export class SystemRandom implements Random {
  next(): number {
    return Math.random();
  }
  int(bound: number): number {
    return Math.floor(Math.random() * bound);
  }
}

/** One file per key; written to a temp file, fsynced, then renamed over the old one. */
export class FileMetaStore implements MetaStore {
  private readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }
  load(key: string): Uint8Array | undefined {
    try {
      return readFileSync(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  save(key: string, value: Uint8Array): void {
    const path = this.pathOf(key);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, value);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    // fsync the directory so the rename itself survives a crash.
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
  private pathOf(key: string): string {
    if (!/^[a-z0-9._-]+$/i.test(key)) throw new InvalidArgumentError(`bad meta key ${JSON.stringify(key)}`);
    return join(this.dir, `${key}.bin`);
  }
}

export class RealEnv implements Env {
  readonly nodeName: NodeName;
  readonly random: Random = new SystemRandom();
  readonly net: NetworkPort;
  readonly log: Logger;
  readonly meta: MetaStore;
  private readonly timers = new Map<TimerId, NodeJS.Timeout>();
  private nextTimerId = 1;

  constructor(opts: { nodeName: NodeName; net: NetworkPort; log: Logger; meta: MetaStore }) {
    this.nodeName = opts.nodeName;
    this.net = opts.net;
    this.log = opts.log;
    this.meta = opts.meta;
  }
  nowMs(): number {
    return performance.now();
  }
  wallClockMs(): number {
    return Date.now();
  }
  setTimer(delayMs: number, fire: () => void): TimerId {
    const id = this.nextTimerId++;
    const handle = setTimeout(() => {
      this.timers.delete(id);
      fire();
    }, Math.max(0, delayMs));
    this.timers.set(id, handle);
    return id;
  }
  clearTimer(id: TimerId): void {
    const handle = this.timers.get(id);
    if (handle !== undefined) clearTimeout(handle);
    this.timers.delete(id);
  }
  /** Cancel every pending timer (node shutdown). */
  clearAllTimers(): void {
    for (const handle of this.timers.values()) clearTimeout(handle);
    this.timers.clear();
  }
}
