import type { NewMessage, Store } from '../../core/store.js';
import { accounts } from './accounts.js';
import { events, type AppendResult } from './events.js';
import { moderation } from './moderation.js';
import { perform, type Recipe, type UnitOfWork } from './recipe.js';
import { rooms } from './rooms.js';

/**
 * The Store over SQL, engine-neutral: each method performs the operation of its concern (accounts.ts, rooms.ts,
 * moderation.ts, events.ts) on the engine's unit of work. An engine (SqliteStore, PgStore) supplies how recipes run
 * — read, write, transaction — and what genuinely differs per engine: message group commit, ping and close.
 */
export abstract class SqlStore implements Store {
  private readonly unit: UnitOfWork = {
    read: (recipe) => this.read(recipe),
    write: (recipe) => this.write(recipe),
    transaction: (recipe) => this.transaction(recipe),
  };

  /** See UnitOfWork. */
  protected abstract read<T>(recipe: (now: number) => Recipe<T>): Promise<T>;
  protected abstract write<T>(recipe: (now: number) => Recipe<T>): Promise<T>;
  protected abstract transaction<T>(recipe: (now: number) => Recipe<T>): Promise<T>;

  abstract appendMessage(message: NewMessage): Promise<AppendResult>;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;

  // ---- AccountStore ----
  createUser: Store['createUser'] = (...a) => perform(this.unit, accounts.createUser, a);
  getUser: Store['getUser'] = (...a) => perform(this.unit, accounts.getUser, a);
  getUserByUsername: Store['getUserByUsername'] = (...a) => perform(this.unit, accounts.getUserByUsername, a);
  getUsers: Store['getUsers'] = (...a) => perform(this.unit, accounts.getUsers, a);
  searchUsers: Store['searchUsers'] = (...a) => perform(this.unit, accounts.searchUsers, a);
  updateProfile: Store['updateProfile'] = (...a) => perform(this.unit, accounts.updateProfile, a);
  setPasswordHash: Store['setPasswordHash'] = (...a) => perform(this.unit, accounts.setPasswordHash, a);
  setServerRole: Store['setServerRole'] = (...a) => perform(this.unit, accounts.setServerRole, a);
  listUsers: Store['listUsers'] = (...a) => perform(this.unit, accounts.listUsers, a);
  setDeactivated: Store['setDeactivated'] = (...a) => perform(this.unit, accounts.setDeactivated, a);
  setBannedUntil: Store['setBannedUntil'] = (...a) => perform(this.unit, accounts.setBannedUntil, a);
  createSession: Store['createSession'] = (...a) => perform(this.unit, accounts.createSession, a);
  getSessionByTokenHash: Store['getSessionByTokenHash'] = (...a) =>
    perform(this.unit, accounts.getSessionByTokenHash, a);
  touchSession: Store['touchSession'] = (...a) => perform(this.unit, accounts.touchSession, a);
  listSessions: Store['listSessions'] = (...a) => perform(this.unit, accounts.listSessions, a);
  deleteSession: Store['deleteSession'] = (...a) => perform(this.unit, accounts.deleteSession, a);
  deleteSessions: Store['deleteSessions'] = (...a) => perform(this.unit, accounts.deleteSessions, a);

