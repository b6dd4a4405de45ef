import { z } from 'zod';
import {
  FOREVER_MS,
  AttachmentIds,
  Body,
  BodyOrEmpty,
  bodyOrAttachments,
  ClientMsgId,
  DisplayName,
  Id,
  Password,
  PROTOCOL_LIMITS,
  RoomName,
  SearchQuery,
  Seq,
  SessionLabel,
  StatusText,
  Topic,
  Username,
  WEBHOOK_EVENT_TYPES,
  BOT_SCOPES,
} from './model.js';

/** Request schemas for the HTTP API. All objects are strict: unknown fields are a validation error. */

/**
 * An integer in a path or query string: plain decimal digits only. `Number()` would also take `0x10`, `+5`, `1e3`,
 * ` 5` and `0b1`, so one value would have many spellings (and `DELETE …/messages/0x4` would delete seq 4).
 */
export const decimalInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,16}$/, 'must be a plain decimal integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const RegisterRequest = z.strictObject({
  username: Username,
  password: Password,
  displayName: DisplayName.optional(),
});
export const LoginRequest = z.strictObject({
  username: z.string().min(1).max(PROTOCOL_LIMITS.usernameMax),
  password: z.string().min(1).max(PROTOCOL_LIMITS.passwordMax),
  /** A label for the session list, e.g. "laptop" or a browser name. */
  label: SessionLabel.optional(),
});
export const ChangePasswordRequest = z.strictObject({
  currentPassword: z.string().min(1).max(PROTOCOL_LIMITS.passwordMax),
  newPassword: Password,
});
export const UpdateProfileRequest = z
  .strictObject({ displayName: DisplayName.optional(), statusText: StatusText.optional() })
  .refine((v) => v.displayName !== undefined || v.statusText !== undefined, 'nothing to update');

