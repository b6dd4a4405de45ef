import { z } from 'zod';
import {
  Body,
  ClientMsgId,
  DisplayName,
  Id,
  Password,
  PROTOCOL_LIMITS,
  RoomName,
  StatusText,
  Topic,
  Username,
} from './model.js';

/** Request schemas for the HTTP API. All objects are strict: unknown fields are a validation error. */

export const RegisterRequest = z.strictObject({
  username: Username,
  password: Password,
  displayName: DisplayName.optional(),
});
export const LoginRequest = z.strictObject({
  username: z.string().min(1).max(PROTOCOL_LIMITS.usernameMax),
  password: z.string().min(1).max(PROTOCOL_LIMITS.passwordMax),
  /** A label for the session list, e.g. "laptop" or a browser name. */
  label: z.string().max(64).optional(),
});
export const ChangePasswordRequest = z.strictObject({
  currentPassword: z.string().min(1).max(PROTOCOL_LIMITS.passwordMax),
  newPassword: Password,
});
export const UpdateProfileRequest = z
  .strictObject({ displayName: DisplayName.optional(), statusText: StatusText.optional() })
  .refine((v) => v.displayName !== undefined || v.statusText !== undefined, 'nothing to update');

export const CreateRoomRequest = z.strictObject({
  name: RoomName,
  visibility: z.enum(['public', 'private']).default('public'),
  topic: Topic.optional(),
});
export const UpdateRoomRequest = z
  .strictObject({ name: RoomName.optional(), topic: Topic.optional() })
  .refine((v) => v.name !== undefined || v.topic !== undefined, 'nothing to update');
export const InviteRequest = z.strictObject({ username: Username });
export const SetRoleRequest = z.strictObject({ role: z.enum(['admin', 'member', 'owner']) });
export const CreateDmRequest = z.strictObject({
  usernames: z.array(Username).min(1).max(16),
});

export const SendMessageRequest = z.strictObject({ body: Body, clientMsgId: ClientMsgId });
export const AnnouncementRequest = z.strictObject({ body: Body });

const Limit = z.coerce.number().int().min(1).max(PROTOCOL_LIMITS.pageMax);
const SeqParam = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** `after` and `before` are exclusive sequence cursors; give at most one. Without either: the newest page. */
export const HistoryQuery = z
  .strictObject({ after: SeqParam.optional(), before: SeqParam.optional(), limit: Limit.default(50) })
  .refine((q) => q.after === undefined || q.before === undefined, 'give either after or before, not both');

export const RoomSearchQuery = z.strictObject({
  q: z.string().max(PROTOCOL_LIMITS.searchQueryMax).default(''),
  limit: Limit.default(20),
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor: z.string().max(200).optional(),
});
export const UserSearchQuery = z.strictObject({
  q: z.string().max(PROTOCOL_LIMITS.searchQueryMax).default(''),
  limit: Limit.default(20),
});
export const RoomIdParams = z.strictObject({ roomId: Id });
export const RoomUserParams = z.strictObject({ roomId: Id, userId: Id });
export const IdParams = z.strictObject({ id: Id });

export type RegisterRequest = z.infer<typeof RegisterRequest>;
export type LoginRequest = z.infer<typeof LoginRequest>;
export type CreateRoomRequest = z.input<typeof CreateRoomRequest>;
export type SendMessageRequest = z.infer<typeof SendMessageRequest>;
export type HistoryQuery = z.infer<typeof HistoryQuery>;
