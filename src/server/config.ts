import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { KeywordFilter, parseFilterFile, type FilterRule } from '../core/moderation/keyword-filter.js';
import { parseFaqFile, type FaqEntry } from '../core/assistant/faq.js';

/**
 * Every setting: its env var, its CLI flag, its schema and default, and a line for the docs.
 * The README's configuration table is this list; test/unit/config.test.ts keeps them in step.
 */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
/** An origin as browsers send it: `http(s)://host[:port]`, lower case, no default port, no path. */
const isOrigin = (o: string) => {
  try {
    return /^https?:$/.test(new URL(o).protocol) && new URL(o).origin === o;
  } catch {
    return false;
  }
};

export const SETTINGS = {
  port: {
    env: 'PORT',
    schema: int(0, 65535),
    default: 3000,
    doc: 'TCP port for HTTP and WebSocket (0 = any free port).',
  },
  host: {
    env: 'HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Interface to listen on; 0.0.0.0 to serve your network.',
  },
  tlsCertFile: {
    env: 'TLS_CERT_FILE',
    schema: z.string().min(1),
    default: '',
    doc: 'PEM certificate chain: with `TLS_KEY_FILE`, serve HTTPS and WSS on `PORT` (both or neither).',
  },
  tlsKeyFile: {
    env: 'TLS_KEY_FILE',
    schema: z.string().min(1),
    default: '',
    doc: 'PEM private key of `TLS_CERT_FILE`.',
  },
  hstsMaxAge: {
    env: 'HSTS_MAX_AGE',
    schema: int(0, 63072000),
    default: 31536000,
    doc: '`Strict-Transport-Security` max-age (seconds) on HTTPS responses: served over TLS, or `X-Forwarded-Proto: https` from a trusted proxy. 0 = none.',
  },
  metricsToken: {
    env: 'METRICS_TOKEN',
    schema: z.string().refine((v) => v === '' || v.length >= 16, 'at least 16 characters'),
    default: '',
    doc: 'Serves Prometheus metrics at `GET /metrics` to `Authorization: Bearer <this token>` (16+ characters); empty = no metrics endpoint.',
  },
  allowedOrigins: {
    env: 'ALLOWED_ORIGINS',
    schema: z
      .string()
      .refine(
        (v) => v.split(',').every((o) => isOrigin(o.trim())),
        'expected comma-separated origins like https://chat.example.org (scheme://host[:port], no path)',
      ),
    default: '',
    doc: "Origins allowed to open a WebSocket, matched exactly (`https://chat.example.org,https://app.example.org`); empty = the server's own (scheme and `Host` of the request).",
  },
  dataDir: {
    env: 'DATA_DIR',
    schema: z.string().min(1),
    default: './data',
    doc: 'Directory of the embedded SQLite database.',
  },
  logLevel: {
    env: 'LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    doc: 'Log level (logs are JSON lines on stdout).',
  },
  maxFrameBytes: {
    env: 'MAX_FRAME_BYTES',
    schema: int(1024, 1 << 20),
    default: 65536,
    doc: 'Largest WebSocket frame accepted; bigger ones get a `payload_too_large` error frame.',
  },
  maxHttpBodyBytes: {
    env: 'MAX_HTTP_BODY_BYTES',
    schema: int(1024, 16 << 20),
    default: 65536,
    doc: 'Largest HTTP request body; bigger ones get 413.',
  },
  maxMessageChars: {
    env: 'MAX_MESSAGE_CHARS',
    schema: int(1, 16000),
    default: 4000,
    doc: 'Longest message body, in characters.',
  },
  editWindowSeconds: {
    env: 'EDIT_WINDOW_SECONDS',
    schema: int(0, 31536000),
    default: 0,
    doc: 'How long after sending its author may edit a message, in seconds; later edits get `edit_window_closed`. 0 = no limit.',
  },
  maxPinsPerRoom: {
    env: 'MAX_PINS_PER_ROOM',
    schema: int(1, 10000),
    default: 100,
    doc: 'Most pinned messages per room; another pin gets `too_many_pins` until one is unpinned.',
  },
  maxBlocksPerUser: {
    env: 'MAX_BLOCKS_PER_USER',
    schema: int(1, 100000),
    default: 1000,
    doc: 'Most users one user may block; another block gets `too_many_blocks` until one is lifted.',
  },
  maxAvatarBytes: {
    env: 'MAX_AVATAR_BYTES',
    schema: int(1024, 64 << 20),
    default: 5 << 20,
    doc: 'Largest picture accepted for a user or room avatar (`PUT …/avatar`); bigger ones get `file_too_large`. What is kept is a 256×256 WebP of a few KB.',
  },
  readReceiptsMaxMembers: {
    env: 'READ_RECEIPTS_MAX_MEMBERS',
    schema: int(0, 100000),
    default: 50,
    doc: 'Largest room (members) in which read markers are shared as read receipts (`member.read` events); 0 = nowhere.',
  },
  maxOutboundBytes: {
    env: 'MAX_OUTBOUND_BYTES',
    schema: int(16384, 256 << 20),
    default: 4 << 20,
    doc: 'Per-connection send buffer; a client that lets more pile up is closed with 4008.',
  },
  busyWriteWindowMs: {
    env: 'BUSY_WRITE_WINDOW_MS',
    schema: int(0, 1000),
    default: 50,
    doc: 'When the event loop is busy, writes to each connection are gathered for this long (ms) and sent as one; 0 turns it off.',
  },
  busyUtilizationPercent: {
    env: 'BUSY_UTILIZATION_PERCENT',
    schema: int(1, 100),
    default: 90,
    doc: 'Event-loop utilisation (%) above which the node counts as busy (no longer busy 10 points below it).',
  },
  maxConnectionsPerUser: {
    env: 'MAX_CONNECTIONS_PER_USER',
    schema: int(1, 10000),
    default: 20,
    doc: 'Open WebSocket connections per user; more are closed with 4004.',
  },
  maxConnectionsPerIp: {
    env: 'MAX_CONNECTIONS_PER_IP',
    schema: int(0, 1000000),
    default: 1000,
    doc: 'Open WebSocket connections per client IP on one node (see `TRUST_PROXY`); more are refused with HTTP 429 before the upgrade. 0 = no cap.',
  },
  maxRoomsPerUser: {
    env: 'MAX_ROOMS_PER_USER',
    schema: int(1, 100000),
    default: 1000,
    doc: 'Rooms (incl. DMs) a user may belong to.',
  },
  maxDmMembers: {
    env: 'MAX_DM_MEMBERS',
    schema: int(2, 64),
    default: 9,
    doc: 'Members of a group DM, including its creator.',
  },
  heartbeatMs: {
    env: 'HEARTBEAT_MS',
    schema: int(100, 600000),
    default: 30000,
    doc: 'Ping interval; a connection silent for two intervals is dropped.',
  },
  helloTimeoutMs: {
    env: 'HELLO_TIMEOUT_MS',
    schema: int(100, 600000),
    default: 10000,
    doc: 'Time a new socket has to send `hello` before close 4002.',
  },
  sessionTtlDays: {
    env: 'SESSION_TTL_DAYS',
    schema: int(1, 3650),
    default: 30,
    doc: 'Session lifetime since last use (sliding).',
  },
  sessionRecheckMs: {
    env: 'SESSION_RECHECK_MS',
    schema: int(1000, 3_600_000),
    default: 60_000,
    doc: 'How often an open socket re-checks its session and account (a safety net behind instant revocation; expiry is exact).',
  },
  messagesPerSecond: {
    env: 'MESSAGES_PER_SECOND',
    schema: int(1, 1000000),
    default: 10,
    doc: 'Sustained messages per user per second (token bucket refill).',
  },
  messageBurst: {
    env: 'MESSAGE_BURST',
    schema: int(1, 1000000),
    default: 30,
    doc: 'Message burst per user (token bucket size).',
  },
  loginsPerMinute: {
    env: 'LOGINS_PER_MINUTE',
    schema: int(1, 100000),
    default: 10,
    doc: 'Login attempts per IP and per username per minute.',
  },
  loginFailuresPerMinute: {
    env: 'LOGIN_FAILURES_PER_MINUTE',
    schema: int(1, 1000000),
    default: 300,
    doc: 'Wrong passwords (logins and password changes) per minute server-wide; while this budget is spent, every login is answered `rate_limited`. Bounds guessing spread over many addresses and usernames.',
  },
  registrationsPerHour: {
    env: 'REGISTRATIONS_PER_HOUR',
    schema: int(1, 1000000),
    default: 30,
    doc: 'Registrations per IP per hour.',
  },
  roomsPerMinute: {
    env: 'ROOMS_PER_MINUTE',
    schema: int(1, 100000),
    default: 10,
    doc: 'Rooms a user may create per minute.',
  },
  membershipChangesPerMinute: {
    env: 'MEMBERSHIP_CHANGES_PER_MINUTE',
    schema: int(1, 100000),
    default: 30,
    doc: 'Rooms a user may join or leave per minute (each join and each leave counts; invites accepted and DMs opened too).',
  },
  roomMembershipChangesPerMinute: {
    env: 'ROOM_MEMBERSHIP_CHANGES_PER_MINUTE',
    schema: int(1, 1000000),
    default: 600,
    doc: 'Joins and leaves one room accepts per minute from all users together.',
  },
  invitesPerMinute: {
    env: 'INVITES_PER_MINUTE',
    schema: int(1, 100000),
    default: 30,
    doc: 'Invites a user may send per minute.',
  },
  profileChangesPerMinute: {
    env: 'PROFILE_CHANGES_PER_MINUTE',
    schema: int(1, 100000),
    default: 10,
    doc: 'Profile changes (display name, status text) a user may make per minute; each is pushed to every connection.',
  },
  readMarksPerMinute: {
    env: 'READ_MARKS_PER_MINUTE',
    schema: int(1, 100000),
    default: 120,
    doc: 'Read-marker moves (`PUT …/read`) a user may make per minute, over all rooms.',
  },
  blockChangesPerMinute: {
    env: 'BLOCK_CHANGES_PER_MINUTE',
    schema: int(1, 100000),
    default: 30,
    doc: 'Blocks and unblocks a user may make per minute; more get `rate_limited`.',
  },
  reactionsPerMinute: {
    env: 'REACTIONS_PER_MINUTE',
    schema: int(1, 100000),
    default: 60,
    doc: 'Reactions a user may add or remove per minute (each is an event on the room sequence); more get `rate_limited`.',
  },
  settingsChangesPerMinute: {
    env: 'SETTINGS_CHANGES_PER_MINUTE',
    schema: int(1, 100000),
    default: 60,
    doc: 'Changes of room notification levels (`PUT …/notifications`) and private settings (`PATCH /me/settings`) a user may make per minute; more get `rate_limited`.',
  },
  searchPerMinute: {
    env: 'SEARCH_PER_MINUTE',
    schema: int(1, 100000),
    default: 30,
    doc: 'Message searches (`GET /api/v1/search`) a user may run per minute; more get `rate_limited`.',
  },
  searchQueryMaxChars: {
    env: 'SEARCH_QUERY_MAX_CHARS',
    schema: int(1, 100),
    default: 100,
    doc: 'Longest message-search query `q`, in characters (at most 100); longer gets `validation_failed`.',
  },
  searchMaxTerms: {
    env: 'SEARCH_MAX_TERMS',
    schema: int(1, 64),
    default: 8,
    doc: 'Most words and CJK phrases one message search may combine (all must match); more get `validation_failed`.',
  },
  searchPageMax: {
    env: 'SEARCH_PAGE_MAX',
    schema: int(1, 200),
    default: 50,
    doc: 'Most results one page of message search returns (`limit`); a larger `limit` gets `validation_failed`.',
  },
  searchRelevanceMaxResults: {
    env: 'SEARCH_RELEVANCE_MAX_RESULTS',
    schema: int(1, 100000),
    default: 500,
    doc: 'How deep `sort=relevance` pages go (ranking is by offset); past it `nextCursor` is null. Newest-first paging has no such bound.',
  },
  searchSnippetChars: {
    env: 'SEARCH_SNIPPET_CHARS',
    schema: int(20, 2000),
    default: 160,
    doc: 'Length of a search result snippet, in characters, cut around the first match.',
  },
  reportsPerHour: {
    env: 'REPORTS_PER_HOUR',
    schema: int(1, 100000),
    default: 20,
    doc: 'Reports a user may file per hour.',
  },
  loginLockoutFailures: {
    env: 'LOGIN_LOCKOUT_FAILURES',
    schema: int(1, 1000),
    default: 5,
    doc: 'Consecutive wrong passwords for one username before its logins are locked out (unknown usernames alike).',
  },
  loginLockoutBaseMs: {
    env: 'LOGIN_LOCKOUT_BASE_MS',
    schema: int(1, 86400000),
    default: 30000,
    doc: 'First lockout; it doubles with each further wrong password. One failure is forgotten per `LOGIN_LOCKOUT_MAX_MS` without any, all on a successful login.',
  },
  loginLockoutMaxMs: {
    env: 'LOGIN_LOCKOUT_MAX_MS',
    schema: int(1, 86400000),
    default: 900000,
    doc: 'Longest lockout.',
  },
  floodRepeats: {
    env: 'FLOOD_REPEATS',
    schema: int(1, 10000),
    default: 3,
    doc: 'The same message (whitespace, case, width, invisible characters, accents and look-alike letters aside) a user may send to a room within `FLOOD_WINDOW_MS`; more get `flood`. Counted per node.',
  },
  floodWindowMs: {
    env: 'FLOOD_WINDOW_MS',
    schema: int(1, 86400000),
    default: 30000,
    doc: 'Window of `FLOOD_REPEATS`.',
  },
  maxMentions: {
    env: 'MAX_MENTIONS',
    schema: int(0, 10000),
    default: 10,
    doc: 'Distinct `@names` one message (or edit) may carry, so also the most users `data.mentions` lists; more get `too_many_mentions`.',
  },
  maxReactionsPerMessage: {
    env: 'MAX_REACTIONS_PER_MESSAGE',
    schema: int(1, 1000),
    default: 20,
    doc: 'Different emojis one message may carry as reactions; adding another gets `too_many_reactions` (joining one there is fine).',
  },
  linkPreviews: {
    env: 'LINK_PREVIEWS',
    schema: z.enum(['on', 'off']),
    default: 'on',
    doc: '`on`: the server fetches the first http(s) link of each message and adds a preview (title, description) as a `message.preview` event, in rooms whose `linkPreviews` setting is on. `off`: never (the server makes no outbound request). See docs/security.md for the SSRF policy.',
  },
  linkPreviewTimeoutMs: {
    env: 'LINK_PREVIEW_TIMEOUT_MS',
    schema: int(100, 60000),
    default: 5000,
    doc: 'Time limit of one preview fetch: resolving, connecting, every redirect and reading the body.',
  },
  linkPreviewMaxBytes: {
    env: 'LINK_PREVIEW_MAX_BYTES',
    schema: int(1024, 10_485_760),
    default: 524288,
    doc: 'Bytes of a linked page read for its preview (the head of the page is enough); the connection is closed there.',
  },
  linkPreviewMaxRedirects: {
    env: 'LINK_PREVIEW_MAX_REDIRECTS',
    schema: int(0, 20),
    default: 3,
    doc: 'Redirects a preview fetch follows; each target is checked like the first URL.',
  },
  linkPreviewConcurrency: {
    env: 'LINK_PREVIEW_CONCURRENCY',
    schema: int(1, 1000),
    default: 8,
    doc: 'Preview fetches in flight per node; a link arriving while all are busy gets no preview.',
  },
  linkPreviewAllowHosts: {
    env: 'LINK_PREVIEW_ALLOW_HOSTS',
    schema: z
      .string()
      .regex(/^$|^[\w.:[\]]+:\d+(,[\w.:[\]]+:\d+)*$/, 'expected comma-separated address:port pairs ([v6]:port)'),
    default: '',
    doc: 'FOR TESTS ONLY: comma-separated resolved `address:port` pairs (`127.0.0.1:8080`, `[::1]:8080`) a preview fetch may reach although the SSRF policy refuses them (a local test server). Leave empty in production.',
  },
  filterBlock: {
    env: 'FILTER_BLOCK',
    schema: z.string(),
    default: '',
    doc: 'Comma-separated words refused in messages, room names and display names (`content_blocked`). Matching ignores case, width, accents and look-alike letters (Unicode confusables), sees through separators between single letters, and is whole-word except in CJK text.',
  },
  filterMask: {
    env: 'FILTER_MASK',
    schema: z.string(),
    default: '',
    doc: 'Comma-separated words replaced by `*` (same matching as `FILTER_BLOCK`).',
  },
  filterFlag: {
    env: 'FILTER_FLAG',
    schema: z.string(),
    default: '',
    doc: 'Comma-separated words that let the text pass but file a report for moderators.',
  },
  filterFile: {
    env: 'FILTER_FILE',
    schema: z.string(),
    default: '',
    doc: 'File of more filter words, one `block: word`, `mask: word` or `flag: word` per line (`#` starts a comment line); read at start.',
  },
  frameErrorsPerMinute: {
    env: 'FRAME_ERRORS_PER_MINUTE',
    schema: int(1, 100000),
    default: 60,
    doc: 'Malformed frames tolerated per connection per minute before close 1008.',
  },
  replayPageSize: {
    env: 'REPLAY_PAGE_SIZE',
    schema: int(10, 10000),
    default: 500,
    doc: 'Events per store read when catching a client up.',
  },
  presenceFlushMs: {
    env: 'PRESENCE_FLUSH_MS',
    schema: int(10, 60000),
    default: 1000,
    doc: 'Presence changes are coalesced and sent at most this often per room.',
  },
  presenceFanoutMaxMembers: {
    env: 'PRESENCE_FANOUT_MAX_MEMBERS',
    schema: int(2, 1_000_000),
    default: 100,
    doc: 'Rooms with more members send who came online or left only to connections viewing the room (`view` frame); the others get the online count. At least `MAX_DM_MEMBERS`.',
  },
  presenceCountIntervalMs: {
    env: 'PRESENCE_COUNT_INTERVAL_MS',
    schema: int(100, 3_600_000),
    default: 10000,
    doc: 'In rooms above `PRESENCE_FANOUT_MAX_MEMBERS`, connections not viewing the room get its online count at most this often (per node).',
  },
  maxViewedRooms: {
    env: 'MAX_VIEWED_ROOMS',
    schema: int(1, 1000),
    default: 20,
    doc: 'Rooms one connection may view at once (`view` frame); more get `validation_failed`.',
  },
  shutdownGraceMs: {
    env: 'SHUTDOWN_GRACE_MS',
    schema: int(0, 120000),
    default: 5000,
    doc: 'On SIGTERM/SIGINT, time to let clients close before exiting.',
  },
  passwordHashConcurrency: {
    env: 'PASSWORD_HASH_CONCURRENCY',
    schema: int(1, 64),
    default: 2,
    doc: 'Password hashes computed at once (logins, registrations, password changes). Each holds 128·2^`SCRYPT_LOG2N`·8 bytes while it runs (128 MiB at the default cost), so this bounds hashing memory.',
  },
  passwordHashQueue: {
    env: 'PASSWORD_HASH_QUEUE',
    schema: int(0, 10000),
    default: 8,
    doc: 'Password hashes that may wait for a slot; beyond that, a login or registration is answered `rate_limited` (with `Retry-After`) at once instead of queueing.',
  },
  scryptLog2N: {
    env: 'SCRYPT_LOG2N',
    schema: int(10, 20),
    default: 17,
    doc: 'Password hashing cost: scrypt N = 2^this (r=8, p=1). Lower only for tests. Hashes made with another value still verify and are replaced at the next login.',
  },
  firstUserIsAdmin: {
    env: 'FIRST_USER_IS_ADMIN',
    schema: bool,
    default: true,
    doc: 'The first account registered becomes server admin.',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    schema: z.string().regex(/^postgres(ql)?:\/\//, 'expected postgres://user:password@host:port/database'),
    default: '',
    doc: 'PostgreSQL connection string (`postgres://…`): use PostgreSQL instead of the embedded SQLite store.',
  },
  databasePoolSize: {
    env: 'DATABASE_POOL_SIZE',
    schema: int(1, 1000),
    default: 10,
    doc: 'PostgreSQL connections per node (nodes × this must fit `max_connections`).',
  },
  redisUrl: {
    env: 'REDIS_URL',
    schema: z.string().regex(/^rediss?:\/\//, 'expected redis://[:password@]host:port[/db]'),
    default: '',
    doc: 'Redis URL (`redis://…`): cross-node fan-out, presence and rate limits in Redis (cluster mode).',
  },
  redisPrefix: {
    env: 'REDIS_PREFIX',
    schema: z.string().min(1).max(100),
    default: 'relaychat:',
    doc: "Prefix of this deployment's Redis keys and channels (deployments sharing one Redis need distinct ones).",
  },
  nodeId: {
    env: 'NODE_ID',
    schema: z.string().regex(/^[\w-]{1,64}$/, 'letters, digits, _ and - only'),
    default: '',
    doc: 'Name of this node in logs, `/readyz` and Redis (letters, digits, `_`, `-`); empty = random per start.',
  },
  presenceHeartbeatMs: {
    env: 'PRESENCE_HEARTBEAT_MS',
    schema: int(100, 600000),
    default: 5000,
    doc: 'Cluster: how often a node renews its presence in Redis and sweeps dead nodes.',
  },
  presenceTtlMs: {
    env: 'PRESENCE_TTL_MS',
    schema: int(200, 3600000),
    default: 15000,
    doc: 'Cluster: a node silent this long counts as dead and its users go offline (within TTL + heartbeat).',
  },
  busOutagePollMs: {
    env: 'BUS_OUTAGE_POLL_MS',
    schema: int(0, 600000),
    default: 2000,
    doc: 'Cluster: while Redis is unreachable, each node reads the store this often for what other nodes committed (events, rooms its users joined); 0 = only once Redis is back.',
  },
  trustProxy: {
    env: 'TRUST_PROXY',
    schema: z
      .string()
      .regex(
        /^(true|false|\d+|[\d.:a-fA-F/]+(,\s*[\d.:a-fA-F/]+)*)$/,
        'expected true, false, a hop count, or comma-separated proxy addresses/CIDRs',
      ),
    default: 'false',
    doc: 'Behind a load balancer: take the client IP from `X-Forwarded-For` when the peer is a trusted proxy (`true`, a hop count, or addresses/CIDRs like `10.0.0.0/8,127.0.0.1`).',
  },
  drainDelayMs: {
    env: 'DRAIN_DELAY_MS',
    schema: int(0, 600000),
    default: 3000,
    doc: 'On SIGTERM, time `/readyz` answers 503 (draining) before connections are closed, so the load balancer stops routing here first. Skipped when no `/readyz` check came in during the last minute.',
  },
  // ---- files (issue 15) ----
  maxUploadBytes: {
    env: 'MAX_UPLOAD_BYTES',
    schema: int(1, 1 << 30),
    default: 26214400,
    doc: 'Largest file upload (`POST /api/v1/files`), enforced while the bytes stream in: 413 `file_too_large`.',
  },
  uploadQuotaBytes: {
    env: 'UPLOAD_QUOTA_BYTES',
    schema: int(0, Number.MAX_SAFE_INTEGER),
    default: 1073741824,
    doc: "Bytes a user's files may take in all (deduplicated content still counts per file): 413 `quota_exceeded` beyond it.",
  },
  uploadsPerMinute: {
    env: 'UPLOADS_PER_MINUTE',
    schema: int(1, 100000),
    default: 30,
    doc: 'File uploads per user per minute (burst and refill): 429 `rate_limited` beyond it.',
  },
  maxAttachmentsPerMessage: {
    env: 'MAX_ATTACHMENTS_PER_MESSAGE',
    schema: int(1, 100),
    default: 10,
    doc: 'Files one message may carry (`attachments`): `too_many_attachments` beyond it.',
  },
  fileGcGraceSeconds: {
    env: 'FILE_GC_GRACE_SECONDS',
    schema: int(0, 31536000),
    default: 86400,
    doc: 'An upload no message took within this time is deleted, and a blob no file uses is deleted once this old.',
  },
  fileGcIntervalSeconds: {
    env: 'FILE_GC_INTERVAL_SECONDS',
    schema: int(0, 86400),
    default: 3600,
    doc: 'How often each node collects unattached uploads and unused blobs; 0 = never.',
  },
  fileUrlSecret: {
    env: 'FILE_URL_SECRET',
    schema: z.string().refine((v) => v === '' || v.length >= 32, 'at least 32 characters'),
    default: '',
    doc: 'Key (32+ characters) signing the short-lived file links; every node of a cluster needs the same. Empty = one made at first start and kept in the database (shared by the nodes).',
  },
  fileUrlTtlSeconds: {
    env: 'FILE_URL_TTL_SECONDS',
    schema: int(10, 86400),
    default: 300,
    doc: 'How long a signed file link (`GET /api/v1/files/:id/link`) works.',
  },
  maxImagePixels: {
    env: 'MAX_IMAGE_PIXELS',
    schema: int(1, 1000000000),
    default: 50000000,
    doc: 'Images with more pixels (width × height, as the header declares) are refused with 422 `image_rejected` before decoding: the decompression-bomb limit.',
  },
  // ---- webhooks (issue 16) ----
  maxWebhooksPerRoom: {
    env: 'MAX_WEBHOOKS_PER_ROOM',
    schema: int(1, 1000),
    default: 20,
    doc: 'Incoming webhooks a room may have, and outgoing ones (subscriptions) a room — or the server-wide list — may have; more get `too_many_webhooks`.',
  },
  webhookPostsPerMinute: {
    env: 'WEBHOOK_POSTS_PER_MINUTE',
    schema: int(1, 100000),
    default: 60,
    doc: "Posts one incoming webhook may make per minute (burst the same); more get 429 `rate_limited`. Its posts do not count against its creator's own message rate.",
  },
  webhookSignatureTtlSeconds: {
    env: 'WEBHOOK_SIGNATURE_TTL_SECONDS',
    schema: int(10, 3600),
    default: 300,
    doc: 'A signed incoming post whose `X-Relaychat-Timestamp` is further from now than this is refused (`signature_stale`); signatures are remembered this long to refuse replays (`signature_replayed`).',
  },
  webhookTimeoutMs: {
    env: 'WEBHOOK_TIMEOUT_MS',
    schema: int(100, 60000),
    default: 3000,
    doc: 'Time limit of one outgoing delivery (resolve, connect, send, the answer); longer counts as a failed attempt.',
  },
  webhookRetryDelaysSeconds: {
    env: 'WEBHOOK_RETRY_DELAYS_SECONDS',
    schema: z.string().regex(/^$|^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'expected comma-separated seconds'),
    default: '60,240',
    doc: 'Waits (seconds, fractions allowed) before each retry of a failed outgoing delivery: the default tries at about 0, 1 and 5 minutes, then marks the delivery `failed` and moves on. Empty = no retries.',
  },
  webhookLeaseMs: {
    env: 'WEBHOOK_LEASE_MS',
    schema: int(1000, 600000),
    default: 30000,
    doc: "How long a node holds a subscription's queue while delivering (must exceed `WEBHOOK_TIMEOUT_MS` by a second): after a node dies, another resumes its deliveries after at most this.",
  },
  webhookPollMs: {
    env: 'WEBHOOK_POLL_MS',
    schema: int(10, 60000),
    default: 1000,
    doc: 'How often each node looks for due outgoing deliveries (the delay before a new event goes out is up to this).',
  },
  webhookConcurrency: {
    env: 'WEBHOOK_CONCURRENCY',
    schema: int(1, 1000),
    default: 8,
    doc: 'Subscription queues one node delivers at once (each sends its events one at a time, in order).',
  },
  webhookLogRetentionDays: {
    env: 'WEBHOOK_LOG_RETENTION_DAYS',
    schema: int(1, 3650),
    default: 7,
    doc: 'Delivery log entries are kept this long after their last attempt.',
  },
  webhookAllowPrivateTargets: {
    env: 'WEBHOOK_ALLOW_PRIVATE_TARGETS',
    schema: bool,
    default: false,
    doc: 'Let outgoing webhooks reach loopback and private addresses (the SSRF guard refuses them otherwise, with `webhook_target_refused`): for receivers on your own network, and the test suite. Leave `false` when room admins are not trusted with your network.',
  },
  // The built-in assistant (issue 16).
  assistantFaqFile: {
    env: 'ASSISTANT_FAQ_FILE',
    schema: z.string(),
    default: '',
    doc: 'FAQ file the built-in assistant answers from: Markdown (`## question`, `? other phrasing` lines, then the answer) or, for a `.yaml`/`.yml` name, a YAML list of `{question, also, answer}`; see docs/integrations.md. Setting it (or `ASSISTANT_URL`) turns the assistant on; neither = no assistant.',
  },
  assistantFaqMinConfidence: {
    env: 'ASSISTANT_FAQ_MIN_CONFIDENCE',
    schema: z.coerce.number().min(0).max(1),
    default: 0.35,
    doc: 'FAQ engine: least similarity (0–1, TF-IDF cosine) between a question and an FAQ question for it to answer; below it the assistant says it does not know.',
  },
  assistantFaqUnknownText: {
    env: 'ASSISTANT_FAQ_UNKNOWN_TEXT',
    schema: z.string().min(1).max(1000),
    default: "Sorry, I don't know the answer to that. Someone from the team will follow up.",
    doc: 'What the FAQ engine answers when no FAQ question is similar enough.',
  },
  assistantUrl: {
    env: 'ASSISTANT_URL',
    schema: z.string().regex(/^https?:\/\/\S+$/, 'expected an http(s) URL'),
    default: '',
    doc: 'Base URL of an OpenAI-compatible chat-completions API (`…/v1`; the assistant POSTs to `{URL}/chat/completions` with `stream: true`). Set = this backend instead of the FAQ engine; needs `ASSISTANT_MODEL`.',
  },
  assistantModel: {
    env: 'ASSISTANT_MODEL',
    schema: z.string().min(1).max(200),
    default: '',
    doc: 'The `model` sent to `ASSISTANT_URL`.',
  },
  assistantApiKey: {
    env: 'ASSISTANT_API_KEY',
    schema: z.string().max(1000),
    default: '',
    doc: 'Sent to `ASSISTANT_URL` as `Authorization: Bearer`; empty = no header.',
  },
  assistantTimeoutMs: {
    env: 'ASSISTANT_TIMEOUT_MS',
    schema: int(100, 600000),
    default: 30000,
    doc: 'Time limit of one answer from `ASSISTANT_URL`, from the request to the end of the stream; then the assistant posts an `assistant_timeout` notice.',
  },
  assistantMaxTokens: {
    env: 'ASSISTANT_MAX_TOKENS',
    schema: int(1, 100000),
    default: 512,
    doc: 'The `max_tokens` of each request to `ASSISTANT_URL`.',
  },
  assistantSystemPrompt: {
    env: 'ASSISTANT_SYSTEM_PROMPT',
    schema: z.string().min(1).max(10000),
    default: 'You are a helpful assistant in a chat room. Answer briefly, in the language of the question.',
    doc: 'The system message of each request to `ASSISTANT_URL`.',
  },
  assistantUsername: {
    env: 'ASSISTANT_USERNAME',
    schema: z.string().regex(/^[a-zA-Z0-9_-]{2,32}$/, 'expected 2–32 letters, digits, _ or -'),
    default: 'assistant',
    doc: "The assistant's username (people @mention it and open DMs with it); its account is made at the first start.",
  },
  assistantAnswersPerHour: {
    env: 'ASSISTANT_ANSWERS_PER_HOUR',
    schema: int(1, 100000),
    default: 30,
    doc: 'Budget per room: answers the assistant gives in a room per hour (a burst of this many, refilled over the hour). Past it a question gets an `assistant.stream` frame with `assistant_over_budget` and no answer.',
  },
  assistantContextMessages: {
    env: 'ASSISTANT_CONTEXT_MESSAGES',
    schema: int(0, 200),
    default: 20,
    doc: 'Recent messages of the room before the question that the assistant is given as context.',
  },
  assistantStreamIntervalMs: {
    env: 'ASSISTANT_STREAM_INTERVAL_MS',
    schema: int(0, 10000),
    default: 250,
    doc: 'Least time between two `assistant.stream` frames of one answer (the streamed text is sent at most this often).',
  },
  // ---- bots (issue 16) ----
  botMaxCommands: {
    env: 'BOT_MAX_COMMANDS',
    schema: int(0, 1000),
    default: 50,
    doc: 'Most slash commands one bot may register (`PUT /api/v1/bots/me/commands`); more is `validation_failed`.',
  },
  botManagePerMinute: {
    env: 'BOT_MANAGE_PER_MINUTE',
    schema: int(1, 10000),
    default: 10,
    doc: 'Bot creations and token rotations per managing user, and command registrations per bot, per minute (burst); more is `rate_limited`.',
  },
  passwordResetTtlSeconds: {
    env: 'PASSWORD_RESET_TTL_SECONDS',
    schema: int(60, 2_592_000),
    default: 86400,
    doc: 'How long an admin-issued password reset link works (single use); after that it is `reset_link_invalid`.',
  },
} as const;

type Settings = typeof SETTINGS;
export type Config = {
  [K in keyof Settings]: Settings[K]['default'] extends number
    ? number
    : Settings[K]['default'] extends boolean
      ? boolean
      : string;
} & {
  logLevel: z.infer<Settings['logLevel']['schema']>;
};

export const flagOf = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** A bad setting: the message is one line naming it, for the operator. */
export class ConfigError extends Error {}

/** Fastify's `trustProxy` from the TRUST_PROXY setting: a boolean, a hop count, or a list of addresses/CIDRs. */
export function trustProxyOption(value: string): boolean | string[] | ((addr: string, hop: number) => boolean) {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_addr, hop) => hop < hops; // trust the nearest `hops` proxies
  }
  return value.split(',').map((a) => a.trim());
}

