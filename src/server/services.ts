import type { AccountService } from '../core/accounts.js';
import type { AdminService } from '../core/admin.js';
import type { ReportService } from '../core/moderation/reports.js';
import type { RoomModeration } from '../core/moderation/room-moderation.js';
import type { DomainContext } from '../core/context.js';
import type { MessageService } from '../core/messages.js';
import type { RoomService } from '../core/rooms.js';

/** The domain services, built once in the composition root and shared by every transport. */
export interface Services {
  ctx: DomainContext;
  accounts: AccountService;
  rooms: RoomService;
  messages: MessageService;
  moderation: RoomModeration;
  reports: ReportService;
  admin: AdminService;
}
