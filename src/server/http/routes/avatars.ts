import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ChatError } from '../../../core/chat-error.js';
import { IdParams, RoomIdParams } from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { malformedForm } from '../multipart.js';
import { parse } from '../validate.js';

/** The multipart field of a picture, as for files. */
const FIELD = 'file';

/**
 * Pictures: `PUT`/`DELETE /api/v1/me/avatar` (yours), `PUT`/`DELETE /api/v1/rooms/:roomId/avatar` (owners and
 * admins), both multipart with field `file`; `GET /api/v1/avatars/:id` serves one without a token (its id is random
 * and never reused, so it is cached for good). Registered in its own scope: only these routes read multipart.
 */
export function avatarRoutes(app: FastifyInstance, s: Services, maxBytes: number): void {
  void app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fields: 2, fieldSize: 1024, files: 1, parts: 3, headerPairs: 50, fileSize: maxBytes + 1 },
      throwFileSizeLimit: false,
    });

    scope.put('/api/v1/me/avatar', async (req, reply) => {
      const auth = await requireAuth(s, req);
      const bytes = await readPicture(req, reply, maxBytes);
      return { user: await s.avatars.setMine(auth, bytes) };
    });
    scope.delete('/api/v1/me/avatar', async (req) => ({
      user: await s.avatars.setMine(await requireAuth(s, req), null),
    }));

    scope.put('/api/v1/rooms/:roomId/avatar', async (req, reply) => {
      const auth = await requireAuth(s, req);
      const { roomId } = parse(RoomIdParams, req.params);
      const bytes = await readPicture(req, reply, maxBytes);
      return { room: await s.avatars.setRoom(auth, roomId, bytes) };
    });
    scope.delete('/api/v1/rooms/:roomId/avatar', async (req) => {
      const auth = await requireAuth(s, req);
      return { room: await s.avatars.setRoom(auth, parse(RoomIdParams, req.params).roomId, null) };
    });

    scope.get('/api/v1/avatars/:id', async (req, reply) => {
      const bytes = await s.avatars.get(parse(IdParams, req.params).id);
      return reply
        .header('content-type', 'image/webp')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cross-origin-resource-policy', 'same-origin')
        .send(Buffer.from(bytes));
    });
  });
}

/** The one file of the form, whole (a picture is small: MAX_AVATAR_BYTES), or the catalogue error. */
async function readPicture(req: FastifyRequest, reply: FastifyReply, maxBytes: number): Promise<Uint8Array> {
  if (!req.isMultipart()) {
    throw new ChatError('unsupported_media_type', {
      message: 'Send the picture as multipart/form-data, field "file".',
    });
  }
  let part;
  try {
    part = await req.file();
  } catch (err) {
    throw malformedForm(err);
  }
  if (!part || part.fieldname !== FIELD) {
    part?.file.resume();
    throw new ChatError('validation_failed', {
      message: 'The form has no "file" field.',
      issues: [{ path: FIELD, message: 'required' }],
    });
  }
  let bytes;
  try {
    bytes = await part.toBuffer();
  } catch (err) {
    throw malformedForm(err);
  }
  if (part.file.truncated || bytes.byteLength > maxBytes) {
    void reply.header('connection', 'close');
    throw new ChatError('file_too_large', {
      message: `A picture may be at most ${maxBytes} bytes (MAX_AVATAR_BYTES).`,
    });
  }
  return bytes;
}
