// Small builders shared by the object-model tests.
import { makeContent } from '../../../../src/kv/object/index.js';
import type { Content, NewContent, ObjectProps } from '../../../../src/kv/object/index.js';

export const MULT: ObjectProps = { allowMult: true, lastWriteWins: false };
export const SINGLE: ObjectProps = { allowMult: false, lastWriteWins: false };
export const LWW: ObjectProps = { allowMult: false, lastWriteWins: true };

/** A content whose value is the UTF-8 of `text`, stamped (wallMs, logical). */
export function content(text: string, wallMs: number, extra: Partial<NewContent> = {}): Content {
  return makeContent({
    value: new TextEncoder().encode(text),
    lastModified: { wallMs, logical: extra.lastModified?.logical ?? 0 },
    vtag: extra.vtag ?? `v${text.replace(/[^0-9A-Za-z]/g, '').slice(0, 40)}x`,
    ...extra,
  });
}

export function text(c: Content): string {
  return new TextDecoder().decode(c.value);
}
