export {
  ChatApi,
  ApiError,
  type AuthResult,
  type JoinRequest,
  type MessageSearchParams,
  type ReportAction,
  type ReplyOptions,
  replyFields,
  type RoomBanInfo,
  type Sanction,
} from './api.js';
export { type FileInfo, type FileLink, type UploadOptions, type UploadProgress } from './upload.js';
export {
  ChatClient,
  SendError,
  type ChatClientOptions,
  type ClientEvents,
  type ConnectionState,
  type WebSocketCtor,
  type WebSocketOptions,
} from './chat-client.js';
export { ChainChecker, type ChainBreak } from './chain-check.js';
export * from '../protocol/index.js';
export { Bot, createBot, type BotOptions, type CommandHandler, type MessageHandler, type Reply } from './bot.js';
export { integrationOf } from './integration.js';
