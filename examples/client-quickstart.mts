// Rondo's TypeScript client against `npm start` (PB API on 127.0.0.1:8087-8089).
// Run: node --import tsx examples/client-quickstart.mts
import { RondoClient, type Sibling } from '../src/client/index.js';

// The sibling written last wins (ties: the greater value).
const newest = (siblings: Sibling[]): Sibling =>
  siblings.reduce((a, b) => (b.lastModified > a.lastModified || (+b.lastModified === +a.lastModified && b.value.toString() > a.value.toString()) ? b : a));

const nodes = process.env.RONDO_PB_NODES?.split(',') ?? ['127.0.0.1:8087', '127.0.0.1:8088', '127.0.0.1:8089'];
const client = new RondoClient({ nodes, resolveSiblings: newest });
try {
  await client.ping();

  // put and get
  await client.put({ bucket: 'quickstart', key: 'greeting' }, 'hello');
  const got = await client.get({ bucket: 'quickstart', key: 'greeting' });
  if (got.found) console.log('greeting:', got.value.value.toString(), `(${got.value.contentType})`);

  // siblings: two blind writes to an allow_mult bucket, resolved on read, then written back with the context
  await client.setBucketProps({ bucket: 'quickstart-colors' }, { allowMult: true });
  await client.put({ bucket: 'quickstart-colors', key: 'car' }, 'amber');
  await client.put({ bucket: 'quickstart-colors', key: 'car' }, 'blue');
  const car = await client.get({ bucket: 'quickstart-colors', key: 'car' });
  if (car.found) {
    console.log('car resolves to:', car.value.value.toString());
    await client.put({ bucket: 'quickstart-colors', key: 'car' }, car.value, { context: car.context });
  }

  // secondary indexes: w 'all' so every replica has the entries before we query
  for (const [name, age] of [['ann', 31], ['bob', 25], ['cid', 47], ['dee', 38]] as const) {
    await client.put({ bucket: 'quickstart-people', key: name }, { value: JSON.stringify({ name, age }), contentType: 'application/json', indexes: [{ name: 'age_int', value: age }] }, { w: 'all' });
  }
  const page = await client.index({ bucket: 'quickstart-people', index: 'age_int', start: 30, end: 50, returnTerms: true, maxResults: 2 });
  console.log('ages 30-50, first page:', page.hits.map((h) => `${h.key}=${h.term}`).join(' '), page.continuation ? '(more)' : '');

  // list keys: scans the whole cluster, for tools and tests rather than requests
  const keys: string[] = [];
  for await (const key of client.listKeys({ bucket: 'quickstart-people' })) keys.push(key);
  console.log('people:', keys.sort().join(' '));
} finally {
  await client.close();
}
