import type { IncomingMessage } from 'node:http';

/**
 * Query values never reach the logs: a client may put a token in a URL (`/api/v1/me?token=…`) although the
 * server only reads `Authorization`, and search text is the user's own. Parameter names stay, for debugging.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = (eq === -1 ? pair : pair.slice(0, eq)).slice(0, 64);
      return eq === -1 ? name : `${name}=[redacted]`;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

interface LoggedRequest extends Pick<IncomingMessage, 'method' | 'url' | 'headers'> {
  host?: string;
  ip?: string;
  socket?: IncomingMessage['socket'];
}

/** Pino serializers for request logs (fastify's default `req`, with the query values redacted). */
export const logSerializers = {
  req(req: LoggedRequest) {
    return {
      method: req.method,
      url: redactUrl(req.url ?? ''),
      host: req.host,
      remoteAddress: req.ip,
      remotePort: req.socket?.remotePort,
    };
  },
};
