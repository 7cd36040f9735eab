// ClusterNode: the host of the cluster core. It owns no protocol logic: it
// feeds the membership and failure-detector state machines their inputs (ticks
// from Env timers, messages from Env.net, admin requests) and carries out their
// outputs (persist, then send). The same class runs in production (RealEnv +
// TCP) and in the simulator (SimEnv), which is what makes the simulator's
// verdicts about this code mean something.
import { pack, unpack } from 'msgpackr';
import { GOSSIP_REFUSALS_LOGGED_MAX, TICK_INTERVAL_MS } from '../constants.js';
import { isSwimMessage, NodeWatcher, SwimDetector, type DetectorOutput, type SwimConfig } from '../detector/index.js';
import type { Channel, Env, NodeAddress, NodeName, TimerId, WireMessage } from '../env.js';
import { assert, InvalidArgumentError, MessageTooLargeError, OverloadError, RondoError, UnknownPeerError } from '../errors.js';
import { hasLeft, isMembershipMessage, MembershipCore, presentMembers, type MembershipOutput, type RingState } from '../membership/index.js';
import { ADMIN_REQUEST_TYPES, type AdminReply, type AdminRequest } from './admin-messages.js';
import { renderAdminReply } from './admin-render.js';
import { clusterStatusTable, ringReadyLine, ringReadyVerdict, statLines, statPattern, type ClusterStatusRow, type RingReadyVerdict } from './admin-status.js';
import { JoinClient, isJoinMessage, joinMessageProblem, type JoinMessage } from './join-client.js';

const RING_META_KEY = 'ring';
const RESERVED_PREFIXES: ReadonlySet<string> = new Set(['swim', 'ring', 'node', 'admin']);

export interface ClusterNodeOptions {
  env: Env;
  /** Where this node's transport listens; gossiped so peers can reach it. */
  address: NodeAddress;
  clusterName: string;
  ringSize: number;
  targetNVal: number;
  tickIntervalMs?: number;
  detector?: Partial<SwimConfig>;
  gossipIntervalMs?: number;
  /** Until handoff exists, receivers report pending transfers done at once. */
  autoCompleteTransfers?: boolean;
  /** Operating-system process id, reported by node-info (undefined in simulation). */
  pid?: number;
  /** Learns the name of the node listening at an address (join seeds are given by address). */
  resolveAddress?: (address: NodeAddress) => Promise<NodeName>;
  /** Every stat of the node (what HTTP /stats returns), for `admin status` and `stat show`. */
  stats?: () => Record<string, unknown>;
}

/** A service built on the cluster core (e.g. the KV store) receiving its own messages. */
export interface ClusterService {
  receive(from: NodeName, msg: WireMessage): void;
  /** Admin requests whose type starts with `${prefix}.` (from the CLI); errors are typed RondoErrors. */
  handleAdmin?(req: WireMessage): Promise<AdminReply>;
}

export class ClusterNode {
  readonly name: NodeName;
  readonly watcher = new NodeWatcher();
  readonly env: Env;
  private readonly opts: ClusterNodeOptions;
  private readonly membership: MembershipCore;
  private readonly detector: SwimDetector;
  private readonly join: JoinClient;
  private tickTimer: TimerId | undefined;
  private running = false;
  private leftListeners: (() => void)[] = [];
  private changeListeners: (() => void)[] = [];
  private readonly services = new Map<string, ClusterService>();
  /** onLeft listeners were told of the current leave (cleared once this node is a member again, so a later leave is told too). */
  private leftReported = false;
  /** "peer\u0000reason" of gossip refusals already logged: one warn line per peer and reason (bounded: cleared when full). */
  private readonly refusalsLogged = new Set<string>();

  constructor(opts: ClusterNodeOptions) {
    this.opts = opts;
    this.env = opts.env;
    this.name = opts.env.nodeName;
    const stored = this.env.meta.load(RING_META_KEY);
    const state = stored ? (unpack(stored) as RingState) : undefined;
    if (state) assert(state.clusterName === opts.clusterName, `stored ring is of cluster ${state.clusterName}, not ${opts.clusterName}`);
    this.membership = new MembershipCore({
      self: this.name,
      address: opts.address,
      clusterName: opts.clusterName,
      ringSize: state?.ringSize ?? opts.ringSize,
      targetNVal: state?.targetNVal ?? opts.targetNVal,
      random: this.env.random,
      autoCompleteTransfers: opts.autoCompleteTransfers ?? true,
      ...(state ? { state } : {}),
      ...(opts.gossipIntervalMs !== undefined ? { gossipIntervalMs: opts.gossipIntervalMs } : {}),
    });
    this.detector = new SwimDetector({ self: this.name, random: this.env.random, ...(opts.detector ? { config: opts.detector } : {}) });
    this.join = new JoinClient({
      self: this.name,
      address: opts.address,
      clusterName: opts.clusterName,
      env: this.env,
      ring: () => this.membership.ring(),
      membershipStep: (input) => {
        const out = this.membership.step(input, this.env.nowMs());
        this.applyMembership(out);
        return out;
      },
      ...(opts.resolveAddress ? { resolveAddress: opts.resolveAddress } : {}),
    });
  }

