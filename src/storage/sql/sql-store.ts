import type { NewMessage, Store } from '../../core/store.js';
import { accounts } from './accounts.js';
import { avatars } from './avatars.js';
import { blocks } from './blocks.js';
import { bots } from './bots.js';
import { chain } from './chain.js';
import { events, type AppendResult } from './events.js';
import { files } from './files.js';
import { mentions } from './mentions.js';
import { moderation } from './moderation.js';
import type { Operation, RecipeFn } from './recipe.js';
import { linkPreviews } from './link-previews.js';
import { pins } from './pins.js';
import { reads } from './reads.js';
import { reactions } from './reactions.js';
import { rooms } from './rooms.js';
import { search } from './search.js';
import { threads } from './threads.js';
import { webhooks } from './webhooks.js';
import { keep } from './keep.js';

/**
 * The Store over SQL, engine-neutral: each method performs the operation of its concern (accounts.ts, rooms.ts,
 * moderation.ts, events.ts) on the engine's unit of work. An engine (SqliteStore, PgStore) supplies how recipes run
 * — read, write, transaction — and what genuinely differs per engine: message group commit, ping and close.
 */
export abstract class SqlStore implements Store {
  /** See UnitOfWork: how the engine runs a recipe. */
  protected abstract read<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T>;
  protected abstract write<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T>;
  protected abstract transaction<A extends unknown[], T>(recipe: RecipeFn<A, T>, args: A): Promise<T>;

  /** Runs an operation with a call's arguments, the way it asks for (UnitOfWork's read, write or transaction). */
  private perform<A extends unknown[], T>(op: Operation<A, T>, args: A): Promise<T> {
    return this[op.mode](op.recipe, args);
  }

  abstract appendMessage(message: NewMessage): Promise<AppendResult>;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;

  // ---- BotStore (issue 16) ----
  createBot: Store['createBot'] = (...a) => this.perform(bots.createBot, a);
  listBots: Store['listBots'] = (...a) => this.perform(bots.listBots, a);
  setBotCommands: Store['setBotCommands'] = (...a) => this.perform(bots.setBotCommands, a);
  listRoomBotCommands: Store['listRoomBotCommands'] = (...a) => this.perform(bots.listRoomBotCommands, a);

  // ---- KeepStore (issue 18) ----
  markUserDeleted: Store['markUserDeleted'] = (...a) => this.perform(keep.markUserDeleted, a);
  listOwnMessages: Store['listOwnMessages'] = (...a) => this.perform(keep.listOwnMessages, a);
  createPasswordReset: Store['createPasswordReset'] = (...a) => this.perform(keep.createPasswordReset, a);
  getPasswordReset: Store['getPasswordReset'] = (...a) => this.perform(keep.getPasswordReset, a);
  consumePasswordReset: Store['consumePasswordReset'] = (...a) => this.perform(keep.consumePasswordReset, a);
  // ---- ChainStore (issue 18) ----
  getChainHead: Store['getChainHead'] = (...a) => this.perform(chain.getChainHead, a);
  listChainRows: Store['listChainRows'] = (...a) => this.perform(chain.listChainRows, a);
  listRoomIds: Store['listRoomIds'] = (...a) => this.perform(chain.listRoomIds, a);

  // ---- AccountStore ----
  createUser: Store['createUser'] = (...a) => this.perform(accounts.createUser, a);
  getUser: Store['getUser'] = (...a) => this.perform(accounts.getUser, a);
  getUserByUsername: Store['getUserByUsername'] = (...a) => this.perform(accounts.getUserByUsername, a);
  getUsers: Store['getUsers'] = (...a) => this.perform(accounts.getUsers, a);
  searchUsers: Store['searchUsers'] = (...a) => this.perform(accounts.searchUsers, a);
  updateProfile: Store['updateProfile'] = (...a) => this.perform(accounts.updateProfile, a);
  setPasswordHash: Store['setPasswordHash'] = (...a) => this.perform(accounts.setPasswordHash, a);
  setServerRole: Store['setServerRole'] = (...a) => this.perform(accounts.setServerRole, a);
  listUsers: Store['listUsers'] = (...a) => this.perform(accounts.listUsers, a);
  setDeactivated: Store['setDeactivated'] = (...a) => this.perform(accounts.setDeactivated, a);
  setBannedUntil: Store['setBannedUntil'] = (...a) => this.perform(accounts.setBannedUntil, a);
  createSession: Store['createSession'] = (...a) => this.perform(accounts.createSession, a);
  getSessionByTokenHash: Store['getSessionByTokenHash'] = (...a) => this.perform(accounts.getSessionByTokenHash, a);
  touchSession: Store['touchSession'] = (...a) => this.perform(accounts.touchSession, a);
  listSessions: Store['listSessions'] = (...a) => this.perform(accounts.listSessions, a);
  deleteSession: Store['deleteSession'] = (...a) => this.perform(accounts.deleteSession, a);
  deleteSessions: Store['deleteSessions'] = (...a) => this.perform(accounts.deleteSessions, a);

