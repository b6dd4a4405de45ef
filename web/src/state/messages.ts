import { integrationOf } from '../../../src/client/integration.js';
import type {
  FileInfo,
  IntegrationRef,
  LinkPreview,
  Message,
  Reaction,
  RoomEvent,
} from '../../../src/protocol/model.js';

export type SendStatus = 'sent' | 'pending' | 'failed';

/** A message as the UI shows it: stored (with its seq) or this user's own, still pending or failed. */
export interface UiMessage {
  /** Stable across the optimistic → stored transition: the clientMsgId. */
  key: string;
  id: string | null;
  seq: number | null;
  roomId: string;
  senderId: string;
  body: string;
  clientMsgId: string;
  createdAt: string;
  status: SendStatus;
  error?: string | undefined;
  /** Deleted by its author or a moderator: shown as a placeholder, its text gone (the server keeps none). */
  deleted?: boolean;
  /** When its author last edited it (ISO); absent if never edited. */
  editedAt?: string;
  /** Its reactions (emoji, count, who), first-reacted first; absent when none. */
  reactions?: Reaction[];
  /** A reply: what it answers, its thread, and the quote taken when it was sent (docs/protocol.md, replies). */
  reply?: UiReply;
  /** A thread root: its replies not deleted, and when the newest was sent (from history, then counted live). */
  replyCount?: number;
  lastReplyAt?: string;
  /** Who it mentions by name (user ids), and whether it used `@room` / `@here` (docs/protocol.md, Mentions). */
  mentions?: string[];
  mentionAll?: 'room' | 'here';
  /** Files it carries (images, voice notes, any file), in the order attached. */
  attachments?: FileInfo[];
  /** The server's preview of its first link (`data.preview`, or a `message.preview` event); absent when none. */
  preview?: LinkPreview;
  /** An action message (`/me waves`, `data.emote`): shown as "* Alice waves". */
  emote?: true;
  /** Posted through an incoming webhook (`data.integration`): shown as that integration, not as its sender. */
  integration?: IntegrationRef;
}

/** A preview from the wire, checked: an http(s) URL, text or null; anything else is ignored. */
export function previewOf(v: unknown): LinkPreview | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const p = v as Record<string, unknown>;
  if (typeof p.url !== 'string' || !/^https?:\/\//i.test(p.url)) return undefined;
  const text = (x: unknown) => (typeof x === 'string' && x ? x : null);
  const title = text(p.title);
  const description = text(p.description);
  const img = p.image as Record<string, unknown> | undefined;
  const image =
    img && typeof img.id === 'string' && typeof img.contentType === 'string' && typeof img.size === 'number'
      ? (img as unknown as NonNullable<LinkPreview['image']>)
      : undefined;
  return title || description ? { url: p.url, title, description, ...(image ? { image } : {}) } : undefined;
}

/** The list with the message at `seq` given its preview; the same array if there is none or it is deleted. */
export function markPreview(list: UiMessage[], seq: number, preview: LinkPreview): UiMessage[] {
  const i = list.findIndex((m) => m.seq === seq);
  const m = list[i];
  if (!m || m.deleted || m.preview) return list;
  const next = list.slice();
  next[i] = { ...m, preview };
  return next;
}

export interface UiReply {
  replyTo: number;
  threadRoot: number;
  threadOnly: boolean;
  quote: { senderId: string; body: string; deleted?: boolean };
}

function replyOf(data: Record<string, unknown> | null): UiReply | undefined {
  if (!data || typeof data.replyTo !== 'number' || typeof data.threadRoot !== 'number') return undefined;
  const q = data.quote as { senderId?: unknown; body?: unknown; deleted?: unknown } | undefined;
  return {
    replyTo: data.replyTo,
    threadRoot: data.threadRoot,
    threadOnly: data.threadOnly === true,
    quote: {
      senderId: typeof q?.senderId === 'string' ? q.senderId : '',
      body: typeof q?.body === 'string' ? q.body : '',
      ...(q?.deleted === true || q === undefined ? { deleted: true } : {}),
    },
  };
}

export function toUi(m: Message | RoomEvent): UiMessage {
  return {
    key: m.clientMsgId ?? m.id,
    id: m.id,
    seq: m.seq,
    roomId: m.roomId,
    senderId: m.senderId,
    body: m.body ?? '',
    clientMsgId: m.clientMsgId ?? m.id,
    createdAt: m.createdAt,
    status: 'sent',
    ...(m.data?.deleted === true ? { deleted: true } : {}),
    ...(typeof m.data?.editedAt === 'string' ? { editedAt: m.data.editedAt } : {}),
    ...(m.reactions?.length ? { reactions: m.reactions } : {}),
    ...withReply(replyOf(m.data)),
    ...(typeof m.data?.replyCount === 'number' ? { replyCount: m.data.replyCount } : {}),
    ...(typeof m.data?.lastReplyAt === 'string' ? { lastReplyAt: m.data.lastReplyAt } : {}),
    ...(Array.isArray(m.data?.mentions) ? { mentions: m.data.mentions as string[] } : {}),
    ...(m.data?.mentionAll === 'room' || m.data?.mentionAll === 'here' ? { mentionAll: m.data.mentionAll } : {}),
    ...withAttachments(m.attachments),
    ...withPreview(m.data?.deleted === true ? undefined : previewOf(m.data?.preview)),
    ...(m.data?.emote === true ? { emote: true as const } : {}),
    ...withIntegration(integrationOf(m.data)),
  };
}

/** Whether the message mentions the user `meId` (by name, or to everyone), not being theirs. */
export const mentionsMe = (m: UiMessage, meId: string | undefined) =>
  meId !== undefined && m.senderId !== meId && (m.mentions?.includes(meId) === true || m.mentionAll !== undefined);

