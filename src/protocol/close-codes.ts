/**
 * WebSocket close codes the server uses, and what a client must do on each.
 * The SDK obeys `reconnect`; docs/protocol.md lists them for other clients.
 */
export const CLOSE_CODES = {
  NORMAL: { code: 1000, reconnect: false, reason: 'normal closure' },
  GOING_AWAY: { code: 1001, reconnect: true, reason: 'server shutting down; reconnect (to another node)' },
  POLICY: { code: 1008, reconnect: true, reason: 'sustained protocol abuse; reconnect after a backoff' },
  TOO_BIG: { code: 1009, reconnect: true, reason: 'frame over the hard size cap' },
  INTERNAL: { code: 1011, reconnect: true, reason: 'internal server error' },
  UNAUTHORIZED: { code: 4001, reconnect: false, reason: 'token missing, invalid or expired; log in again' },
  AUTH_TIMEOUT: { code: 4002, reconnect: true, reason: 'no hello frame in time' },
  SESSION_REVOKED: { code: 4003, reconnect: false, reason: 'session revoked (logout, password change)' },
  ACCOUNT_DISABLED: { code: 4006, reconnect: false, reason: 'account deactivated or banned by an admin' },
  SESSION_EXPIRED: { code: 4007, reconnect: false, reason: 'session expired; log in again' },
  TOO_MANY_CONNECTIONS: { code: 4004, reconnect: true, reason: 'connection limit reached; back off' },
  UNSUPPORTED_VERSION: { code: 4005, reconnect: false, reason: 'protocol version not supported' },
  SLOW_CONSUMER: { code: 4008, reconnect: true, reason: 'outbound buffer overflow; reconnect and resume' },
  HEARTBEAT_TIMEOUT: { code: 4009, reconnect: true, reason: 'no pong within the heartbeat timeout' },
} as const;

export type CloseName = keyof typeof CLOSE_CODES;

/** Whether a client should reconnect after the server closed with `code`. Unknown codes: yes, with backoff. */
export function shouldReconnect(code: number): boolean {
  for (const entry of Object.values(CLOSE_CODES)) if (entry.code === code) return entry.reconnect;
  return true;
}
