export { ChatApi, ApiError, type AuthResult } from './api.js';
export {
  ChatClient,
  SendError,
  type ChatClientOptions,
  type ClientEvents,
  type ConnectionState,
  type WebSocketCtor,
} from './chat-client.js';
export * from '../protocol/index.js';