const withIntegration = (integration: IntegrationRef | undefined) => (integration ? { integration } : {});
const withReply = (reply: UiReply | undefined) => (reply ? { reply } : {});
const withAttachments = (a: FileInfo[] | undefined) => (a?.length ? { attachments: a } : {});

/** Whether the room's main timeline shows it: everything but replies sent to their thread only. */
export const inMainTimeline = (m: UiMessage) => !m.reply?.threadOnly;

/**
 * The list with a new reply counted on its root (`delta` -1 for a deleted one); the same array when the root is
 * not in it.
 */
export function countReply(list: UiMessage[], rootSeq: number, delta: 1 | -1, at?: string): UiMessage[] {
  const i = list.findIndex((m) => m.seq === rootSeq);
  const m = list[i];
  if (!m) return list;
  const next = list.slice();
  const replyCount = Math.max(0, (m.replyCount ?? 0) + delta);
  const lastReplyAt = at && (!m.lastReplyAt || at > m.lastReplyAt) ? at : m.lastReplyAt;
  next[i] = { ...m, replyCount, ...(lastReplyAt ? { lastReplyAt } : {}) };
  return next;
}

/** The list with every quote of the message at `seq` blanked (it was deleted); the same array if none quotes it. */
export function markQuotesDeleted(list: UiMessage[], seq: number): UiMessage[] {
  if (!list.some((m) => m.reply?.replyTo === seq && !m.reply.quote.deleted)) return list;
  return list.map((m) =>
    m.reply?.replyTo === seq
      ? { ...m, reply: { ...m.reply, quote: { senderId: m.reply.quote.senderId, body: '', deleted: true } } }
      : m,
  );
}

/**
 * A message's reactions with `userId`'s `emoji` added or removed, as a set: adding one already there or removing one
 * that is not changes nothing (the same array), so events and a history page that already counts them agree. A new
 * emoji goes last; an emoji nobody has any more goes away.
 */
export function applyReaction(
  reactions: readonly Reaction[] | undefined,
  emoji: string,
  userId: string,
  added: boolean,
): Reaction[] | undefined {
  const list = reactions ?? [];
  const i = list.findIndex((r) => r.emoji === emoji);
  const r = list[i];
  const has = !!r?.userIds.includes(userId);
  if (has === added) return reactions as Reaction[] | undefined;
  const next = list.slice();
  if (added) {
    if (r) next[i] = { emoji, count: r.count + 1, userIds: [...r.userIds, userId] };
    else next.push({ emoji, count: 1, userIds: [userId] });
  } else {
    const userIds = r!.userIds.filter((u) => u !== userId);
    if (userIds.length) next[i] = { emoji, count: userIds.length, userIds };
    else next.splice(i, 1);
  }
  return next.length ? next : undefined;
}

/** The list with `applyReaction` done on the message at `seq`; the same array if nothing changed or it is deleted. */
export function markReaction(
  list: UiMessage[],
  seq: number,
  emoji: string,
  userId: string,
  added: boolean,
): UiMessage[] {
  const i = list.findIndex((m) => m.seq === seq);
  const m = list[i];
  if (!m || m.deleted) return list;
  const reactions = applyReaction(m.reactions, emoji, userId, added);
  if (reactions === m.reactions) return list;
  const next = list.slice();
  const { reactions: _old, ...rest } = m;
  next[i] = reactions ? { ...rest, reactions } : rest;
  return next;
}

/**
 * The list with the message at `seq` showing an edit made at `editedAt`; the same array if there is no such
 * message, it is deleted, or it already shows this edit or a later one.
 */
export function markEdited(list: UiMessage[], seq: number, body: string, editedAt: string): UiMessage[] {
  const i = list.findIndex((m) => m.seq === seq);
  const m = list[i];
  if (!m || m.deleted || (m.editedAt !== undefined && m.editedAt >= editedAt)) return list;
  const next = list.slice();
  next[i] = { ...m, body, editedAt };
  return next;
}

/** The list with the message at `seq` shown as deleted (its text dropped); the same array if there is none. */
export function markDeleted(list: UiMessage[], seq: number): UiMessage[] {
  const i = list.findIndex((m) => m.seq === seq);
  const m = list[i];
  if (!m || m.deleted) return list;
  const next = list.slice();
  const { reactions: _gone, ...rest } = m; // the server drops a deleted message's reactions too
  next[i] = { ...rest, body: '', deleted: true };
  return next;
}

/**
 * Merges stored messages into a room's list: one entry per seq (a copy that arrives again — from history, the
 * live socket and the ack alike — is dropped), in seq order, followed by the local ones still unsent. A local
 * message whose clientMsgId comes back stored is replaced by the stored one, so it never shows twice.
 * Returns the same array when nothing changed (cheap re-renders).
 */
export function mergeMessages(list: UiMessage[], incoming: UiMessage[]): UiMessage[] {
  const seqs = new Set<number>();
  for (const m of list) if (m.seq !== null) seqs.add(m.seq);
  const fresh: UiMessage[] = [];
  for (const m of incoming) {
    if (m.seq === null || seqs.has(m.seq)) continue;
    seqs.add(m.seq);
    fresh.push(m);
  }
  const storedKeys = new Set(incoming.filter((m) => m.seq !== null).map((m) => m.key));
  const local = list.filter((m) => m.seq === null);
  const keptLocal = local.filter((m) => !storedKeys.has(m.key));
  if (!fresh.length && keptLocal.length === local.length) return list;
  const stored = list.filter((m) => m.seq !== null).concat(fresh);
  stored.sort((a, b) => (a.seq as number) - (b.seq as number));
  return stored.concat(keptLocal);
}

const withPreview = (preview: LinkPreview | undefined) => (preview ? { preview } : {});
