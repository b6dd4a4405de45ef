/**
 * The one error catalog. Every error the server sends — HTTP body `{error}` or WebSocket `error` frame —
 * carries one of these codes. Codes are stable API: add new ones, never rename. Documented in docs/protocol.md.
 */
export const ERRORS = {
  bad_json: { status: 400, retryable: false, message: 'The body is not valid JSON.' },
  validation_failed: { status: 400, retryable: false, message: 'The request does not match its schema.' },
  unsupported_version: { status: 400, retryable: false, message: 'This protocol version is not supported.' },
  invalid_emoji: {
    status: 400,
    retryable: false,
    message: 'Not an emoji: give a Unicode emoji or a shortcode such as thumbsup or :tada:.',
  },
  unauthorized: { status: 401, retryable: false, message: 'Missing, invalid or expired session token.' },
  invalid_credentials: { status: 401, retryable: false, message: 'Wrong username or password.' },
  forbidden: { status: 403, retryable: false, message: 'You may not do that.' },
  cannot_block_self: { status: 422, retryable: false, message: 'You cannot block yourself.' },
  dm_unavailable: {
    status: 403,
    retryable: false,
    message: 'You cannot send direct messages to this person.',
  },
  not_member: { status: 403, retryable: false, message: 'You are not a member of this room.' },
  banned: { status: 403, retryable: false, message: 'You are banned from this room.' },
  muted: { status: 403, retryable: false, message: 'You are muted in this room.' },
  read_only: { status: 403, retryable: false, message: 'Only moderators may post in this room.' },
  account_disabled: {
    status: 403,
    retryable: false,
    message: 'This account is deactivated or suspended.',
  },
  edit_window_closed: {
    status: 403,
    retryable: false,
    message: 'This message is too old to edit (EDIT_WINDOW_SECONDS).',
  },
  not_found: { status: 404, retryable: false, message: 'Not found.' },
  room_not_found: { status: 404, retryable: false, message: 'No such room, or you may not see it.' },
  user_not_found: { status: 404, retryable: false, message: 'No such user.' },
  invite_not_found: { status: 404, retryable: false, message: 'No pending invite to that room.' },
  username_taken: { status: 409, retryable: false, message: 'That username is taken.' },
  room_name_taken: {
    status: 409,
    retryable: false,
    message: 'A public room with that name already exists (names ignore case).',
  },
  already_member: { status: 409, retryable: false, message: 'Already a member of this room.' },
  client_msg_id_reused: {
    status: 409,
    retryable: false,
    message: 'This clientMsgId was already used for a different room.',
  },
  last_owner: {
    status: 409,
    retryable: false,
    message: 'A room with other members keeps at least one owner: make someone else owner first.',
  },
  too_many_rooms: { status: 409, retryable: false, message: 'Room membership limit reached.' },
  unsupported_media_type: {
    status: 415,
    retryable: false,
    message: 'Send JSON with Content-Type: application/json.',
  },
  payload_too_large: { status: 413, retryable: false, message: 'The request or frame is too large.' },
  message_too_long: { status: 413, retryable: false, message: 'The message body is too long.' },
  content_blocked: { status: 422, retryable: false, message: 'The text contains words this server blocks.' },
  too_many_mentions: { status: 422, retryable: false, message: 'Too many mentions in one message.' },
  reply_target_not_found: {
    status: 422,
    retryable: false,
    message: 'replyTo names no message of this room.',
  },
  too_many_reactions: {
    status: 422,
    retryable: false,
    message: 'This message has as many different reactions as it may have (MAX_REACTIONS_PER_MESSAGE).',
  },
  message_deleted: { status: 409, retryable: false, message: 'That message was deleted.' },
  too_many_blocks: {
    status: 409,
    retryable: false,
    message: 'You have blocked as many users as you may (MAX_BLOCKS_PER_USER): unblock one first.',
  },
  too_many_pins: {
    status: 409,
    retryable: false,
    message: 'This room has as many pinned messages as it may: unpin one first.',
  },
  already_resolved: { status: 409, retryable: false, message: 'That report is already resolved.' },
  slow_mode: { status: 429, retryable: true, message: 'Slow mode is on: wait retryAfterMs before posting again.' },
  flood: { status: 429, retryable: true, message: 'You sent that same message just now.' },
  rate_limited: { status: 429, retryable: true, message: 'Too many requests; retry after retryAfterMs.' },
  too_many_connections: { status: 429, retryable: true, message: 'Too many open connections.' },
  // ---- files (issue 15) ----
  file_too_large: {
    status: 413,
    retryable: false,
    message: 'The file is larger than this server accepts (MAX_UPLOAD_BYTES).',
  },
  quota_exceeded: {
    status: 413,
    retryable: false,
    message: 'Your files would take more space than your quota (UPLOAD_QUOTA_BYTES): files not sent are collected.',
  },
  image_rejected: {
    status: 422,
    retryable: false,
    message: 'The image is corrupt or has more pixels than this server decodes.',
  },
  attachment_not_found: {
    status: 422,
    retryable: false,
    message: 'An attachment names no file you uploaded.',
  },
  too_many_attachments: {
    status: 422,
    retryable: false,
    message: 'Too many attachments on one message (MAX_ATTACHMENTS_PER_MESSAGE).',
  },
  // ---- webhooks (issue 16) ----
  webhook_not_found: { status: 404, retryable: false, message: 'No such webhook (revoked, or a wrong URL).' },
  bad_signature: {
    status: 401,
    retryable: false,
    message: 'The webhook signature is missing or does not match (X-Relaychat-Timestamp, X-Relaychat-Signature).',
  },
  signature_stale: {
    status: 401,
    retryable: false,
    message: 'The signed timestamp is too far from now (WEBHOOK_SIGNATURE_TTL_SECONDS): sign again.',
  },
  signature_replayed: { status: 409, retryable: false, message: 'This signed request was received already.' },
  webhook_target_refused: {
    status: 422,
    retryable: false,
    message: 'The webhook target URL is not allowed (scheme, credentials, or a private or loopback address).',
  },
  too_many_webhooks: {
    status: 409,
    retryable: false,
    message: 'This room (or the server) has as many webhooks as it may (MAX_WEBHOOKS_PER_ROOM): revoke one first.',
  },
  // The built-in assistant (issue 16).
  assistant_disabled: {
    status: 404,
    retryable: false,
    message: 'This server has no assistant (set ASSISTANT_FAQ_FILE or ASSISTANT_URL).',
  },
  assistant_over_budget: {
    status: 429,
    retryable: true,
    message: "The assistant's budget for this room is spent (ASSISTANT_ANSWERS_PER_HOUR); it answers again later.",
  },
  assistant_timeout: {
    status: 504,
    retryable: true,
    message: "The assistant's endpoint did not answer in time (ASSISTANT_TIMEOUT_MS).",
  },
  assistant_failed: {
    status: 502,
    retryable: true,
    message: "The assistant's endpoint failed or could not be reached.",
  },
  assistant_bad_response: {
    status: 502,
    retryable: true,
    message: "The assistant's endpoint sent an answer that is not valid chat-completions JSON or SSE.",
  },
  // ---- slash commands (issue 16) ----
  unknown_command: {
    status: 400,
    retryable: false,
    message: 'No such command in this room: see GET /api/v1/rooms/:roomId/commands, or send //text to post /text.',
  },
  command_usage: { status: 400, retryable: false, message: 'Wrong arguments for this command.' },
  internal: { status: 500, retryable: true, message: 'Internal server error.' },
  unavailable: { status: 503, retryable: true, message: 'Temporarily unavailable; retry shortly.' },
  // ---- bots (issue 16) ----
  bot_unavailable: { status: 503, retryable: true, message: 'That bot is not connected; try again later.' },
  // ---- keeping and leaving (issue 18) ----
  reset_link_invalid: {
    status: 400,
    retryable: false,
    message: 'This password reset link is unknown, used already or expired: ask an admin for a new one.',
  },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** The JSON shape of every error: HTTP body is `{ error: ErrorBody }`; the WS `error` frame spreads it. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  /** Present with `rate_limited`, `slow_mode`, `flood`, `too_many_connections`: how long to wait before retrying. */
  retryAfterMs?: number;
  /** Present with `validation_failed`: which fields failed and why. */
  issues?: { path: string; message: string }[];
}
