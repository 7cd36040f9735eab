// The fault lab: one network namespace per node on this machine, joined by a
// bridge in the root namespace, where the test driver and its clients run.
//
//   root ns: bridge rfbr<pid> 10.213.X.1/24 ── veth ── ns rondo-fault-<pid>-n1: eth0 10.213.X.11
//                                           ── veth ── ns rondo-fault-<pid>-n2: eth0 10.213.X.12 ...
//
// Every name carries the driver's PID, so a later run can tell a leftover of a
// dead run (removed at start) from a lab still in use (left alone). Only
// addresses and links made here are ever touched.
//
// Faults live inside the node namespaces: partitions are iptables DROP rules on
// each node's INPUT chain (packets from peers on the other side vanish, as on a
// cut cable, so TCP stalls instead of failing fast); slow links are `tc netem`
// where the kernel has it, else a tbf rate limit plus random iptables drops.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pidAlive } from '../helpers/dev-cluster.js';
import { onCleanup } from './cleanup.js';

const NS_PREFIX = 'rondo-fault-';
const SUBNET_BASE = '10.213';
/** A command of the lab that takes longer than this is a broken machine, not a fault. */
const COMMAND_TIMEOUT_MS = 10_000;

export interface LabHost {
  /** "n1".. */
  name: string;
  ns: string;
  ip: string;
  /** The veth end in the root namespace (on the bridge). */
  hostLink: string;
}

export interface SlowLink {
  /** Extra one-way delay (netem only). */
  delayMs: number;
  /** Fraction of packets dropped, 0..1. */
  loss: number;
  /** Fraction of packets reordered (netem only). */
  reorder: number;
  /** Rate limit where netem is missing, kbit/s. */
  rateKbit: number;
}

