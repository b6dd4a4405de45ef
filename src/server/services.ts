import type { AccountService } from '../core/accounts.js';
import type { AdminService } from '../core/admin.js';
import type { AvatarService } from '../core/avatars.js';
import type { ReportService } from '../core/moderation/reports.js';
import type { RoomModeration } from '../core/moderation/room-moderation.js';
import type { Presence } from '../core/presence.js';
import type { MessageService } from '../core/messages.js';
import type { PinService } from '../core/pins.js';
import type { BlockService } from '../core/blocks.js';
import type { NotificationService } from '../core/notifications.js';
import type { ReadStateService } from '../core/read-state.js';
import type { ReactionService } from '../core/reactions.js';
import type { LinkPreviewService } from '../core/link-previews.js';
import type { SearchService } from '../core/search.js';
import type { RoomService } from '../core/rooms.js';
import type { FileService } from '../core/files/file-service.js';
import type { WebhookService } from '../core/webhooks/webhook-service.js';
import type { AssistantService } from '../core/assistant/assistant-service.js';
import type { BotService } from '../core/bots.js';
import type { HistoryService } from '../core/history.js';
import type { CommandService } from '../core/commands/command-service.js';
import type { AccountDeletion } from '../core/account-deletion.js';
import type { PasswordResets } from '../core/password-reset.js';
import type { DataExport } from '../core/data-export.js';

/** What transports read of presence (who is online); changes come only from sessions. */
export type PresenceView = Pick<Presence, 'statusOf' | 'onlineCount'>;

/** Whether the shared backends answer, for `/readyz`. */
export interface Health {
  pingStore(): Promise<void>;
  pingBus(): Promise<void>;
}

/**
 * The domain services, built once in the composition root and shared by every transport. Transports get these,
 * never the ports themselves (`DomainContext`), so a route cannot go around a service's rules.
 */
export interface Services {
  accounts: AccountService;
  rooms: RoomService;
  messages: MessageService;
  reads: ReadStateService;
  notifications: NotificationService;
  pins: PinService;
  blocks: BlockService;
  reactions: ReactionService;
  /** Link previews (a send hook); transports only need it to stop it at close. */
  previews: LinkPreviewService;
  search: SearchService;
  moderation: RoomModeration;
  reports: ReportService;
  admin: AdminService;
  /** Uploads, downloads, signed links, attachments (issue 15). */
  files: FileService;
  presence: PresenceView;
  health: Health;
  /** Pictures of users and rooms (issue 15). */
  avatars: AvatarService;
  /** Incoming and outgoing webhooks (issue 16). */
  webhooks: WebhookService;
  /** The built-in assistant (issue 16); null when no backend is configured. */
  assistant: AssistantService | null;
  /** Bot accounts, their tokens and commands (issue 16); `bots.commands` lists and dispatches bot commands. */
  bots: BotService;
  /** Slash commands (issue 16): built-ins run through the services above; bot commands through the bots service. */
  commands: CommandService;
  /** Deleting one's own account (issue 18). */
  leaving: AccountDeletion;
  /** Admin-issued one-time password reset links (issue 18). */
  resets: PasswordResets;
  /** One's own data as a JSON download (issue 18). */
  exporter: DataExport;
  /** History integrity (issue 18): verifying rooms' hash chains. */
  history: HistoryService;
}