  start(): void {
    assert(!this.running, 'start once');
    this.running = true;
    this.env.net.onReceive((from, msg) => this.onMessage(from, msg));
    this.syncPeers();
    this.scheduleTick();
  }

  stop(): void {
    this.running = false;
    if (this.tickTimer !== undefined) this.env.clearTimer(this.tickTimer);
    this.tickTimer = undefined;
    this.join.cancel('node stopping');
  }

  ring(): RingState {
    return this.membership.ring();
  }

  /**
   * Route every message whose type starts with `${prefix}.` to `service`
   * (riak_core's service registration). Core prefixes are reserved.
   */
  registerService(prefix: string, service: ClusterService): void {
    assert(/^[a-z][a-z0-9-]*$/.test(prefix), `service prefix ${prefix} is a lowercase word`);
    assert(!RESERVED_PREFIXES.has(prefix), `service prefix ${prefix} is reserved by the core`);
    assert(!this.services.has(prefix), `service prefix ${prefix} registered once`);
    this.services.set(prefix, service);
  }

  /** Other nodes this node's failure detector considers up, plus itself. */
  upNodes(): Set<NodeName> {
    return this.watcher.upNodes(this.name);
  }

  /** Called after the ring changed or a peer went up or down (handoff re-checks its duties). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /**
   * The receiver of a pending ownership transfer has all of `partition`'s
   * data: tell the membership core, which reports it to the claimant (the
   * ring switches owners only then).
   */
  reportTransferComplete(partition: number): void {
    this.applyMembership(this.membership.step({ type: 'transfer-complete', partition }, this.env.nowMs()));
  }

  /** Called once when this node has left the cluster (exiting or removed); again for a later leave after startOver. */
  onLeft(listener: () => void): void {
    this.leftListeners.push(listener);
  }

  /** This node's own ring says its leave has completed (exiting or removed). */
  leftCluster(): boolean {
    return hasLeft(this.membership.ring(), this.name);
  }

  /**
   * After a completed leave, once the host holds nothing more to hand off:
   * become a fresh one-node cluster (same name, a new ring, saved before
   * anything else), which can `cluster join` again, as a Riak node does once
   * it has been removed. Throws PlanInvalidError while this node is still a
   * member (even a leaving one): its ring and data must then stay.
   */
  startOver(): void {
    const out = this.membership.step({ type: 'start-over' }, this.env.nowMs());
    assert(!out.left && out.persist, 'a node that started over is a member of its own saved ring');
    this.env.log.info({}, 'left the cluster: starting over as a fresh one-node cluster');
    this.applyMembership(out);
  }

  livenessSnapshot(): ReturnType<SwimDetector['snapshot']> {
    return this.detector.snapshot();
  }

