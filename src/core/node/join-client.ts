// Joining a cluster, host side. An operator names a seed by address; we learn
// its name, then ask it (over the ordinary message network, so the simulator
// can drop, delay and duplicate these too) to add us as 'joining' and send us
// its ring, which we adopt in place of our singleton ring. Requests are resent
// until answered or the join times out; the seed side is idempotent.
import { JOIN_RESEND_INTERVAL_MS, JOIN_TIMEOUT_MS } from '../constants.js';
import type { Env, NodeAddress, NodeName, WireMessage } from '../env.js';
import { InvalidArgumentError, PlanInvalidError, RondoError, TimeoutError } from '../errors.js';
import { isAlone, ringStateProblem, type MembershipCore, type MembershipInput, type MembershipOutput, type RingState } from '../membership/index.js';

export type JoinMessage =
  | { type: 'node.join-request'; node: NodeName; address: NodeAddress; clusterName: string }
  | { type: 'node.join-accept'; ring: RingState }
  | { type: 'node.join-refused'; reason: string };

export function isJoinMessage(msg: WireMessage): msg is JoinMessage {
  return msg.type === 'node.join-request' || msg.type === 'node.join-accept' || msg.type === 'node.join-refused';
}

/** Why a join message from a peer is malformed, or undefined when it is well-formed. */
export function joinMessageProblem(msg: JoinMessage): string | undefined {
  const m = msg as unknown as Record<string, unknown>;
  switch (msg.type) {
    case 'node.join-request':
      return typeof m.node === 'string' && m.node !== '' && typeof m.address === 'string' && typeof m.clusterName === 'string' ? undefined : 'join request without node/address/clusterName strings';
    case 'node.join-accept': {
      const problem = ringStateProblem(m.ring);
      return problem === undefined ? undefined : `join accept with a malformed ring: ${problem}`;
    }
    case 'node.join-refused':
      return typeof m.reason === 'string' ? undefined : 'join refusal without a reason';
    default: {
      const never: never = msg;
      return `unknown join message ${String((never as { type?: unknown }).type)}`;
    }
  }
}

interface PendingJoin {
  seed: NodeName;
  seedAddress: NodeAddress;
  nextSendMs: number;
  deadlineMs: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface JoinClientOptions {
  self: NodeName;
  address: NodeAddress;
  clusterName: string;
  env: Env;
  /** This node's current ring. */
  ring: () => RingState;
  /** Step the membership core and carry out its output; returns the output. */
  membershipStep: (input: MembershipInput) => MembershipOutput;
  resolveAddress?: (address: NodeAddress) => Promise<NodeName>;
}

export class JoinClient {
  private readonly opts: JoinClientOptions;
  private pending: PendingJoin | undefined;

  constructor(opts: JoinClientOptions) {
    this.opts = opts;
  }

  async joinVia(seedAddress: NodeAddress): Promise<void> {
    if (this.pending) throw new InvalidArgumentError(`a join via ${this.pending.seedAddress} is already in progress`);
    if (seedAddress === this.opts.address) throw new InvalidArgumentError('a node cannot join itself');
    if (!isAlone(this.opts.ring(), this.opts.self)) throw new PlanInvalidError(`${this.opts.self} is already a member of a cluster; leave first`);
    if (!this.opts.resolveAddress) throw new InvalidArgumentError('this node cannot resolve seed addresses');
    const seed = await this.opts.resolveAddress(seedAddress);
    if (seed === this.opts.self) throw new InvalidArgumentError(`${seedAddress} is this node (${seed})`);
    this.opts.env.net.setPeerAddress(seed, seedAddress);
    const nowMs = this.opts.env.nowMs();
    return new Promise<void>((resolve, reject) => {
      this.pending = { seed, seedAddress, nextSendMs: nowMs, deadlineMs: nowMs + JOIN_TIMEOUT_MS, resolve, reject };
      this.tick(nowMs);
    });
  }

  tick(nowMs: number): void {
    const pending = this.pending;
    if (!pending) return;
    if (nowMs >= pending.deadlineMs) {
      this.finish(new TimeoutError(`join via ${pending.seed} (${pending.seedAddress}) got no answer within ${JOIN_TIMEOUT_MS} ms`));
      return;
    }
    if (nowMs < pending.nextSendMs) return;
    pending.nextSendMs = nowMs + JOIN_RESEND_INTERVAL_MS;
    const request: JoinMessage = { type: 'node.join-request', node: this.opts.self, address: this.opts.address, clusterName: this.opts.clusterName };
    try {
      this.opts.env.net.send(pending.seed, request);
    } catch (err) {
      if (!(err instanceof RondoError)) throw err;
      this.opts.env.log.debug({ seed: pending.seed, err: err.message }, 'join request not sent; will retry');
    }
  }

  cancel(reason: string): void {
    if (this.pending) this.finish(new RondoError('aborted', reason));
  }

  receive(from: NodeName, msg: JoinMessage, membership: MembershipCore): void {
    switch (msg.type) {
      case 'node.join-request':
        this.answerRequest(from, msg, membership);
        return;
      case 'node.join-accept': {
        if (!this.pending || this.pending.seed !== from) return; // late duplicate
        if (!isAlone(membership.ring(), this.opts.self)) return this.finish(undefined);
        try {
          this.opts.membershipStep({ type: 'admin', cmd: { cmd: 'adopt', ring: msg.ring } });
          this.finish(undefined);
        } catch (err) {
          this.finish(err as Error);
        }
        return;
      }
      case 'node.join-refused':
        if (this.pending && this.pending.seed === from) this.finish(new PlanInvalidError(`${from} refused the join: ${msg.reason}`));
        return;
      default: {
        const unreachable: never = msg;
        this.opts.env.log.warn({ msg: unreachable }, 'unknown join message');
      }
    }
  }

  private answerRequest(from: NodeName, msg: Extract<JoinMessage, { type: 'node.join-request' }>, membership: MembershipCore): void {
    if (from !== msg.node) {
      this.opts.env.log.warn({ from, claimed: msg.node }, 'join request names another node; ignored');
      return;
    }
    this.opts.env.net.setPeerAddress(from, msg.address);
    let reply: JoinMessage;
    try {
      this.opts.membershipStep({ type: 'admin', cmd: { cmd: 'join-request', node: msg.node, address: msg.address, clusterName: msg.clusterName } });
      reply = { type: 'node.join-accept', ring: membership.ring() };
      this.opts.env.log.info({ node: msg.node, address: msg.address }, 'node joining');
    } catch (err) {
      if (!(err instanceof RondoError)) throw err;
      reply = { type: 'node.join-refused', reason: err.message };
      this.opts.env.log.warn({ node: msg.node, reason: err.message }, 'join refused');
    }
    try {
      this.opts.env.net.send(from, reply);
    } catch (err) {
      if (!(err instanceof RondoError)) throw err;
      this.opts.env.log.debug({ to: from, err: err.message }, 'join reply not sent; the joiner will retry');
    }
  }

  private finish(err: Error | undefined): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    if (err) pending.reject(err);
    else pending.resolve();
  }
}
