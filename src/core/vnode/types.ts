// The vnode contract (riak_core_vnode's behaviour, in TypeScript). A vnode
// owns one partition's state; the host delivers it one command at a time from
// a bounded mailbox and carries out the directive it returns. Handoff
// callbacks are part of the contract from day one, even before handoff moves
// data.
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
  /** Handle one command. Commands of one vnode never overlap. */
  handleCommand(command: Command, ctx: VnodeContext): Promise<VnodeDirective<Reply>>;
  /** Coverage requests (listing, 2i) against this vnode's data. */
  handleCoverage?(command: Command, ctx: VnodeContext): Promise<VnodeDirective<Reply>>;
  /** Called while a handoff of this partition is under way, for commands that arrive meanwhile. */
  handleHandoffCommand?(command: Command, ctx: VnodeContext): Promise<VnodeDirective<Reply>>;
  handoffStarting(target: { node: NodeName; partition: number }): Promise<boolean>;
  handoffCancelled(): Promise<void>;
  handoffFinished(target: { node: NodeName; partition: number }): Promise<void>;
  /** Receive one item handed off to this vnode. */
  handleHandoffData(item: HandoffItem): Promise<void>;
  /** Items to hand off, streamed in order. */
  foldHandoffItems(signal: AbortSignal): AsyncIterable<HandoffItem>;
  isEmpty(): Promise<boolean>;
  /** Delete all of this partition's data (after a completed handoff). */
  delete(): Promise<void>;
  /** Release resources; the host will not call the vnode again. */
  terminate(): Promise<void>;
}
