// /metrics: the node's Prometheus metrics (prom-client, one registry per node
// so several nodes can share a process in tests). The request path only
// touches pre-bound children (an array index, no label lookup); everything
// that is a level rather than an event (mailboxes, queues, handoff, disk,
// event-loop lag) is read when Prometheus scrapes, by collect callbacks the
// node host registers with `gauge`.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const API_NAMES = ['http', 'pb'] as const;
export type ApiName = (typeof API_NAMES)[number];
export const OP_NAMES = ['get', 'put', 'delete', 'list', 'index', 'other'] as const;
export type OpName = (typeof OP_NAMES)[number];

/** Latency buckets in seconds: 100 µs to 10 s (a request times out by then). */
export const REQUEST_DURATION_BUCKETS_SECONDS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Distinct error codes given a series of their own; beyond it they count as "other" (codes are a closed set today; this bounds a bug). */
export const ERROR_CODES_MAX = 64;

/** What the APIs record per request: cheap, allocation-free. */
export interface RequestMetrics {
  /** One request of `op` on `api` answered after `seconds`. */
  request(api: ApiName, op: OpName, seconds: number): void;
  /** A request answered with an error of this code (a RondoError code, e.g. timeout, overload, not_found is not one). */
  error(api: ApiName, code: string): void;
}

interface Bound {
  inc(): void;
  observe(value: number): void;
}

export class NodeMetrics implements RequestMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'op' | 'api'>;
  private readonly durations: Histogram<'op' | 'api'>;
  private readonly errors: Counter<'code' | 'api'>;
  /** [api][op] -> the pre-bound counter and histogram children. */
  private readonly bound: { counter: Bound['inc']; observe: Bound['observe'] }[][];
  private readonly errorChildren = new Map<string, { inc: () => void }>();

  constructor(opts: { nodeName: string; defaultMetrics?: boolean }) {
    this.registry.setDefaultLabels({ node: opts.nodeName });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'rondo_' });
    this.requests = new Counter({ name: 'rondo_requests_total', help: 'Client requests answered, by operation and API', labelNames: ['op', 'api'], registers: [this.registry] });
    this.durations = new Histogram({
      name: 'rondo_request_duration_seconds', help: 'Client request latency, from parsed request to answer, by operation and API',
      labelNames: ['op', 'api'], buckets: [...REQUEST_DURATION_BUCKETS_SECONDS], registers: [this.registry],
    });
    this.errors = new Counter({ name: 'rondo_errors_total', help: 'Client requests answered with an error, by error code and API', labelNames: ['code', 'api'], registers: [this.registry] });
    this.bound = API_NAMES.map((api) =>
      OP_NAMES.map((op) => {
        const counter = this.requests.labels({ op, api });
        const histogram = this.durations.labels({ op, api });
        return { counter: () => counter.inc(), observe: (v: number) => histogram.observe(v) };
      }),
    );
  }

  request(api: ApiName, op: OpName, seconds: number): void {
    const b = this.bound[api === 'http' ? 0 : 1]?.[OP_NAMES.indexOf(op)];
    if (b === undefined) throw new Error(`assertion failed: unknown api ${api} or op ${op}`);
    b.counter();
    b.observe(seconds);
  }

  error(api: ApiName, code: string): void {
    const key = `${api}\u0000${code}`;
    let child = this.errorChildren.get(key);
    if (child === undefined) {
      const label = this.errorChildren.size < ERROR_CODES_MAX * API_NAMES.length ? code : 'other';
      child = this.errors.labels({ code: label, api });
      if (label === code) this.errorChildren.set(key, child);
    }
    child.inc();
  }

  /** A gauge whose value(s) are read at scrape time. `read` sets them with `set(value, labels?)`. */
  gauge<L extends string>(o: { name: string; help: string; labelNames?: readonly L[]; read: (set: (value: number, labels?: Partial<Record<L, string>>) => void) => void }): void {
    new Gauge<L>({
      name: o.name, help: o.help, labelNames: o.labelNames ?? [], registers: [this.registry],
      collect() {
        this.reset();
        o.read((value, labels) => (labels === undefined ? this.set(value) : this.set(labels, value)));
      },
    });
  }

  /** A counter (monotonic since start) read at scrape time from a total the node already keeps. */
  counterFrom<L extends string>(o: { name: string; help: string; labelNames?: readonly L[]; read: (set: (value: number, labels?: Partial<Record<L, string>>) => void) => void }): void {
    // prom-client Counters cannot be set: the Counter follows the total by the difference since the last scrape.
    const last = new Map<string, number>();
    new Counter<L>({
      name: o.name, help: o.help, labelNames: o.labelNames ?? [], registers: [this.registry],
      collect() {
        o.read((value, labels) => {
          const key = labels === undefined ? '' : JSON.stringify(labels);
          // A total that went down (its source was reset: e.g. a vnode no longer hosted) adds nothing until it passes its old high.
          const delta = Math.max(0, value - (last.get(key) ?? 0));
          if (labels === undefined) this.inc(delta);
          else this.inc(labels, delta);
          last.set(key, Math.max(value, last.get(key) ?? 0));
        });
      },
    });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
