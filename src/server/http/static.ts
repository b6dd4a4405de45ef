import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `vite build` puts the web client: `dist/web` at the repository root (same from src/ and dist/). */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../dist/web', import.meta.url));

/**
 * The HTML page gets a strict Content-Security-Policy: the client renders user text as text, and this is the
 * second wall if that ever fails — no inline or foreign scripts, no plugins, no framing, sockets to this origin only.
 */
const csp = (styleSrc: string) =>
  [
    "default-src 'self'",
    "script-src 'self'",
    // No 'unsafe-inline': the client's CSS is a file, and its few computed styles are set through the CSSOM
    // (element.style), which CSP does not restrict.
    `style-src ${styleSrc}`,
    // blob: for the unread badge drawn on the favicon (web/src/app/favicon.ts); never data: or other origins.
    "img-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

const HTML_HEADERS = {
  'content-security-policy': csp("'self'"),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY', // frame-ancestors for browsers that predate it
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const NOT_BUILT_STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}';
const NOT_BUILT_PAGE =
  '<!doctype html><meta charset="utf-8"><title>relaychat</title>' +
  `<style>${NOT_BUILT_STYLE}</style>` +
  '<h1>relaychat is running</h1><p>The web client is not built — run <code>npm run build</code>.</p>' +
  '<p>HTTP API under <code>/api/v1</code>, WebSocket at <code>/ws</code>; ' +
  'the terminal client: <code>npm run chat -- --help</code>.</p>';

/** A browser navigation (not an API call or an asset fetch): the SPA answers it with index.html. */
function wantsAppShell(req: FastifyRequest): boolean {
  const path = req.url.split('?')[0] ?? '/';
  if (path === '/api' || path.startsWith('/api/') || path === '/ws' || path.startsWith('/ws/')) return false;
  return (req.headers.accept ?? '').includes('text/html');
}

/**
 * Serves the web client from `dir` (default `dist/web`): its files as they are, `index.html` for `/` and for
 * any other browser navigation outside /api and /ws (client-side routes such as `/r/<roomId>`). Hashed assets
 * are cached for a year; the HTML is revalidated on every load so a new build is picked up at once.
 * Without a build, `/` says how to make one instead of failing.
 */
export function webClientRoutes(app: FastifyInstance, dir: string = DEFAULT_WEB_DIR): void {
  const built = existsSync(join(dir, 'index.html'));
  if (!built) {
    // Its one inline <style> is allowed by hash, not by 'unsafe-inline'.
    const styleHash = createHash('sha256').update(NOT_BUILT_STYLE).digest('base64');
    const headers = { ...HTML_HEADERS, 'content-security-policy': csp(`'self' 'sha256-${styleHash}'`) };
    app.get('/', async (_req, reply) => reply.headers(headers).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE));
    return;
  }

  void app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false, // one route per built file; unknown paths fall through to the SPA fallback below
    index: false,
    cacheControl: false,
    setHeaders(res, path) {
      if (path.endsWith('.html')) {
        for (const [k, v] of Object.entries(HTML_HEADERS)) res.setHeader(k, v);
      } else if (/[\\/]assets[\\/]/.test(path)) {
        res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      } else {
        res.setHeader('cache-control', 'no-cache');
      }
    },
  });

  const shell = (reply: FastifyReply) => reply.sendFile('index.html');
  app.get('/', async (_req, reply) => shell(reply));
  app.get('/*', async (req, reply) => (wantsAppShell(req) ? shell(reply) : reply.callNotFound()));
}
