// Every limit and default of the core in one place. Each is named for what it
// bounds, carries its unit, and names the option that overrides it.
import { assert } from './errors.js';

/** Wire protocol version carried in the handshake and every envelope. */
// 2: objects travel in the object codec's format 2, gets and replicated writes
// in the KV service's binary messages (kv.q / kv.a). A version-1 node
// understands neither, so the two refuse each other at the handshake: during
// an upgrade a node of the other version looks down (not half working).
export const PROTOCOL_VERSION = 2;
/** Oldest peer protocol version this build can talk to (rolling upgrades). */
export const PROTOCOL_VERSION_MIN = 2;
/** Peer understands batch envelopes `{ v, ms: [...] }` (many messages per frame). */
export const CAPABILITY_BATCH_FRAMES = 'transport.batch.v1';
/** Capabilities this build advertises in the handshake. */
export const CAPABILITIES: readonly string[] = ['ring.gossip.v1', 'swim.v1', 'admin.v1', CAPABILITY_BATCH_FRAMES];

// --- ring and claim ---
export const RING_SIZE_DEFAULT = 64; // option: ringSize
export const RING_SIZE_MIN = 8;
export const RING_SIZE_MAX = 1024;
export const TARGET_N_VAL_DEFAULT = 4; // option: targetNVal
export const N_VAL_DEFAULT = 3;

// --- transport ---
export const FRAME_BYTES_MAX = 64 * 1024 * 1024; // option: frameBytesMax (a message larger than one frame fails its request: MessageTooLargeError)
export const FRAME_BYTES_MIN = 1_024; // frameBytesMax may not be set below this (a handshake must fit one frame)
export const OUTBOUND_QUEUE_MESSAGES_MAX = 10_000; // option: outboundQueueMessagesMax (per peer, per channel)
export const OUTBOUND_QUEUE_BYTES_MAX = 64 * 1024 * 1024; // option: outboundQueueBytesMax (per peer, per channel)
export const BATCH_FRAME_BYTES_MAX = 256 * 1024; // messages queued together leave in batch frames of at most this (a larger message travels alone)
export const BATCH_FRAME_MESSAGES_MAX = 1_024; // and at most this many messages per batch frame
export const HANDSHAKE_TIMEOUT_MS = 5_000; // option: handshakeTimeoutMs
export const CONNECT_TIMEOUT_MS = 3_000; // option: connectTimeoutMs
export const RECONNECT_BACKOFF_MIN_MS = 100; // option: reconnectBackoffMinMs
export const RECONNECT_BACKOFF_MAX_MS = 5_000; // option: reconnectBackoffMaxMs
export const INBOUND_CONNECTIONS_MAX = 1_024; // option: inboundConnectionsMax
export const ADMIN_REQUEST_TIMEOUT_MS = 10_000; // option: adminRequestTimeoutMs
export const HANDSHAKE_NONCE_BYTES = 16; // fresh per connection, so a recorded auth cannot be replayed
export const RPC_INFLIGHT_PER_CONNECTION_MAX = 64; // option: rpcInflightPerConnectionMax; requests beyond it answer "overload"
export const REFUSE_LINGER_MS = 1_000; // time a refused socket gets to deliver its "refused" frame before it is destroyed

// --- failure detection (SWIM) ---
// Tuned for "a killed node is seen down by all within 5 s" with 100 ms ticks;
// the arithmetic is in src/core/detector/config.ts.
export const SWIM_PROBE_INTERVAL_MS = 300; // option: probeIntervalMs
export const SWIM_PROBE_TIMEOUT_MS = 200; // option: probeTimeoutMs (then ping-req; suspect at the period's end)
export const SWIM_INDIRECT_PROBES = 2; // option: indirectProbes
export const SWIM_SUSPICION_TIMEOUT_MS = 1_500; // option: suspicionTimeoutMs
export const SWIM_UPDATES_PER_MESSAGE_MAX = 16; // piggybacked membership updates per message
export const SWIM_SUSPICION_TIMEOUT_MIN_MS = 1_000; // option: suspicionTimeoutMinMs (Lifeguard: reached with enough confirmations)
export const SWIM_SUSPICION_CONFIRMATIONS_MAX = 3; // option: suspicionConfirmationsMax (independent suspicions that bring the timeout to its minimum)
export const SWIM_RETRANSMIT_MULT = 4; // option: retransmitMult (each update is sent retransmitMult * ceil(log10(n + 1)) times)
export const SWIM_LOCAL_HEALTH_MAX = 4; // option: localHealthMax (Lifeguard: probe interval and timeout stretch up to (1 + this) times)
export const SWIM_DIRECT_EVIDENCE_GRACE_MS = 1_000; // option: directEvidenceGraceMs (after reviving a node on a message from it, ignore the claims it has yet to refute this long)
export const SWIM_RELAYS_MAX = 64; // option: relaysMax (ping-req relays in flight; beyond this we nack at once)

// --- membership and gossip ---
export const GOSSIP_INTERVAL_MS = 500; // option: gossipIntervalMs
export const GOSSIP_FANOUT = 1; // peers per gossip round (plus a push on every ring change)
export const GOSSIP_REFUSALS_LOGGED_MAX = 256; // (peer, reason) pairs of refused ring gossip already logged once; when full the record starts over (a peer may be logged again)

// --- cluster metadata ---
export const METADATA_GOSSIP_INTERVAL_MS = 1_000; // option: metadataGossipIntervalMs; a digest to one random member this often

