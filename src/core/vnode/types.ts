// The vnode contract (riak_core_vnode's behaviour, in TypeScript). A vnode
// owns one partition's state; the host delivers it one command at a time from
// a bounded mailbox and carries out the directive it returns. The handoff
// callbacks let src/core/handoff move a partition's data without knowing what
// the data is.
import type { NodeName } from '../env.js';

/** What a vnode asks the host to do with a command. */
export type VnodeDirective<Reply> =
  | { kind: 'reply'; reply: Reply }
  /** The vnode answers later (or never); the caller's timeout applies. */
  | { kind: 'noreply' }
  /** Send the command to another vnode (e.g. to the new owner during handoff). */
  | { kind: 'forward'; node: NodeName; partition: number };

export interface VnodeContext {
  readonly node: NodeName;
  readonly partition: number;
  readonly signal: AbortSignal;
}

/** One item of a partition's data in transit during handoff. */
export interface HandoffItem {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface VnodeBehaviour<Command, Reply> {
  /**
   * Handle one command. Commands of one vnode never overlap. A vnode that can
   * answer at once returns the directive itself (the host does not await it).
   */
  handleCommand(command: Command, ctx: VnodeContext): VnodeDirective<Reply> | Promise<VnodeDirective<Reply>>;
  /** Coverage requests (listing, 2i) against this vnode's data. */
  handleCoverage?(command: Command, ctx: VnodeContext): VnodeDirective<Reply> | Promise<VnodeDirective<Reply>>;

  // --- handoff (src/core/handoff drives these; the host serialises them with commands) ---

  /**
   * A handoff of this partition starts: from now on record which items change
   * (see takeHandoffChanges). False: not now, the handoff is retried later.
   */
  handoffStarting(target: { node: NodeName; partition: number }): Promise<boolean>;
  /** The handoff failed or was cancelled: stop recording changes. */
  handoffCancelled(): Promise<void>;
  /** The handoff completed: stop recording changes. */
  handoffFinished(target: { node: NodeName; partition: number }): Promise<void>;
  /** Merge one batch of items handed off to this vnode. Idempotent: a batch may arrive twice. */
  handleHandoffData(items: readonly HandoffItem[]): Promise<void>;
  /** Items to hand off, streamed. */
  foldHandoffItems(signal: AbortSignal): AsyncIterable<HandoffItem>;
  /**
   * Up to `max` items that changed since handoffStarting (or since the last
   * call), with their current contents, forgotten once returned. 'lost' when
   * no record is being kept or it overflowed: the handoff must start over.
   */
  takeHandoffChanges(max: number): Promise<HandoffItem[] | 'lost'>;
  /** Roughly how many items a fold yields (progress display only). */
  handoffSize?(): Promise<number>;
  isEmpty(): Promise<boolean>;
  /** Delete all of this partition's data (after a completed handoff). */
  delete(): Promise<void>;
  /** Release resources; the host will not call the vnode again. */
  terminate(): Promise<void>;
}
