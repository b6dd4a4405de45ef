import type { AccountService } from '../core/accounts.js';
import type { DomainContext } from '../core/context.js';
import type { MessageService } from '../core/messages.js';
import type { RoomService } from '../core/rooms.js';

/** The domain services, built once in the composition root and shared by every transport. */
export interface Services {
  ctx: DomainContext;
  accounts: AccountService;
  rooms: RoomService;
  messages: MessageService;
}