// --- node host ---
export const JOIN_TIMEOUT_MS = 10_000; // a join request unanswered this long fails the admin command
export const JOIN_RESEND_INTERVAL_MS = 1_000; // join requests are resent (idempotently) this often until answered
export const TICK_INTERVAL_MS = 100; // option: tickIntervalMs; cores see time only through ticks and nowMs

// --- vnodes ---
export const VNODE_MAILBOX_COMMANDS_MAX = 1_000; // option: vnodeMailboxCommandsMax (per vnode: commands waiting behind the running one, plus 'noreply' ones still pending; beyond it a command is answered "overload" at once)
export const VNODE_COMMAND_TIMEOUT_MS = 10_000; // option: vnodeCommandTimeoutMs (per command, from delivery: time in the mailbox plus time running)

// --- handoff (src/core/handoff) ---
export const HANDOFF_CONCURRENCY_DEFAULT = 2; // option: handoffConcurrency (transfers at once per node, per direction; like riak's handoff_concurrency)
export const HANDOFF_CONCURRENCY_MAX = 64; // the option's upper bound
export const HANDOFF_BATCH_ITEMS_MAX = 500; // option: handoffBatchItemsMax (items per batch message)
export const HANDOFF_BATCH_BYTES_MAX = 1024 * 1024; // option: handoffBatchBytesMax (item bytes per batch message; one larger item travels alone)
export const HANDOFF_INFLIGHT_BYTES_MAX = 8 * 1024 * 1024; // option: handoffInflightBytesMax (sent but unacknowledged batch bytes per transfer)
export const HANDOFF_STALL_TIMEOUT_MS = 120_000; // option: handoffStallTimeoutMs (a transfer with no progress this long is abandoned and retried)
export const HANDOFF_RESEND_MS = 2_000; // option: handoffResendMs (an unacknowledged message is sent again after this)
export const HANDOFF_RETRY_DELAY_MS = 5_000; // option: handoffRetryDelayMs (mean wait, jittered ±50%, before a failed or refused transfer is tried again)
export const HANDOFF_CHECK_INTERVAL_MS = 1_000; // option: handoffCheckIntervalMs (how often each node looks for data to hand off, besides ring and liveness events)
export const HANDOFF_DROP_GRACE_MS = 2_000; // option: handoffDropGraceMs (after the ring switches owners, the old copy is kept this long so nodes with the old ring still find it)
export const HANDOFF_INBOUND_SESSIONS_MAX = 256; // receiver sessions kept at once, finished ones included (they wait for the sender's close); beyond it a start is refused as busy
export const HANDOFF_STATUS_TIMEOUT_MS = 3_000; // `admin transfers` waits this long for each member's rows

assert(RING_SIZE_DEFAULT >= RING_SIZE_MIN && RING_SIZE_DEFAULT <= RING_SIZE_MAX, 'default ring size in range');
assert(SWIM_PROBE_TIMEOUT_MS < SWIM_PROBE_INTERVAL_MS, 'probe timeout fits in a probe period');
assert(SWIM_SUSPICION_TIMEOUT_MIN_MS <= SWIM_SUSPICION_TIMEOUT_MS, 'suspicion timeout range ordered');
assert(SWIM_DIRECT_EVIDENCE_GRACE_MS < SWIM_PROBE_INTERVAL_MS + SWIM_SUSPICION_TIMEOUT_MIN_MS, 'direct-evidence grace ends before the first dead claim can exist');
assert(RECONNECT_BACKOFF_MIN_MS < RECONNECT_BACKOFF_MAX_MS, 'backoff range ordered');
assert(FRAME_BYTES_MIN <= BATCH_FRAME_BYTES_MAX && BATCH_FRAME_BYTES_MAX < FRAME_BYTES_MAX, 'a batch frame fits a frame');
assert(HANDOFF_RESEND_MS < HANDOFF_STALL_TIMEOUT_MS, 'a stalled transfer gets resends before it is abandoned');
assert(HANDOFF_BATCH_BYTES_MAX <= HANDOFF_INFLIGHT_BYTES_MAX && HANDOFF_INFLIGHT_BYTES_MAX < OUTBOUND_QUEUE_BYTES_MAX, 'a batch fits the window, the window fits a peer queue');
// A killed node must be seen down within 5 s: one probe period to notice, the
// suspicion timeout, and a gossip/probe period to spread it.
assert(SWIM_PROBE_INTERVAL_MS * 2 + SWIM_SUSPICION_TIMEOUT_MS + GOSSIP_INTERVAL_MS * 2 < 5_000, 'detection bound under 5 s');

// --- node statistics (/stats: sliding one-minute windows, src/core/stats) ---
/** Seconds a /stats one-minute figure covers: one bucket per second. */
export const STATS_WINDOW_SECONDS = 60;
/** Sub-buckets per power of two in a window histogram: percentiles within 1/32 (about 3 %) below the true value; values below this are exact. */
export const STATS_HISTOGRAM_SUB_BUCKETS = 32;
/** Largest value a window histogram tells apart (µs: about 71 minutes; bytes: 4 GiB); larger ones count as this (the mean and max stay exact). */
export const STATS_HISTOGRAM_VALUE_MAX = 2 ** 32 - 1;
assert(Number.isSafeInteger(STATS_WINDOW_SECONDS) && STATS_WINDOW_SECONDS >= 2, 'a stats window has at least two buckets');
assert(STATS_HISTOGRAM_SUB_BUCKETS === 32, 'the histogram index arithmetic assumes 32 sub-buckets (log2 = 5)');
