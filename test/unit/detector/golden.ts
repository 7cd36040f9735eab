// Renders detector output as one line per message/change, for golden tests.
import type { DetectorOutput, SwimMessage } from '../../../src/core/detector/index.js';

export function renderMessage(from: string, to: string, msg: SwimMessage): string {
  const extra = 'target' in msg ? ` target=${msg.target}` : '';
  const targetInc = msg.type === 'swim.indirect-ack' ? ` targetInc=${msg.targetInc}` : '';
  const updates = msg.updates.map((u) => `${u.node}:${u.state}@${u.inc}${u.from === undefined ? '' : `/${u.from}`}`).join(' ');
  return `${from}->${to} ${msg.type} seq=${msg.seq} inc=${msg.inc}${extra}${targetInc} [${updates}]`;
}

export function render(from: string, out: DetectorOutput): string[] {
  return [...out.send.map(({ to, msg }) => renderMessage(from, to, msg)), ...out.changes.map((c) => `${from}: ${c.node} ${c.up ? 'UP' : 'DOWN'}`)];
}

/** The single message of an output (golden tests feed it to the next node). */
export function only(out: DetectorOutput): SwimMessage {
  if (out.send.length !== 1) throw new Error(`expected one message, got ${out.send.length}`);
  return (out.send[0] as { msg: SwimMessage }).msg;
}
