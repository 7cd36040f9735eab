// Route handlers of the Riak HTTP API: each turns a parsed route into calls
// on the KV service or the bucket metadata, and renders the answer with the
// pure codec. Any thrown RondoError becomes a status by the codec's table.
import type { Logger } from '../../core/env.js';
import { generatedKey } from '../generated-key.js';
import type { MetadataService } from '../../core/metadata/index.js';
import { effectiveProps, getType, propsToJson, resetBucketProps, setBucketProps, updateType } from '../../kv/buckets/index.js';
import { decodeContext } from '../../kv/object/index.js';
import { bucketPropsOf, type KvBucketProps, type KvService } from '../../kv/service.js';
import {
  checkStoreConditions,
  parseConditions,
  parseDeleteOptions,
  parsePropsRequest,
  parseReadOptions,
  parseStoreRequest,
  parseWriteOptions,
  renderDelete,
  renderFetch,
  renderJson,
  renderNotFound,
  renderPing,
  renderStore,
  type FetchedObject,
  type HeaderMap,
  type HttpResponse,
  type Route,
} from './codec/index.js';
import { handleListing, type ListingContext } from './listing.js';
import { renderAsset, type ConsoleAssets } from './console/assets.js';
import type { ConsoleOverview } from './console/overview.js';

export interface HandlerContext {
  kv: KvService;
  metadata: MetadataService;
  headers: HeaderMap;
  body: Uint8Array;
  signal: AbortSignal;
  stats: () => Record<string, unknown>;
  /** The Prometheus text and its content type; absent: /metrics answers 404. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  log: Logger;
  /** The web console's files and data; without them /console is 404. */
  console?: { assets: ConsoleAssets; overview: () => Promise<ConsoleOverview> };
}

