// The delete coordinator (riak_kv_delete): a put of a tombstone
// (delete-coordinate) through the put coordinator with the delete's write
// quorums (RW unless W was given; see quorum/delete-core.ts). When every
// replica answered and all n are primaries holding the same tombstone, the
// tombstone may be reaped: `onReapable` gets its context, and the service
// schedules the reap after delete_mode's delay. A vnode reaps only if it still
// holds exactly that tombstone, so a put that raced the delete survives.
// The read phase (learning the context when the client sent none) is a get
// the service runs first.
import { contextOf, isTombstone, vvEqual } from '../object/index.js';
import type { RObject, VersionVector } from '../object/index.js';
import type { Fsm, FsmOutput, VnodeOutcome, VnodeTarget } from './fsm.js';
import { PutFsm, type PutAnswer, type PutFsmOptions } from './put-fsm.js';

export interface DeleteFsmOptions extends Omit<PutFsmOptions, 'returnBody'> {
  nVal: number;
  onReapable: (context: VersionVector) => void;
}

export class DeleteFsm implements Fsm<PutAnswer> {
  readonly targets: readonly VnodeTarget[];
  private readonly put: PutFsm;
  private readonly o: DeleteFsmOptions;

  constructor(options: DeleteFsmOptions) {
    if (options.command.kind !== 'delete-coordinate') throw new Error('assertion failed: a delete coordinates a tombstone');
    this.o = options;
    this.put = new PutFsm({ ...options, returnBody: false });
    this.targets = this.put.targets;
  }

  start(): FsmOutput<PutAnswer> {
    return this.after(this.put.start());
  }

  result(index: number, outcome: VnodeOutcome): FsmOutput<PutAnswer> {
    return this.after(this.put.result(index, outcome));
  }

  timeout(): FsmOutput<PutAnswer> {
    return this.after(this.put.timeout());
  }

  private after(out: FsmOutput<PutAnswer>): FsmOutput<PutAnswer> {
    if (out.done) {
      const context = reapableContext(this.targets, this.put.stored(), this.o.nVal);
      if (context !== undefined) this.o.onReapable(context);
    }
    return out;
  }
}

/** The tombstone's context when all nVal primaries stored the same tombstone; else undefined. */
export function reapableContext(targets: readonly VnodeTarget[], stored: readonly (RObject | undefined)[], nVal: number): VersionVector | undefined {
  if (targets.length !== nVal || !targets.every((t) => t.primary)) return undefined;
  const [first] = stored;
  if (first === undefined || !isTombstone(first)) return undefined;
  const context = contextOf(first);
  for (const o of stored) {
    if (o === undefined || !isTombstone(o) || !vvEqual(contextOf(o), context)) return undefined;
  }
  return context;
}
