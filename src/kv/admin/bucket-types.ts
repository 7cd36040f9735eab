// `rondo admin bucket-type create|activate|update|status|list`, the way
// riak-admin does it: types live in cluster metadata, are created inactive,
// and may be activated only once every member holds them ("ready").
import type { MetadataService } from '../../core/metadata/index.js';
import type { AdminReply } from '../../core/node/admin-messages.js';
import type { WireMessage } from '../../core/env.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { activateType, BUCKET_TYPES_PREFIX, DEFAULT_TYPE, createType, getType, listTypes, propsFromJson, propsToJson, typeStatus, updateType } from '../buckets/index.js';

export type BucketTypeRequest =
  | { type: 'bucket-type.create'; name: string; props: string }
  | { type: 'bucket-type.activate'; name: string }
  | { type: 'bucket-type.update'; name: string; props: string }
  | { type: 'bucket-type.status'; name: string }
  | { type: 'bucket-type.list' };

const TYPES: ReadonlySet<string> = new Set(['bucket-type.create', 'bucket-type.activate', 'bucket-type.update', 'bucket-type.status', 'bucket-type.list']);

export function isBucketTypeRequest(msg: WireMessage): msg is BucketTypeRequest {
  if (!TYPES.has(msg.type)) return false;
  const m = msg as { name?: unknown; props?: unknown };
  if (msg.type !== 'bucket-type.list' && typeof m.name !== 'string') return false;
  if ((msg.type === 'bucket-type.create' || msg.type === 'bucket-type.update') && typeof m.props !== 'string') return false;
  return true;
}

function reply(lines: string[], data?: unknown): AdminReply {
  return data === undefined ? { type: 'admin.reply', ok: true, lines } : { type: 'admin.reply', ok: true, lines, data };
}

/** Riak takes '{"props": {...}}'; an empty argument means no properties. */
function parseProps(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`bucket type properties are not valid JSON: ${(err as Error).message}`);
  }
  return propsFromJson(parsed);
}

export class BucketTypeAdmin {
  private readonly metadata: MetadataService;

  constructor(metadata: MetadataService) {
    this.metadata = metadata;
  }

  handle(req: BucketTypeRequest): AdminReply {
    switch (req.type) {
      case 'bucket-type.create': {
        const props = parseProps(req.props);
        this.metadata.update((state, writer) => createType(state, req.name, props, writer));
        return reply([`${req.name} created`, `Activate it with: rondo admin bucket-type activate ${req.name}`]);
      }
      case 'bucket-type.activate': {
        const missing = this.metadata.membersMissing(BUCKET_TYPES_PREFIX, req.name);
        if (req.name !== DEFAULT_TYPE && getType(this.metadata.current(), req.name) !== undefined && missing.length > 0) {
          throw new InvalidArgumentError(`${req.name} is not yet known to ${missing.join(', ')}; it can be activated once every node has it (try again in a moment)`);
        }
        this.metadata.update((state, writer) => activateType(state, req.name, { allNodesHaveIt: true }, writer));
        return reply([`${req.name} has been activated`]);
      }
      case 'bucket-type.update': {
        const props = parseProps(req.props);
        this.metadata.update((state, writer) => updateType(state, req.name, props, writer));
        return reply([`${req.name} updated`]);
      }
      case 'bucket-type.status': {
        const state = this.metadata.current();
        const info = getType(state, req.name);
        if (info === undefined) return reply([`${req.name} is not an existing bucket type`], { status: 'undefined' });
        const status = typeStatus(state, req.name, { allNodesHaveIt: this.metadata.membersMissing(BUCKET_TYPES_PREFIX, req.name).length === 0 });
        const words = { active: 'is active', ready: 'has been created and may be activated', created: 'has been created but cannot be activated yet', undefined: 'is not an existing bucket type' } as const;
        const props = propsToJson(info.props).props;
        return reply([`${req.name} ${words[status]}`, '', ...Object.entries(props).map(([k, v]) => `${k}: ${JSON.stringify(v)}`)], { status, props });
      }
      case 'bucket-type.list': {
        const types = listTypes(this.metadata.current());
        return reply(types.map((t) => `${t.name} (${t.active ? 'active' : 'not active'})`), types.map((t) => ({ name: t.name, active: t.active })));
      }
      default: {
        const unreachable: never = req;
        throw new InvalidArgumentError(`unknown bucket-type request ${JSON.stringify(unreachable)}`);
      }
    }
  }
}
