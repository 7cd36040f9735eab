// /metrics: the node's Prometheus metrics (prom-client, one registry per node
// so several nodes can share a process in tests). The request path only
// writes typed arrays by index (no label lookup, no allocation): prom-client's
// own label children hash their labels on every call (about 0.5 µs for a
// counter and a histogram), so requests and their latency histogram are
// plain arrays rendered as prom-client metrics at scrape time; everything
// that is a level rather than an event (mailboxes, queues, handoff, disk,
// event-loop lag) is read when Prometheus scrapes, by collect callbacks the
// node host registers with `gauge`.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

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

const SERIES = API_NAMES.length * OP_NAMES.length;
const BUCKETS = REQUEST_DURATION_BUCKETS_SECONDS.length;

/** A metric in prom-client's shape, read from our arrays when scraped (Registry.registerMetric takes any object with name and get). */
interface ScrapedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: { value: number; labels: Record<string, string | number>; metricName?: string }[] }>;
}

export class NodeMetrics implements RequestMetrics {
  readonly registry = new Registry();
  /** Requests by series (api index * OP_NAMES.length + op index). */
  private readonly requestCounts = new Float64Array(SERIES);
  private readonly durationSums = new Float64Array(SERIES);
  /** Per series, BUCKETS non-cumulative bucket counts (the last bucket's count includes nothing above it; +Inf is the series count). */
  private readonly durationBuckets = new Float64Array(SERIES * BUCKETS);
  private readonly errors: Counter<'code' | 'api'>;
  private readonly errorChildren = new Map<string, { inc: () => void }>();

  constructor(opts: { nodeName: string; defaultMetrics?: boolean }) {
    this.registry.setDefaultLabels({ node: opts.nodeName });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'rondo_' });
    this.registry.registerMetric(this.requestsMetric() as never);
    this.registry.registerMetric(this.durationsMetric() as never);
    this.errors = new Counter({ name: 'rondo_errors_total', help: 'Client requests answered with an error, by error code and API', labelNames: ['code', 'api'], registers: [this.registry] });
  }

  request(api: ApiName, op: OpName, seconds: number): void {
    const opIndex = OP_NAMES.indexOf(op);
    if (opIndex < 0) throw new Error(`assertion failed: unknown op ${op}`);
    const series = (api === 'http' ? 0 : 1) * OP_NAMES.length + opIndex;
    this.requestCounts[series] = (this.requestCounts[series] as number) + 1;
    this.durationSums[series] = (this.durationSums[series] as number) + seconds;
    let b = 0;
    while (b < BUCKETS && seconds > (REQUEST_DURATION_BUCKETS_SECONDS[b] as number)) b++;
    if (b < BUCKETS) this.durationBuckets[series * BUCKETS + b] = (this.durationBuckets[series * BUCKETS + b] as number) + 1;
  }

  private seriesLabels(series: number): { op: OpName; api: ApiName } {
    return { api: API_NAMES[Math.floor(series / OP_NAMES.length)] as ApiName, op: OP_NAMES[series % OP_NAMES.length] as OpName };
  }

  private requestsMetric(): ScrapedMetric {
    const name = 'rondo_requests_total';
    const help = 'Client requests answered, by operation and API';
    return {
      name, help, type: 'counter', aggregator: 'sum',
      get: () => {
        const values = [];
        for (let series = 0; series < SERIES; series++) values.push({ value: this.requestCounts[series] as number, labels: this.seriesLabels(series) });
        return Promise.resolve({ name, help, type: 'counter', aggregator: 'sum' as const, values });
      },
    };
  }

  private durationsMetric(): ScrapedMetric {
    const name = 'rondo_request_duration_seconds';
    const help = 'Client request latency, from parsed request to answer, by operation and API';
    return {
      name, help, type: 'histogram', aggregator: 'sum',
      get: () => {
        const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
        for (let series = 0; series < SERIES; series++) {
          const labels = this.seriesLabels(series);
          let cumulative = 0;
          for (let b = 0; b < BUCKETS; b++) {
            cumulative += this.durationBuckets[series * BUCKETS + b] as number;
            values.push({ value: cumulative, labels: { ...labels, le: REQUEST_DURATION_BUCKETS_SECONDS[b] as number }, metricName: `${name}_bucket` });
          }
          const count = this.requestCounts[series] as number;
          values.push({ value: count, labels: { ...labels, le: '+Inf' }, metricName: `${name}_bucket` });
          values.push({ value: this.durationSums[series] as number, labels, metricName: `${name}_sum` });
          values.push({ value: count, labels, metricName: `${name}_count` });
        }
        return Promise.resolve({ name, help, type: 'histogram', aggregator: 'sum' as const, values });
      },
    };
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