function header(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

async function fetchCurrent(ctx: HandlerContext, ref: { bucketType: string; bucket: string; key: string }, props: KvBucketProps): Promise<FetchedObject | undefined> {
  const answer = await ctx.kv.get(ref, { props, signal: ctx.signal });
  return answer.found ? { contents: answer.siblings, context: answer.context } : undefined;
}

export async function handle(route: Route, ctx: HandlerContext): Promise<HttpResponse> {
  switch (route.kind) {
    case 'ping':
      return renderPing();
    case 'stats':
      return renderJson(200, ctx.stats());
    case 'console-asset':
      return (ctx.console && renderAsset(ctx.console.assets, route.asset)) ?? renderNotFound();
    case 'console-overview': {
      if (ctx.console === undefined) return renderNotFound();
      const overview = await ctx.console.overview();
      return { ...renderJson(200, overview), headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } };
    }
    case 'metrics': {
      if (ctx.metrics === undefined) return renderNotFound();
      const m = await ctx.metrics();
      return { status: 200, headers: { 'Content-Type': m.contentType }, body: route.method === 'HEAD' ? '' : m.body };
    }
    case 'type-props': {
      if (route.method === 'PUT') {
        const props = parsePropsRequest(ctx.headers, ctx.body);
        ctx.metadata.update((state, writer) => updateType(state, route.bucketType, props, writer));
        return { status: 204, headers: {}, body: '' };
      }
      const info = getType(ctx.metadata.current(), route.bucketType);
      if (info === undefined) return { status: 404, headers: { 'Content-Type': 'text/plain' }, body: `Unknown bucket type: ${route.bucketType}\n` };
      return renderJson(200, propsToJson(info.props, { active: info.active, ...(info.claimant ? { claimant: info.claimant } : {}) }));
    }
    case 'bucket-props': {
      if (route.method === 'PUT') {
        const props = parsePropsRequest(ctx.headers, ctx.body);
        ctx.metadata.update((state, writer) => setBucketProps(state, route.bucketType, route.bucket, props, writer));
        return { status: 204, headers: {}, body: '' };
      }
      if (route.method === 'DELETE') {
        ctx.metadata.update((state, writer) => resetBucketProps(state, route.bucketType, route.bucket, writer));
        return { status: 204, headers: {}, body: '' };
      }
      return renderJson(200, propsToJson(effectiveProps(ctx.metadata.current(), route.bucketType, route.bucket), { name: route.bucket }));
    }
    case 'object-create':
      return store(ctx, { bucketType: route.bucketType, bucket: route.bucket, key: generatedKey() }, route.query, true);
    case 'object': {
      const ref = { bucketType: route.bucketType, bucket: route.bucket, key: route.key };
      if (route.method === 'PUT' || route.method === 'POST') return store(ctx, ref, route.query, false);
      const props = bucketPropsOf(effectiveProps(ctx.metadata.current(), ref.bucketType, ref.bucket));
      if (route.method === 'DELETE') {
        const opts = parseDeleteOptions(route.query);
        const context = decodeContext(header(ctx.headers, 'x-riak-vclock'));
        const result = await ctx.kv.delete(ref, { ...opts.quorums, props, signal: ctx.signal, ...(context.length > 0 ? { context } : {}), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
        return result.found ? renderDelete() : renderNotFound();
      }
      const read = parseReadOptions(route.query);
      const answer = await ctx.kv.get(ref, {
        ...read.quorums,
        props,
        signal: ctx.signal,
        ...(read.notfoundOk !== undefined ? { notfoundOk: read.notfoundOk } : {}),
        ...(read.basicQuorum !== undefined ? { basicQuorum: read.basicQuorum } : {}),
        ...(read.timeoutMs ? { timeoutMs: read.timeoutMs } : {}),
      });
      if (!answer.found) return renderNotFound();
      const accept = header(ctx.headers, 'accept');
      return renderFetch(
        { contents: answer.siblings, context: answer.context },
        { location: ref, method: route.method, ...(accept ? { accept } : {}), ...(read.vtag ? { vtag: read.vtag } : {}), conditions: parseConditions(ctx.headers) },
      );
    }
    case 'list-keys':
    case 'index':
      return handleListing(route, listingContext(ctx));
    case 'list-buckets':
      if (getType(ctx.metadata.current(), route.bucketType) === undefined) return { status: 404, headers: { 'Content-Type': 'text/plain' }, body: `Unknown bucket type: ${route.bucketType}\n` };
      return handleListing(route, listingContext(ctx));
    default: {
      const unreachable: never = route;
      throw new Error(`unhandled route ${JSON.stringify(unreachable)}`);
    }
  }
}

function listingContext(ctx: HandlerContext): ListingContext {
  return { kv: ctx.kv, signal: ctx.signal, props: (bucketType, bucket) => bucketPropsOf(effectiveProps(ctx.metadata.current(), bucketType, bucket)) };
}

async function store(ctx: HandlerContext, ref: { bucketType: string; bucket: string; key: string }, query: Route['query'], created: boolean): Promise<HttpResponse> {
  const props = bucketPropsOf(effectiveProps(ctx.metadata.current(), ref.bucketType, ref.bucket));
  const write = parseWriteOptions(query);
  const request = parseStoreRequest(ctx.headers, ctx.body);
  const c = request.conditions;
  if (c.ifMatch || c.ifNoneMatch || c.ifModifiedSinceMs !== undefined || c.ifUnmodifiedSinceMs !== undefined) {
    checkStoreConditions(c, await fetchCurrent(ctx, ref, props));
  }
  const result = await ctx.kv.put(
    ref,
    { content: request.content, context: request.context },
    { ...write.quorums, props, returnBody: write.returnBody, signal: ctx.signal, ...(write.timeoutMs ? { timeoutMs: write.timeoutMs } : {}) },
  );
  // Like Riak: large objects and many siblings are stored, with a warning in the log.
  for (const warning of result.warnings) ctx.log.warn({ bucketType: ref.bucketType, bucket: ref.bucket, key: ref.key, kind: warning.kind }, warning.message);
  const accept = header(ctx.headers, 'accept');
  const returnBody = result.body ? { contents: result.body.siblings, context: result.context } : undefined;
  return renderStore({ location: ref, created, ...(returnBody ? { returnBody } : {}), ...(accept ? { accept } : {}) });
}
