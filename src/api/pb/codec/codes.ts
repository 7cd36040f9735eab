// Riak's PB message codes: the byte after a frame's length. The table is
// riak_pb's src/riak_pb_messages.csv (code, name) in full, so the server can
// name every message a client may send, including those it refuses.

export const PB_CODES = {
  RpbErrorResp: 0,
  RpbPingReq: 1,
  RpbPingResp: 2,
  RpbGetClientIdReq: 3,
  RpbGetClientIdResp: 4,
  RpbSetClientIdReq: 5,
  RpbSetClientIdResp: 6,
  RpbGetServerInfoReq: 7,
  RpbGetServerInfoResp: 8,
  RpbGetReq: 9,
  RpbGetResp: 10,
  RpbPutReq: 11,
  RpbPutResp: 12,
  RpbDelReq: 13,
  RpbDelResp: 14,
  RpbListBucketsReq: 15,
  RpbListBucketsResp: 16,
  RpbListKeysReq: 17,
  RpbListKeysResp: 18,
  RpbGetBucketReq: 19,
  RpbGetBucketResp: 20,
  RpbSetBucketReq: 21,
  RpbSetBucketResp: 22,
  RpbMapRedReq: 23,
  RpbMapRedResp: 24,
  RpbIndexReq: 25,
  RpbIndexResp: 26,
  RpbSearchQueryReq: 27,
  RpbSearchQueryResp: 28,
  RpbResetBucketReq: 29,
  RpbResetBucketResp: 30,
  RpbGetBucketTypeReq: 31,
  RpbSetBucketTypeReq: 32,
  RpbGetBucketKeyPreflistReq: 33,
  RpbGetBucketKeyPreflistResp: 34,
  RpbCSBucketReq: 40,
  RpbCSBucketResp: 41,
  RpbIndexBodyResp: 42,
  RpbCounterUpdateReq: 50,
  RpbCounterUpdateResp: 51,
  RpbCounterGetReq: 52,
  RpbCounterGetResp: 53,
  RpbYokozunaIndexGetReq: 54,
  RpbYokozunaIndexGetResp: 55,
  RpbYokozunaIndexPutReq: 56,
  RpbYokozunaIndexDeleteReq: 57,
  RpbYokozunaSchemaGetReq: 58,
  RpbYokozunaSchemaGetResp: 59,
  RpbYokozunaSchemaPutReq: 60,
  RpbCoverageReq: 70,
  RpbCoverageResp: 71,
  DtFetchReq: 80,
  DtFetchResp: 81,
  DtUpdateReq: 82,
  DtUpdateResp: 83,
  TsQueryReq: 90,
  TsQueryResp: 91,
  TsPutReq: 92,
  TsPutResp: 93,
  TsDelReq: 94,
  TsDelResp: 95,
  TsGetReq: 96,
  TsGetResp: 97,
  TsListKeysReq: 98,
  TsListKeysResp: 99,
  TsCoverageReq: 100,
  TsCoverageResp: 101,
  TsCoverageEntry: 102,
  TsRange: 103,
  TsTtbMsg: 104,
  RpbRTEReq: 200,
  RpbRTEResp: 201,
  RpbFetchReq: 202,
  RpbFetchResp: 203,
  RpbAuthReq: 253,
  RpbAuthResp: 254,
  RpbStartTls: 255,
} as const;

export type PbMessageName = keyof typeof PB_CODES;
export type PbCode = (typeof PB_CODES)[PbMessageName];

const NAMES_BY_CODE: ReadonlyMap<number, PbMessageName> = new Map(
  (Object.entries(PB_CODES) as [PbMessageName, number][]).map(([name, code]) => [code, name]),
);

/** The riak_pb name of a message code, or undefined for a code Riak never assigned. */
export function messageName(code: number): PbMessageName | undefined {
  return NAMES_BY_CODE.get(code);
}

/**
 * Messages that are only a code: riak_pb defines no body for them, so their
 * frame has length 1. RpbPutResp is often empty too, but it has a message
 * (content, vclock, key), so it is not listed here.
 */
export const PB_BODYLESS = new Set<PbMessageName>([
  'RpbPingReq',
  'RpbPingResp',
  'RpbGetClientIdReq',
  'RpbGetServerInfoReq',
  'RpbSetClientIdResp',
  'RpbDelResp',
  'RpbSetBucketResp',
  'RpbResetBucketResp',
  'RpbAuthResp',
  'RpbStartTls',
]);

export function isBodyless(name: PbMessageName): boolean {
  return PB_BODYLESS.has(name);
}