  // ---- ReadStore ----
  markRead: Store['markRead'] = (...a) => this.perform(reads.markRead, a);
  listReadReceipts: Store['listReadReceipts'] = (...a) => this.perform(reads.listReadReceipts, a);
  updateUserSettings: Store['updateUserSettings'] = (...a) => this.perform(reads.updateUserSettings, a);
  setNotifyLevel: Store['setNotifyLevel'] = (...a) => this.perform(reads.setNotifyLevel, a);

  // ---- AvatarStore ----
  setUserAvatar: Store['setUserAvatar'] = (...a) => this.perform(avatars.setUserAvatar, a);
  setRoomAvatar: Store['setRoomAvatar'] = (...a) => this.perform(avatars.setRoomAvatar, a);
  getAvatar: Store['getAvatar'] = (...a) => this.perform(avatars.getAvatar, a);

  // ---- BlockStore ----
  blockUser: Store['blockUser'] = (...a) => this.perform(blocks.blockUser, a);
  unblockUser: Store['unblockUser'] = (...a) => this.perform(blocks.unblockUser, a);
  listBlocks: Store['listBlocks'] = (...a) => this.perform(blocks.listBlocks, a);
  blockBetween: Store['blockBetween'] = (...a) => this.perform(blocks.blockBetween, a);
  hasBlocked: Store['hasBlocked'] = (...a) => this.perform(blocks.hasBlocked, a);
  blockWithMember: Store['blockWithMember'] = (...a) => this.perform(blocks.blockWithMember, a);

  // ---- PinStore ----
  pinMessage: Store['pinMessage'] = (...a) => this.perform(pins.pinMessage, a);
  unpinMessage: Store['unpinMessage'] = (...a) => this.perform(pins.unpinMessage, a);
  listPins: Store['listPins'] = (...a) => this.perform(pins.listPins, a);

  // ---- RoomStore ----
  createRoom: Store['createRoom'] = (...a) => this.perform(rooms.createRoom, a);
  getRoom: Store['getRoom'] = (...a) => this.perform(rooms.getRoom, a);
  getDmByKey: Store['getDmByKey'] = (...a) => this.perform(rooms.getDmByKey, a);
  searchPublicRooms: Store['searchPublicRooms'] = (...a) => this.perform(rooms.searchPublicRooms, a);
  listRoomsOf: Store['listRoomsOf'] = (...a) => this.perform(rooms.listRoomsOf, a);
  countRoomsOf: Store['countRoomsOf'] = (...a) => this.perform(rooms.countRoomsOf, a);
  updateRoom: Store['updateRoom'] = (...a) => this.perform(rooms.updateRoom, a);
  getRole: Store['getRole'] = (...a) => this.perform(rooms.getRole, a);
  getMember: Store['getMember'] = (...a) => this.perform(rooms.getMember, a);
  listMembers: Store['listMembers'] = (...a) => this.perform(rooms.listMembers, a);
  listMemberIds: Store['listMemberIds'] = (...a) => this.perform(rooms.listMemberIds, a);
  countRole: Store['countRole'] = (...a) => this.perform(rooms.countRole, a);
  addMember: Store['addMember'] = (...a) => this.perform(rooms.addMember, a);
  removeMember: Store['removeMember'] = (...a) => this.perform(rooms.removeMember, a);
  setMemberRole: Store['setMemberRole'] = (...a) => this.perform(rooms.setMemberRole, a);
  createInvite: Store['createInvite'] = (...a) => this.perform(rooms.createInvite, a);
  hasInvite: Store['hasInvite'] = (...a) => this.perform(rooms.hasInvite, a);
  listInvites: Store['listInvites'] = (...a) => this.perform(rooms.listInvites, a);
  deleteInvite: Store['deleteInvite'] = (...a) => this.perform(rooms.deleteInvite, a);

  // ---- ModerationStore ----
  muteMember: Store['muteMember'] = (...a) => this.perform(moderation.muteMember, a);
  unmuteMember: Store['unmuteMember'] = (...a) => this.perform(moderation.unmuteMember, a);
  banFromRoom: Store['banFromRoom'] = (...a) => this.perform(moderation.banFromRoom, a);
  unbanFromRoom: Store['unbanFromRoom'] = (...a) => this.perform(moderation.unbanFromRoom, a);
  getRoomBan: Store['getRoomBan'] = (...a) => this.perform(moderation.getRoomBan, a);
  listRoomBans: Store['listRoomBans'] = (...a) => this.perform(moderation.listRoomBans, a);
  getEvent: Store['getEvent'] = (...a) => this.perform(moderation.getEvent, a);
  deleteMessage: Store['deleteMessage'] = (...a) => this.perform(moderation.deleteMessage, a);
  editMessage: Store['editMessage'] = (...a) => this.perform(moderation.editMessage, a);
  listMessageEdits: Store['listMessageEdits'] = (...a) => this.perform(moderation.listMessageEdits, a);