function run(cmd: string, args: string[], opts: { ns?: string; allowFail?: boolean } = {}): { ok: boolean; out: string } {
  const full = opts.ns === undefined ? [cmd, ...args] : ['ip', 'netns', 'exec', opts.ns, cmd, ...args];
  const result = spawnSync(full[0] as string, full.slice(1), { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
  const ok = result.status === 0;
  if (!ok && !opts.allowFail) throw new Error(`lab: ${full.join(' ')} failed (${result.status ?? result.signal}): ${(result.stderr || result.stdout || String(result.error ?? '')).trim()}`);
  return { ok, out: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** Why the lab cannot run here, or undefined when it can (root, iproute2, iptables, a throwaway namespace). */
export function labUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run as root, as CI does)';
  for (const tool of ['ip', 'iptables', 'tc']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install iproute2 iptables)`;
  }
  const probe = `${NS_PREFIX}probe-${process.pid}`;
  const made = run('ip', ['netns', 'add', probe], { allowFail: true });
  if (!made.ok) return `cannot create a network namespace: ${made.out.trim()}`;
  run('ip', ['netns', 'del', probe], { allowFail: true });
  return undefined;
}

/** Removes namespaces and bridges left by lab runs whose driver process is gone. */
export function removeStaleLabs(): string[] {
  const removed: string[] = [];
  const list = run('ip', ['netns', 'list'], { allowFail: true }).out;
  for (const line of list.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const match = new RegExp(`^${NS_PREFIX}(?:probe-)?(\\d+)`).exec(ns);
    if (!match || pidAlive(Number(match[1]))) continue;
    run('ip', ['netns', 'del', ns], { allowFail: true });
    removed.push(ns);
  }
  const links = run('ip', ['-o', 'link', 'show', 'type', 'bridge'], { allowFail: true }).out;
  for (const match of links.matchAll(/^\d+: (rfbr(\d+))[:@]/gm)) {
    if (pidAlive(Number(match[2]))) continue;
    run('ip', ['link', 'del', match[1] as string], { allowFail: true });
    removed.push(match[1] as string);
  }
  return removed;
}

/** A free /24 under 10.213: none of this machine's addresses or routes use it. */
function freeSubnet(): string {
  const used = run('ip', ['-o', 'addr'], { allowFail: true }).out + run('ip', ['route'], { allowFail: true }).out;
  for (let third = 1 + (process.pid % 200); third < 1 + (process.pid % 200) + 254; third++) {
    const subnet = `${SUBNET_BASE}.${third % 254 + 1}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
  throw new Error(`lab: no free /24 under ${SUBNET_BASE}.0.0/16`);
}

export class Lab {
  readonly hosts: LabHost[];
  readonly bridge: string;
  readonly bridgeIp: string;
  /** Whether this kernel has the netem qdisc (many VM kernels do not). */
  readonly hasNetem: boolean;
  /** Removes every namespace, link and rule this lab made. Idempotent; never throws. */
  readonly destroy: () => void;

  private constructor(hostCount: number) {
    const tag = String(process.pid);
    this.bridge = `rfbr${tag}`;
    const subnet = freeSubnet();
    this.bridgeIp = `${subnet}.1`;
    this.hosts = Array.from({ length: hostCount }, (_, i) => ({ name: `n${i + 1}`, ns: `${NS_PREFIX}${tag}-n${i + 1}`, ip: `${subnet}.${11 + i}`, hostLink: `rf${tag}h${i + 1}` }));
    // Registered before the first link exists, so a failure half-way still cleans up.
    this.destroy = onCleanup('lab', () => this.removeAll());
    try {
      run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
      run('ip', ['addr', 'add', `${this.bridgeIp}/24`, 'dev', this.bridge]);
      run('ip', ['link', 'set', this.bridge, 'up']);
      for (const host of this.hosts) {
        const peer = `rf${tag}p${host.name.slice(1)}`;
        run('ip', ['netns', 'add', host.ns]);
        run('ip', ['link', 'add', host.hostLink, 'type', 'veth', 'peer', 'name', peer]);
        run('ip', ['link', 'set', peer, 'netns', host.ns]);
        run('ip', ['-n', host.ns, 'link', 'set', peer, 'name', 'eth0']);
        run('ip', ['link', 'set', host.hostLink, 'master', this.bridge, 'up']);
        run('ip', ['-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0']);
        run('ip', ['-n', host.ns, 'link', 'set', 'eth0', 'up']);
        run('ip', ['-n', host.ns, 'link', 'set', 'lo', 'up']);
        // An empty INPUT chain of our own, so heal() flushes only what we added.
        run('iptables', ['-N', 'RONDO_FAULTS'], { ns: host.ns });
        run('iptables', ['-A', 'INPUT', '-j', 'RONDO_FAULTS'], { ns: host.ns });
      }
      const first = this.hosts[0] as LabHost;
      this.hasNetem = run('tc', ['qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', '1ms'], { ns: first.ns, allowFail: true }).ok;
      if (this.hasNetem) run('tc', ['qdisc', 'del', 'dev', 'eth0', 'root'], { ns: first.ns, allowFail: true });
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  static create(hostCount: number): Lab {
    removeStaleLabs();
    return new Lab(hostCount);
  }

  host(name: string): LabHost {
    const host = this.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`lab: no host ${name}`);
    return host;
  }

  /**
   * Cuts the network so that each host hears only the hosts `reachable` gives
   * it (which must be symmetric). Replaces any earlier partition.
   */
  partition(reachable: (host: LabHost) => LabHost[]): void {
    this.healPartition();
    for (const host of this.hosts) {
      const allowed = new Set(reachable(host).map((h) => h.ip));
      for (const other of this.hosts) {
        if (other === host || allowed.has(other.ip)) continue;
        run('iptables', ['-A', 'RONDO_FAULTS', '-s', other.ip, '-j', 'DROP'], { ns: host.ns });
      }
    }
  }

  /** Splits the hosts into groups that hear only each other. */
  partitionGroups(groups: LabHost[][]): void {
    this.partition((host) => groups.find((g) => g.includes(host)) ?? [host]);
  }

  healPartition(): void {
    for (const host of this.hosts) run('iptables', ['-F', 'RONDO_FAULTS'], { ns: host.ns });
  }

  /** Makes `host`'s link slow and lossy, in both directions. */
  slow(host: LabHost, link: SlowLink): void {
    this.healSlow(host);
    if (this.hasNetem) {
      const args = ['qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', `${link.delayMs}ms`, `${Math.ceil(link.delayMs / 4)}ms`, 'loss', `${(link.loss * 100).toFixed(1)}%`, 'reorder', `${(link.reorder * 100).toFixed(1)}%`];
      run('tc', args, { ns: host.ns });
      return;
    }
    run('tc', ['qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', `${link.rateKbit}kbit`, 'burst', '16kb', 'latency', '200ms'], { ns: host.ns });
    run('iptables', ['-A', 'RONDO_FAULTS', '-m', 'statistic', '--mode', 'random', '--probability', link.loss.toFixed(3), '-j', 'DROP'], { ns: host.ns });
  }

  healSlow(host: LabHost): void {
    run('tc', ['qdisc', 'del', 'dev', 'eth0', 'root'], { ns: host.ns, allowFail: true });
    // Random-drop rules (partition rules name a source address and are kept).
    const rules = run('iptables', ['-S', 'RONDO_FAULTS'], { ns: host.ns }).out.split('\n');
    for (const rule of rules.filter((r) => r.startsWith('-A ') && r.includes('--mode random'))) {
      run('iptables', rule.replace(/^-A /, '-D ').trim().split(/\s+/), { ns: host.ns });
    }
  }

  healAll(): void {
    this.healPartition();
    for (const host of this.hosts) this.healSlow(host);
  }

  private removeAll(): void {
    for (const host of this.hosts) {
      if (existsSync(`/run/netns/${host.ns}`)) run('ip', ['netns', 'del', host.ns], { allowFail: true });
      run('ip', ['link', 'del', host.hostLink], { allowFail: true });
    }
    run('ip', ['link', 'del', this.bridge], { allowFail: true });
  }
}