  // ---- RoomStore ----
  createRoom: Store['createRoom'] = (...a) => perform(this.unit, rooms.createRoom, a);
  getRoom: Store['getRoom'] = (...a) => perform(this.unit, rooms.getRoom, a);
  getDmByKey: Store['getDmByKey'] = (...a) => perform(this.unit, rooms.getDmByKey, a);
  searchPublicRooms: Store['searchPublicRooms'] = (...a) => perform(this.unit, rooms.searchPublicRooms, a);
  listRoomsOf: Store['listRoomsOf'] = (...a) => perform(this.unit, rooms.listRoomsOf, a);
  countRoomsOf: Store['countRoomsOf'] = (...a) => perform(this.unit, rooms.countRoomsOf, a);
  updateRoom: Store['updateRoom'] = (...a) => perform(this.unit, rooms.updateRoom, a);
  getRole: Store['getRole'] = (...a) => perform(this.unit, rooms.getRole, a);
  getMember: Store['getMember'] = (...a) => perform(this.unit, rooms.getMember, a);
  listMembers: Store['listMembers'] = (...a) => perform(this.unit, rooms.listMembers, a);
  listMemberIds: Store['listMemberIds'] = (...a) => perform(this.unit, rooms.listMemberIds, a);
  countRole: Store['countRole'] = (...a) => perform(this.unit, rooms.countRole, a);
  addMember: Store['addMember'] = (...a) => perform(this.unit, rooms.addMember, a);
  removeMember: Store['removeMember'] = (...a) => perform(this.unit, rooms.removeMember, a);
  setMemberRole: Store['setMemberRole'] = (...a) => perform(this.unit, rooms.setMemberRole, a);
  createInvite: Store['createInvite'] = (...a) => perform(this.unit, rooms.createInvite, a);
  hasInvite: Store['hasInvite'] = (...a) => perform(this.unit, rooms.hasInvite, a);
  listInvites: Store['listInvites'] = (...a) => perform(this.unit, rooms.listInvites, a);
  deleteInvite: Store['deleteInvite'] = (...a) => perform(this.unit, rooms.deleteInvite, a);

  // ---- ModerationStore ----
  muteMember: Store['muteMember'] = (...a) => perform(this.unit, moderation.muteMember, a);
  unmuteMember: Store['unmuteMember'] = (...a) => perform(this.unit, moderation.unmuteMember, a);
  banFromRoom: Store['banFromRoom'] = (...a) => perform(this.unit, moderation.banFromRoom, a);
  unbanFromRoom: Store['unbanFromRoom'] = (...a) => perform(this.unit, moderation.unbanFromRoom, a);
  getRoomBan: Store['getRoomBan'] = (...a) => perform(this.unit, moderation.getRoomBan, a);
  listRoomBans: Store['listRoomBans'] = (...a) => perform(this.unit, moderation.listRoomBans, a);
  getEvent: Store['getEvent'] = (...a) => perform(this.unit, moderation.getEvent, a);
  deleteMessage: Store['deleteMessage'] = (...a) => perform(this.unit, moderation.deleteMessage, a);
  createJoinRequest: Store['createJoinRequest'] = (...a) => perform(this.unit, moderation.createJoinRequest, a);
  listJoinRequests: Store['listJoinRequests'] = (...a) => perform(this.unit, moderation.listJoinRequests, a);
  hasJoinRequest: Store['hasJoinRequest'] = (...a) => perform(this.unit, moderation.hasJoinRequest, a);
  deleteJoinRequest: Store['deleteJoinRequest'] = (...a) => perform(this.unit, moderation.deleteJoinRequest, a);
  createReport: Store['createReport'] = (...a) => perform(this.unit, moderation.createReport, a);
  getReport: Store['getReport'] = (...a) => perform(this.unit, moderation.getReport, a);
  listReports: Store['listReports'] = (...a) => perform(this.unit, moderation.listReports, a);
  resolveReport: Store['resolveReport'] = (...a) => perform(this.unit, moderation.resolveReport, a);
  appendAudit: Store['appendAudit'] = (...a) => perform(this.unit, moderation.appendAudit, a);
  listAudit: Store['listAudit'] = (...a) => perform(this.unit, moderation.listAudit, a);

  // ---- EventStore (appendMessage: the engine's group commit) ----
  findMessageByClientMsgId: Store['findMessageByClientMsgId'] = (...a) =>
    perform(this.unit, events.findMessageByClientMsgId, a);
  listEvents: Store['listEvents'] = (...a) => perform(this.unit, events.listEvents, a);
}