/** `PUT …/rooms/:roomId/read`: the seq read up to (the server moves the marker only forward). */
export const MarkReadRequest = z.strictObject({ seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
/** `dndUntil`: epoch ms up to FOREVER_MS (until turned off), null = off. */
export const UpdateSettingsRequest = z
  .strictObject({
    readReceipts: z.boolean().optional(),
    dndUntil: z.number().int().min(0).max(FOREVER_MS).nullable().optional(),
  })
  .refine((v) => v.readReceipts !== undefined || v.dndUntil !== undefined, 'nothing to update');
/** `PUT …/rooms/:roomId/notifications`: your notification level for the room. */
export const SetNotifyRequest = z.strictObject({ level: z.enum(['all', 'mentions', 'none']) });

export const CreateRoomRequest = z.strictObject({
  name: RoomName,
  visibility: z.enum(['public', 'private']).default('public'),
  topic: Topic.optional(),
});
/** Longest slow-mode interval: six hours. */
export const SLOW_MODE_MAX_SECONDS = 21_600;
export const RoomSettingsPatch = z
  .strictObject({
    readOnly: z.boolean().optional(),
    slowModeSeconds: z.number().int().min(0).max(SLOW_MODE_MAX_SECONDS).optional(),
    joinApproval: z.boolean().optional(),
    mentionAllRole: z.enum(['owner', 'admin', 'moderator', 'member']).optional(),
    linkPreviews: z.boolean().optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), 'nothing to update');
export const UpdateRoomRequest = z
  .strictObject({ name: RoomName.optional(), topic: Topic.optional(), settings: RoomSettingsPatch.optional() })
  .refine((v) => v.name !== undefined || v.topic !== undefined || v.settings !== undefined, 'nothing to update');
export const InviteRequest = z.strictObject({ username: Username });
export const SetRoleRequest = z.strictObject({ role: z.enum(['owner', 'admin', 'moderator', 'member']) });

/** Reasons (reports, bans, kicks) are short free text. */
export const REASON_MAX = 500;
const Reason = z
  .string()
  .max(REASON_MAX)
  .refine(
    (s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u.test(s),
    'must not contain control characters',
  );
/** Longest timed sanction (mute, ban): one year; omit the duration for "until lifted". */
export const SANCTION_MAX_SECONDS = 31_536_000;
export const SanctionRequest = z.strictObject({
  durationSec: z.number().int().min(1).max(SANCTION_MAX_SECONDS).optional(),
  reason: Reason.optional(),
});
export const KickRequest = z.strictObject({ reason: Reason.optional() });
export const RoomSeqParams = z.strictObject({
  roomId: Id,
  seq: decimalInt(1, Number.MAX_SAFE_INTEGER),
});
/** `:emoji` is URL-decoded by the router; whether it is an emoji is the domain's call (`invalid_emoji`). */
export const RoomSeqEmojiParams = z.strictObject({
  roomId: Id,
  seq: decimalInt(1, Number.MAX_SAFE_INTEGER),
  emoji: z.string().min(1).max(PROTOCOL_LIMITS.emojiMaxChars),
});
export const CreateReportRequest = z.union([
  z.strictObject({
    roomId: Id,
    seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    reason: Reason.pipe(z.string().min(1)),
  }),
  z.strictObject({ userId: Id, roomId: Id.optional(), reason: Reason.pipe(z.string().min(1)) }),
]);
export const ReportListQuery = z.strictObject({
  status: z.enum(['open', 'resolved']).optional(),
  limit: decimalInt(1, PROTOCOL_LIMITS.pageMax).default(50),
  before: Id.optional(),
});
export const ResolveReportRequest = z.strictObject({
  action: z.enum(['dismiss', 'delete', 'mute', 'ban']),
  durationSec: z.number().int().min(1).max(SANCTION_MAX_SECONDS).optional(),
});
export const AdminUserQuery = z.strictObject({
  q: SearchQuery.default(''),
  limit: decimalInt(1, PROTOCOL_LIMITS.pageMax).default(50),
  cursor: z.string().max(200).optional(),
});
export const ServerRoleRequest = z.strictObject({ role: z.enum(['admin', 'user']) });
export const AuditQuery = z.strictObject({
  roomId: Id.optional(),
  limit: decimalInt(1, PROTOCOL_LIMITS.pageMax).default(50),
  before: Id.optional(),
});
export const CreateDmRequest = z.strictObject({
  usernames: z.array(Username).min(1).max(16),
});

export const SendMessageRequest = z
  .strictObject({
    body: BodyOrEmpty,
    clientMsgId: ClientMsgId,
    replyTo: Seq.min(1).optional(),
    threadOnly: z.boolean().optional(),
    attachments: AttachmentIds.optional(),
  })
  .refine(...bodyOrAttachments);
export const EditMessageRequest = z.strictObject({ body: Body });
export const AnnouncementRequest = z.strictObject({ body: Body });

const Limit = decimalInt(1, PROTOCOL_LIMITS.pageMax);
const SeqParam = decimalInt(0, Number.MAX_SAFE_INTEGER);

/** `after` and `before` are exclusive sequence cursors; give at most one. Without either: the newest page. */
const historyPage = { after: SeqParam.optional(), before: SeqParam.optional(), limit: Limit.default(50) };
const oneCursor = [
  (q: { after?: number | undefined; before?: number | undefined }) => q.after === undefined || q.before === undefined,
  'give either after or before, not both',
] as const;
export const HistoryQuery = z.strictObject(historyPage).refine(...oneCursor);
/**
 * `GET …/messages`: a history page, or with `around` the page centred on that seq (it included, about half the
 * page before it): "jump to the message in context". `around` goes alone, without `after` or `before`.
 */
export const MessagesQuery = z
  .strictObject({ ...historyPage, around: decimalInt(1, Number.MAX_SAFE_INTEGER).optional() })
  .refine(...oneCursor)
  .refine((q) => q.around === undefined || (q.after === undefined && q.before === undefined), {
    message: 'give around alone, without after or before',
    path: ['around'],
  });
/** `GET …/events`: a page of the sequence; `kinds=membership` keeps only joins and leaves. */
export const EventsQuery = z
  .strictObject({ ...historyPage, kinds: z.enum(['membership']).optional() })
  .refine(...oneCursor);

export const RoomSearchQuery = z.strictObject({
  q: SearchQuery.default(''),
  limit: Limit.default(20),
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor: z.string().max(200).optional(),
});
/** A date filter of message search: a day (`2026-12-07`, UTC midnight) or an ISO 8601 date-time with a zone. */
const SearchDate = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/,
    'a date (YYYY-MM-DD) or an ISO 8601 date-time with a zone',
  )
  // Date.parse takes 2026-02-30 as 2 March: the calendar date must exist as written.
  .refine((s) => {
    const [y, m, d] = s.slice(0, 10).split('-').map(Number) as [number, number, number];
    const t = new Date(Date.UTC(y, m - 1, d));
    return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
  }, 'not a real date')
  .transform((s) => Date.parse(s))
  .pipe(z.number({ error: 'not a real date' }).int());
/**
 * `GET /api/v1/search`: full-text message search. Lengths and the page size are bounded again by the server's
 * SEARCH_* settings; these are the protocol's hard caps.
 */
export const MessageSearchQuery = z
  .strictObject({
    q: z.string().trim().min(1, 'q is required').max(PROTOCOL_LIMITS.searchQueryMax),
    roomId: Id.optional(),
    /** An author's username. */
    from: Username.optional(),
    /** Only messages sent after / before this moment (exclusive). */
    after: SearchDate.optional(),
    before: SearchDate.optional(),
    has: z.enum(['file', 'link']).optional(),
    /** `true`: thread replies only; `false`: no thread replies. */
    inThread: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    sort: z.enum(['newest', 'relevance']).default('newest'),
    /** Default: 20, or SEARCH_PAGE_MAX when lower. */
    limit: Limit.optional(),
    cursor: z.string().max(200).optional(),
  })
  .refine((q) => q.after === undefined || q.before === undefined || q.after < q.before, {
    message: 'after must be earlier than before',
    path: ['after'],
  });
export const UserSearchQuery = z.strictObject({
  q: SearchQuery.default(''),
  limit: Limit.default(20),
});
/** A page of `GET /rooms/:roomId/members`: `cursor` is the previous page's `nextCursor`. */
export const MembersQuery = z.strictObject({
  limit: decimalInt(1, PROTOCOL_LIMITS.pageMax).default(100),
  cursor: z.string().max(200).optional(),
});
/** A page of `GET /me/mentions`: `before` is the last item's `id` of the previous page. */
export const MentionsQuery = z.strictObject({
  before: decimalInt(1, Number.MAX_SAFE_INTEGER).optional(),
  limit: Limit.default(50),
});
export const RoomIdParams = z.strictObject({ roomId: Id });
export const RoomUserParams = z.strictObject({ roomId: Id, userId: Id });
export const IdParams = z.strictObject({ id: Id });
export const UserIdParams = z.strictObject({ userId: Id });

export type RegisterRequest = z.infer<typeof RegisterRequest>;
export type LoginRequest = z.infer<typeof LoginRequest>;
export type CreateRoomRequest = z.input<typeof CreateRoomRequest>;
export type SendMessageRequest = z.infer<typeof SendMessageRequest>;
export type EditMessageRequest = z.infer<typeof EditMessageRequest>;
export type HistoryQuery = z.infer<typeof HistoryQuery>;
export type MessageSearchQuery = z.infer<typeof MessageSearchQuery>;
export type EventsQuery = z.infer<typeof EventsQuery>;

// ---- files (issue 15) ----
export const FileVariant = z.enum(['original', 'thumbnail']);
/** `GET /api/v1/files/:id/link`: which variant the signed link serves. */
export const FileLinkQuery = z.strictObject({ variant: FileVariant.default('original') });
/** `GET /api/v1/files/:id/content`: a signed link's query (from `/link`, never built by hand). */
export const SignedFileQuery = z.strictObject({
  variant: FileVariant,
  expires: decimalInt(0, Number.MAX_SAFE_INTEGER),
  sig: z.string().min(1).max(100),
});
/** `GET /api/v1/files/:id`: `variant=thumbnail` serves an image's thumbnail. */
export const FileDownloadQuery = z.strictObject({ variant: FileVariant.default('original') });

// ---- webhooks (issue 16) ----
const WebhookName = z.string().trim().min(1).max(80);
const HttpUrl = z
  .string()
  .max(2048)
  .refine((u) => {
    try {
      return ['http:', 'https:'].includes(new URL(u).protocol);
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL');
export const CreateIncomingWebhookRequest = z.strictObject({
  name: WebhookName,
  iconUrl: HttpUrl.optional(),
  /** Posts must be signed (a signing secret is made and shown once). */
  signed: z.boolean().optional(),
});
/** What a POST to an incoming webhook's URL carries. */
export const IncomingWebhookPost = z.strictObject({
  text: Body,
  displayName: WebhookName.optional(),
  iconUrl: HttpUrl.optional(),
});
export const HookTokenParams = z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a webhook URL') });
export const RoomWebhookParams = z.strictObject({ roomId: Id, webhookId: Id });
export const CreateSubscriptionRequest = z.strictObject({
  url: HttpUrl,
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length),
});
export const SubscriptionIdParams = z.strictObject({ id: Id });
export const RoomSubscriptionParams = z.strictObject({ roomId: Id, id: Id });
export const DeliveriesQuery = z.strictObject({
  limit: decimalInt(1, 100).optional(),
  /** `updatedAt` (epoch ms) of the previous page's last entry. */
  before: decimalInt(0, Number.MAX_SAFE_INTEGER).optional(),
});
/** An incoming post's `Idempotency-Key` header. */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII');
// ---- bots (issue 16) ----
export const BotScopeSchema = z.enum(BOT_SCOPES);
/** `POST /api/v1/bots`: a server-wide bot (server admins) or, with `roomId`, a room bot (that room's owner). */
export const CreateBotRequest = z.strictObject({
  username: Username,
  displayName: DisplayName.optional(),
  roomId: Id.optional(),
  scopes: z.array(BotScopeSchema).min(1).max(BOT_SCOPES.length),
});
export type CreateBotRequest = z.infer<typeof CreateBotRequest>;
/** A command name as typed after `/`: lower-case letters, digits, `_` and `-`, starting with a letter. */
export const BotCommandName = z
  .string()
  .min(1)
  .max(PROTOCOL_LIMITS.botCommandNameMax)
  .regex(/^[a-z][a-z0-9_-]*$/, 'lower-case letters, digits, "_" and "-", starting with a letter');
export const BotCommandSchema = z.strictObject({
  name: BotCommandName,
  description: z.string().trim().min(1).max(PROTOCOL_LIMITS.botCommandDescriptionMax),
  argsHint: z.string().trim().max(PROTOCOL_LIMITS.botCommandArgsHintMax).optional(),
});
/** `PUT /api/v1/bots/me/commands`: replaces the calling bot's commands (names unique; the count capped by BOT_MAX_COMMANDS). */
export const SetBotCommandsRequest = z.strictObject({
  commands: z
    .array(BotCommandSchema)
    .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, 'command names must be unique'),
});
export const BotIdParams = z.strictObject({ botId: Id });

// ---- slash commands (issue 16) ----
/**
 * `POST /api/v1/rooms/:roomId/commands`: composer text starting with `/`. `clientMsgId` makes a command that posts
 * (`/me`, `/shrug`, `//text`) idempotent like a send; without one the server makes one up.
 */
export const CommandRequest = z.strictObject({
  text: Body.refine((s) => s.startsWith('/'), 'must start with "/" (send other text as a message)'),
  clientMsgId: ClientMsgId.optional(),
});

// ---- keeping and leaving (issue 18) ----
/** `DELETE /api/v1/me`: the account's own password, and whether its messages stay (as "deleted user") or go. */
export const DeleteAccountRequest = z.strictObject({
  password: z.string().min(1).max(PROTOCOL_LIMITS.passwordMax),
  messages: z.enum(['keep', 'erase']),
});
/** A reset link's token (the part after `#` in `/reset#<token>`). */
const ResetToken = z.string().min(1).max(200);
/** `POST /api/v1/auth/reset/check`: whose link this is. */
export const ResetCheckRequest = z.strictObject({ token: ResetToken });
/** `POST /api/v1/auth/reset`: uses the link. */
export const ResetPasswordRequest = z.strictObject({ token: ResetToken, newPassword: Password });