/** Reads settings from CLI flags (first), then env vars, then defaults; validates each. */
export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Config {
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.keys(SETTINGS).map((k) => [flagOf(k).slice(2), { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(`Invalid command line: ${(err as Error).message}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS)) {
    const flag = flagOf(key);
    const raw = flags[flag.slice(2)] ?? env[s.env];
    if (raw === undefined || raw === '') {
      out[key] = s.default;
      continue;
    }
    const parsed = (s.schema as z.ZodType).safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues[0]?.message ?? 'invalid';
      throw new ConfigError(`Invalid setting ${s.env} (${flag}) = ${JSON.stringify(raw)}: ${why}`);
    }
    out[key] = parsed.data;
  }
  out.dataDir = resolve(out.dataDir as string);
  if (Boolean(out.tlsCertFile) !== Boolean(out.tlsKeyFile)) {
    throw new ConfigError(
      'Invalid settings TLS_CERT_FILE (--tls-cert-file) and TLS_KEY_FILE (--tls-key-file): set both or neither',
    );
  }
  if (out.tlsCertFile) {
    // Read and parse both now, so a wrong path, a bad PEM or a key of another certificate is one line at start.
    const [cert, key] = (['tlsCertFile', 'tlsKeyFile'] as const).map((k) => {
      const file = out[k] as string;
      try {
        return readFileSync(file);
      } catch (err) {
        throw new ConfigError(
          `Invalid setting ${SETTINGS[k].env} (${flagOf(k)}) = ${JSON.stringify(file)}: ${(err as Error).message}`,
        );
      }
    });
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      throw new ConfigError(
        `Invalid settings TLS_CERT_FILE (--tls-cert-file) and TLS_KEY_FILE (--tls-key-file): ${(err as Error).message}`,
      );
    }
  }
  if ((out.presenceTtlMs as number) <= (out.presenceHeartbeatMs as number)) {
    throw new ConfigError(
      `Invalid setting PRESENCE_TTL_MS (--presence-ttl-ms) = ${String(out.presenceTtlMs)}: must be longer than PRESENCE_HEARTBEAT_MS (${String(out.presenceHeartbeatMs)})`,
    );
  }
  if ((out.presenceFanoutMaxMembers as number) < (out.maxDmMembers as number)) {
    // Clients show DM presence without viewing the DM: a DM must never be a "big" room.
    throw new ConfigError(
      `Invalid setting PRESENCE_FANOUT_MAX_MEMBERS (--presence-fanout-max-members) = ${String(out.presenceFanoutMaxMembers)}: must be at least MAX_DM_MEMBERS (${String(out.maxDmMembers)})`,
    );
  }
  if ((out.loginLockoutMaxMs as number) < (out.loginLockoutBaseMs as number)) {
    throw new ConfigError(
      `Invalid setting LOGIN_LOCKOUT_MAX_MS (--login-lockout-max-ms) = ${String(out.loginLockoutMaxMs)}: must be at least LOGIN_LOCKOUT_BASE_MS (${String(out.loginLockoutBaseMs)})`,
    );
  }
  if ((out.webhookLeaseMs as number) < (out.webhookTimeoutMs as number) + 1000) {
    // A delivery must end inside its lease, or another node could send the same event at the same time.
    throw new ConfigError(
      `Invalid setting WEBHOOK_LEASE_MS (--webhook-lease-ms) = ${String(out.webhookLeaseMs)}: must be at least WEBHOOK_TIMEOUT_MS + 1000 (${String((out.webhookTimeoutMs as number) + 1000)})`,
    );
  }
  // A bad filter file stops the start like any other bad setting.
  contentFilterFrom(out as Config);
  // So does a bad FAQ file, or an assistant URL without a model.
  if (out.assistantUrl && !out.assistantModel) {
    throw new ConfigError('Invalid setting ASSISTANT_URL (--assistant-url): needs ASSISTANT_MODEL (--assistant-model)');
  }
  if (out.assistantFaqFile && !out.assistantUrl) faqEntriesFrom(out as Config);
  return out as Config;
}

/** The keyword filter the FILTER_* settings describe (reads FILTER_FILE, if set). */
export function contentFilterFrom(config: Config): KeywordFilter {
  let fromFile: FilterRule[] = [];
  if (config.filterFile) {
    try {
      fromFile = parseFilterFile(readFileSync(config.filterFile, 'utf8'));
    } catch (err) {
      throw new ConfigError(
        `Invalid setting FILTER_FILE (--filter-file) = ${JSON.stringify(config.filterFile)}: ${(err as Error).message}`,
      );
    }
  }
  return KeywordFilter.fromLists(
    { block: config.filterBlock, mask: config.filterMask, flag: config.filterFlag },
    fromFile,
  );
}

/** The entries of ASSISTANT_FAQ_FILE; a file that cannot be read or parsed is a ConfigError naming the setting. */
export function faqEntriesFrom(config: Config): FaqEntry[] {
  try {
    const entries = parseFaqFile(config.assistantFaqFile, readFileSync(config.assistantFaqFile, 'utf8'));
    if (entries.length === 0)
      throw new Error('no questions (a question is a "## " heading, or a YAML entry with "question")');
    return entries;
  } catch (err) {
    throw new ConfigError(
      `Invalid setting ASSISTANT_FAQ_FILE (--assistant-faq-file) = ${JSON.stringify(config.assistantFaqFile)}: ${(err as Error).message}`,
    );
  }
}

/** Defaults with overrides, for tests and embedding. */
export function configWith(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig([], {}), ...overrides };
}