  /** Handle one admin request (from the CLI or a peer). Errors are typed RondoErrors. */
  async handleAdmin(raw: WireMessage): Promise<AdminReply> {
    const service = this.services.get(raw.type.slice(0, Math.max(0, raw.type.indexOf('.'))));
    if (service?.handleAdmin !== undefined) return service.handleAdmin(raw);
    if (!ADMIN_REQUEST_TYPES.has(raw.type)) throw new RondoError('invalid_argument', `unknown admin request ${JSON.stringify(raw.type)}`);
    const req = raw as AdminRequest;
    switch (req.type) {
      case 'admin.node-info': {
        const ring = this.membership.ring();
        return {
          type: 'admin.reply',
          ok: true,
          lines: [`${this.name} at ${this.opts.address}, cluster ${ring.clusterName}, claimant ${ring.ownership.claimant}`],
          data: {
            name: this.name, pid: this.opts.pid, address: this.opts.address, clusterName: ring.clusterName, claimant: ring.ownership.claimant, memberCount: presentMembers(ring).length,
            // `rondo dev` tells a member from a node finishing a leave (exiting, removed) or one that started over (alone, valid).
            status: ring.members[this.name]?.status,
          },
        };
      }
      case 'admin.join':
        await this.join.joinVia(req.seed);
        return { type: 'admin.reply', ok: true, lines: [`${this.name} joined the cluster via ${req.seed}; stage it with 'cluster plan' and 'cluster commit'`] };
      case 'admin.leave':
        return this.adminStep({ cmd: 'leave', node: req.node ?? this.name });
      case 'admin.replace':
        return this.adminStep({ cmd: 'replace', node: req.old, by: req.new });
      case 'admin.force-remove':
        return this.adminStep({ cmd: 'force-remove', node: req.node });
      case 'admin.down': {
        // Like riak-admin down: only a member this node cannot reach may be marked down.
        if (this.detector.liveness(req.node) !== 'dead') {
          throw new InvalidArgumentError(`${req.node} is not unreachable from ${this.name}; only an unreachable member can be marked down`);
        }
        return this.adminStep({ cmd: 'down', node: req.node });
      }
      case 'admin.plan':
        return this.adminStep({ cmd: 'plan' });
      case 'admin.commit':
        return this.adminStep({ cmd: 'commit' });
      case 'admin.clear':
        return this.adminStep({ cmd: 'clear' });
      case 'admin.member-status':
        return this.adminStep({ cmd: 'member-status' });
      case 'admin.ring-status':
        return this.adminStep({ cmd: 'ring-status' });
      case 'admin.status':
      case 'admin.stat-show': {
        // Check the pattern before reading anything.
        const match = req.type === 'admin.stat-show' ? statPattern(req.pattern) : undefined;
        if (this.opts.stats === undefined) throw new InvalidArgumentError(`${this.name} keeps no stats`);
        const { lines, data } = statLines(this.opts.stats(), match);
        return { type: 'admin.reply', ok: true, lines: lines.length === 0 ? ['No matching stats'] : lines, data };
      }
      case 'admin.ringready': {
        const verdict = this.ringReady().verdict;
        return { type: 'admin.reply', ok: true, lines: [ringReadyLine(verdict)], data: verdict };
      }
      case 'admin.services': {
        const services = [...this.services.keys()].sort();
        return { type: 'admin.reply', ok: true, lines: [`${this.name}: ${services.join(', ')}`], data: { node: this.name, services: this.running ? services : [] } };
      }
      case 'admin.cluster-status': {
        const { verdict, rows, claimant } = this.ringReady();
        return { type: 'admin.reply', ok: true, lines: clusterStatusTable({ claimant, ringReady: verdict.ready, rows }), data: { claimant, ringReady: verdict.ready, members: rows } };
      }
      default: {
        const unreachable: never = req;
        throw new RondoError('invalid_argument', `unhandled admin request ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Members as this node sees them (liveness from its detector, agreement from the digests peers last gossiped), and the ringready verdict. */
  private ringReady(): { verdict: RingReadyVerdict; rows: ClusterStatusRow[]; claimant: NodeName } {
    const ring = this.membership.ring();
    const statusOut = this.membership.step({ type: 'admin', cmd: { cmd: 'ring-status' } }, this.env.nowMs());
    const membersOut = this.membership.step({ type: 'admin', cmd: { cmd: 'member-status' } }, this.env.nowMs());
    this.applyMembership(statusOut);
    this.applyMembership(membersOut);
    assert(statusOut.reply?.kind === 'ring-status' && membersOut.reply?.kind === 'member-status', 'status commands reply with their status');
    const agreeing = new Set(statusOut.reply.status.agreeing);
    const dead = new Set(this.detector.snapshot().filter((l) => l.liveness === 'dead').map((l) => l.node));
    const known = new Set(this.detector.snapshot().map((l) => l.node));
    const rows: ClusterStatusRow[] = membersOut.reply.members.map((m) => ({
      name: m.name, status: m.status, ringPct: m.ringPct, pendingPct: m.pendingPct,
      up: m.name === this.name ? true : known.has(m.name) ? !dead.has(m.name) : undefined,
    }));
    const verdict = ringReadyVerdict(rows.map((r) => ({ name: r.name, status: r.status, up: r.up === true, agrees: r.name === this.name || agreeing.has(r.name) })));
    return { verdict, rows, claimant: ring.ownership.claimant };
  }

  private adminStep(cmd: Parameters<typeof renderAdminReply>[0]): AdminReply {
    const out = this.membership.step({ type: 'admin', cmd }, this.env.nowMs());
    this.applyMembership(out);
    return renderAdminReply(cmd, out.reply, this.membership.ring(), this.detector.snapshot());
  }

  private scheduleTick(): void {
    this.tickTimer = this.env.setTimer(this.opts.tickIntervalMs ?? TICK_INTERVAL_MS, () => {
      if (!this.running) return;
      this.tick();
      this.scheduleTick();
    });
  }

  private tick(): void {
    const nowMs = this.env.nowMs();
    this.applyDetector(this.detector.tick(nowMs));
    this.applyMembership(this.membership.step({ type: 'tick' }, nowMs));
    this.join.tick(nowMs);
  }

  private onMessage(from: NodeName, msg: WireMessage): void {
    if (!this.running) return;
    const nowMs = this.env.nowMs();
    if (isSwimMessage(msg)) {
      this.applyDetector(this.detector.receive(from, msg, nowMs));
    } else if (isMembershipMessage(msg)) {
      this.applyMembership(this.membership.step({ type: 'message', from, msg }, nowMs));
    } else if (isJoinMessage(msg)) {
      const problem = joinMessageProblem(msg);
      if (problem !== undefined) this.env.log.warn({ from, type: msg.type, problem }, `dropping malformed ${msg.type} from ${from}: ${problem}`);
      else this.join.receive(from, msg as JoinMessage, this.membership);
    } else {
      const service = this.services.get(msg.type.slice(0, Math.max(0, msg.type.indexOf('.'))));
      if (service) service.receive(from, msg);
      else this.env.log.warn({ from, type: msg.type }, 'dropping message of unknown type');
    }
  }

  private applyDetector(out: DetectorOutput): void {
    for (const { to, msg } of out.send) this.send(to, msg);
    if (out.changes.length === 0) return;
    this.watcher.apply(out.changes);
    const nowMs = this.env.nowMs();
    for (const change of out.changes) {
      this.env.log.info({ peer: change.node, up: change.up }, change.up ? 'node up' : 'node down');
      this.applyMembership(this.membership.step({ type: 'liveness', node: change.node, up: change.up }, nowMs));
    }
    this.notifyChange();
  }

  private applyMembership(out: MembershipOutput): void {
    if (out.refused !== undefined) this.logRefusal(out.refused.from, out.refused.reason);
    // Persist before send: a peer must never learn of a ring we could forget.
    if (out.persist) this.env.meta.save(RING_META_KEY, pack(this.membership.ring()));
    if (out.ringChanged) this.syncPeers();
    for (const { to, msg } of out.send) this.send(to, msg);
    if (out.ringChanged) this.notifyChange();
    if (!out.left) this.leftReported = false; // started over, or a seed re-added it: a later leave is told again
    else if (!this.leftReported) {
      this.leftReported = true;
      this.env.log.info({}, 'this node has left the cluster');
      for (const listener of this.leftListeners) listener();
    }
  }

  /** A peer's ring was refused: say so once (it gossips every round), with what to fix. */
  private logRefusal(from: NodeName, reason: string): void {
    const key = `${from}\u0000${reason}`;
    if (this.refusalsLogged.has(key)) return;
    if (this.refusalsLogged.size >= GOSSIP_REFUSALS_LOGGED_MAX) this.refusalsLogged.clear();
    this.refusalsLogged.add(key);
    this.env.log.warn({ from, reason }, `refusing ring gossip from ${from}: ${reason}; its rings are ignored until they match (check ringSize, targetNVal and clusterName)`);
  }

  private notifyChange(): void {
    for (const listener of this.changeListeners) listener();
  }

  /** Teach the network and the detector who the other members are. */
  private syncPeers(): void {
    const ring = this.membership.ring();
    const others = presentMembers(ring).filter((m) => m.name !== this.name);
    for (const member of others) this.env.net.setPeerAddress(member.name, member.address);
    const names = others.map((m) => m.name);
    this.watcher.setMembers(names);
    this.applyDetector(this.detector.setMembers(names, this.env.nowMs()));
  }

  /**
   * Send a message to a peer, for the core and for registered services.
   * Returns false when it could not be queued (a full queue, an unknown peer,
   * or a message too large for one frame): callers treat that like a lost
   * message, which every protocol here tolerates. Callers that answer a
   * request use trySend, to fail that request with the reason.
   */
  send<M extends WireMessage>(to: NodeName, msg: M, channel: Channel = 'control'): boolean {
    const failure = this.trySend(to, msg, channel);
    if (failure === undefined) return true;
    if (failure instanceof MessageTooLargeError) this.env.log.warn({ to, type: msg.type, bytes: failure.bytes }, `message not sent: ${failure.message}`);
    else this.env.log.debug({ to, type: msg.type, err: failure.message }, 'message not sent');
    return false;
  }

  /**
   * Send a message to a peer. Returns undefined once it is queued, else the
   * typed reason it was not (OverloadError, UnknownPeerError,
   * MessageTooLargeError); never throws those. Anything else is a bug and is
   * thrown.
   */
  trySend<M extends WireMessage>(to: NodeName, msg: M, channel: Channel = 'control'): OverloadError | UnknownPeerError | MessageTooLargeError | undefined {
    try {
      this.env.net.send(to, msg, channel);
      return undefined;
    } catch (err) {
      if (err instanceof OverloadError || err instanceof UnknownPeerError || err instanceof MessageTooLargeError) return err;
      throw err;
    }
  }

}