  // ---- ReactionStore ----
  addReaction: Store['addReaction'] = (...a) => this.perform(reactions.addReaction, a);
  removeReaction: Store['removeReaction'] = (...a) => this.perform(reactions.removeReaction, a);
  listReactions: Store['listReactions'] = (...a) => this.perform(reactions.listReactions, a);
  createJoinRequest: Store['createJoinRequest'] = (...a) => this.perform(moderation.createJoinRequest, a);
  listJoinRequests: Store['listJoinRequests'] = (...a) => this.perform(moderation.listJoinRequests, a);
  hasJoinRequest: Store['hasJoinRequest'] = (...a) => this.perform(moderation.hasJoinRequest, a);
  deleteJoinRequest: Store['deleteJoinRequest'] = (...a) => this.perform(moderation.deleteJoinRequest, a);
  createReport: Store['createReport'] = (...a) => this.perform(moderation.createReport, a);
  getReport: Store['getReport'] = (...a) => this.perform(moderation.getReport, a);
  listReports: Store['listReports'] = (...a) => this.perform(moderation.listReports, a);
  resolveReport: Store['resolveReport'] = (...a) => this.perform(moderation.resolveReport, a);
  appendAudit: Store['appendAudit'] = (...a) => this.perform(moderation.appendAudit, a);
  listAudit: Store['listAudit'] = (...a) => this.perform(moderation.listAudit, a);

  // ---- EventStore (appendMessage: the engine's group commit) ----
  findMessageByClientMsgId: Store['findMessageByClientMsgId'] = (...a) =>
    this.perform(events.findMessageByClientMsgId, a);
  listEvents: Store['listEvents'] = (...a) => this.perform(events.listEvents, a);

  // ---- MentionStore ----
  findMemberIds: Store['findMemberIds'] = (...a) => this.perform(mentions.findMemberIds, a);
  listMentions: Store['listMentions'] = (...a) => this.perform(mentions.listMentions, a);

  // ---- SearchStore ----
  searchMessages: Store['searchMessages'] = (...a) => this.perform(search.searchMessages, a);

  // ---- ThreadStore ----
  listThread: Store['listThread'] = (...a) => this.perform(threads.listThread, a);
  threadSummaries: Store['threadSummaries'] = (...a) => this.perform(threads.threadSummaries, a);

  // ---- LinkPreviewStore ----
  setLinkPreview: Store['setLinkPreview'] = (...a) => this.perform(linkPreviews.setLinkPreview, a);

  // ---- FileStore ----
  createFile: Store['createFile'] = (...a) => this.perform(files.createFile, a);
  getFile: Store['getFile'] = (...a) => this.perform(files.getFile, a);
  getFiles: Store['getFiles'] = (...a) => this.perform(files.getFiles, a);
  fileUsage: Store['fileUsage'] = (...a) => this.perform(files.fileUsage, a);
  attachmentRooms: Store['attachmentRooms'] = (...a) => this.perform(files.attachmentRooms, a);
  deleteFile: Store['deleteFile'] = (...a) => this.perform(files.deleteFile, a);
  unattachedFiles: Store['unattachedFiles'] = (...a) => this.perform(files.unattachedFiles, a);
  blobInUse: Store['blobInUse'] = (...a) => this.perform(files.blobInUse, a);
  serverSecret: Store['serverSecret'] = (...a) => this.perform(files.serverSecret, a);

  // ---- WebhookStore (migration 17) ----
  createIncomingWebhook: Store['createIncomingWebhook'] = (...a) => this.perform(webhooks.createIncomingWebhook, a);
  getIncomingWebhookByTokenHash: Store['getIncomingWebhookByTokenHash'] = (...a) =>
    this.perform(webhooks.getIncomingWebhookByTokenHash, a);
  listIncomingWebhooks: Store['listIncomingWebhooks'] = (...a) => this.perform(webhooks.listIncomingWebhooks, a);
  deleteIncomingWebhook: Store['deleteIncomingWebhook'] = (...a) => this.perform(webhooks.deleteIncomingWebhook, a);
  rememberSignature: Store['rememberSignature'] = (...a) => this.perform(webhooks.rememberSignature, a);
  createSubscription: Store['createSubscription'] = (...a) => this.perform(webhooks.createSubscription, a);
  getSubscription: Store['getSubscription'] = (...a) => this.perform(webhooks.getSubscription, a);
  listSubscriptions: Store['listSubscriptions'] = (...a) => this.perform(webhooks.listSubscriptions, a);
  deleteSubscription: Store['deleteSubscription'] = (...a) => this.perform(webhooks.deleteSubscription, a);
  claimDeliveries: Store['claimDeliveries'] = (...a) => this.perform(webhooks.claimDeliveries, a);
  completeDelivery: Store['completeDelivery'] = (...a) => this.perform(webhooks.completeDelivery, a);
  listDeliveries: Store['listDeliveries'] = (...a) => this.perform(webhooks.listDeliveries, a);
  pruneDeliveries: Store['pruneDeliveries'] = (...a) => this.perform(webhooks.pruneDeliveries, a);
}
