// Content metadata validation and vtag generation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Prng } from '../../../../src/core/sim/prng.js';
import { makeContent, newVtag, parseIntIndexValue } from '../../../../src/kv/object/index.js';
import type { NewContent } from '../../../../src/kv/object/index.js';
import { InvalidIndexError, InvalidMetadataError } from '../../../../src/kv/errors.js';

const base: NewContent = { value: new Uint8Array(0), lastModified: { wallMs: 1, logical: 0 }, vtag: 'abc' };

test('vtags are 22 base62 chars from the injected random source, reproducible by seed', () => {
  const a = newVtag(new Prng(7));
  assert.match(a, /^[0-9A-Za-z]{22}$/);
  assert.equal(newVtag(new Prng(7)), a);
  assert.notEqual(newVtag(new Prng(8)), a);
});

test('defaults and normalization: content type, sorted unique indexes, sorted user meta', () => {
  const c = makeContent({ ...base, indexes: [['b_int', 2], ['a_bin', 'x'], ['b_int', 2], ['b_int', -1]], userMeta: [['z', '1'], ['a', '2']] });
  assert.equal(c.meta.contentType, 'application/octet-stream');
  assert.deepEqual(c.meta.indexes, [['a_bin', 'x'], ['b_int', -1], ['b_int', 2]]);
  assert.deepEqual(c.meta.userMeta, [['a', '2'], ['z', '1']]);
  assert.equal(c.meta.deleted, false);
  assert.equal('charset' in c.meta, false);
});

test('index names and values are checked', () => {
  const bad: [NewContent['indexes'], RegExp][] = [
    [[['age', 1]], /ending in _bin or _int/],
    [[['Age_int', 1]], /lowercase/],
    [[['_int', 1]], /ending in _bin or _int/],
    [[['age_int', 1.5]], /integer value/],
    [[['age_int', '7']], /integer value/],
    [[['name_bin', 7]], /string value/],
    [[['a b_bin', 'x']], /header characters/],
  ];
  for (const [indexes, reason] of bad) {
    assert.throws(() => makeContent({ ...base, indexes }), (e: unknown) => e instanceof InvalidIndexError && e.code === 'kv_bad_index' && reason.test(e.message));
  }
  assert.equal(parseIntIndexValue('a_int', ' -42 '), -42);
  assert.throws(() => parseIntIndexValue('a_int', '4.2'), InvalidIndexError);
  assert.throws(() => parseIntIndexValue('a_int', '99999999999999999999'), InvalidIndexError);
});

test('user metadata, header strings and vtags are checked', () => {
  const bad: [Partial<NewContent>, RegExp][] = [
    [{ userMeta: [['a', '1'], ['A', '2']] }, /appears twice/],
    [{ userMeta: [['bad key', '1']] }, /header token/],
    [{ userMeta: [['k', 'line\r\nX-Evil: 1']] }, /CR, LF/],
    [{ contentType: '' }, /must not be empty/],
    [{ charset: 'utf\n8' }, /CR, LF/],
    [{ vtag: '' }, /vtag/],
    [{ vtag: 'not-base62' }, /vtag/],
    [{ lastModified: { wallMs: -1, logical: 0 } }, /HLC/],
  ];
  for (const [patch, reason] of bad) {
    assert.throws(() => makeContent({ ...base, ...patch }), (e: unknown) => e instanceof InvalidMetadataError && e.code === 'kv_bad_metadata' && reason.test(e.message), JSON.stringify(patch));
  }
});
