import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { ChatError } from '../../../core/chat-error.js';
import { toFileInfo } from '../../../core/files/file-service.js';
import { FileDownloadQuery, FileLinkQuery, IdParams, SignedFileQuery } from '../../../protocol/http.js';
import type { Services } from '../../services.js';
import { requireAuth } from '../auth.js';
import { sendFile } from '../file-response.js';
import { malformedForm } from '../multipart.js';
import { parse } from '../validate.js';

/** The multipart field of an upload. */
const FILE_FIELD = 'file';

/**
 * Files: `POST /api/v1/files` (multipart, field `file`), `GET /api/v1/files/:id` (Authorization header),
 * `GET /api/v1/files/:id/link` (a signed URL) and `GET /api/v1/files/:id/content` (that URL: no header needed).
 */
export function fileRoutes(app: FastifyInstance, s: Services): void {
  // In its own scope, so only this route reads multipart bodies; every other route still takes JSON only (415
  // otherwise: a form sent to a JSON route must not pass as "no body").
  void app.register(async (scope) => {
    await scope.register(multipart, {
      // Per request the limit is set from MAX_UPLOAD_BYTES and the quota; these bound what else a form may carry.
      limits: { fields: 4, fieldSize: 1024, files: 1, parts: 6, headerPairs: 50 },
      throwFileSizeLimit: false,
    });
    scope.post('/api/v1/files', async (req, reply) => {
      const auth = await requireAuth(s, req);
      if (!req.isMultipart()) {
        throw new ChatError('unsupported_media_type', {
          message: 'Upload a file as multipart/form-data, field "file".',
        });
      }
      const limit = await s.files.beginUpload(auth);
      let part;
      try {
        part = await req.file({ limits: { fileSize: limit.limitBytes } });
      } catch (err) {
        throw malformedForm(err);
      }
      if (!part || part.fieldname !== FILE_FIELD) {
        part?.file.resume();
        throw new ChatError('validation_failed', {
          message: 'The form has no "file" field.',
          issues: [{ path: FILE_FIELD, message: 'required' }],
        });
      }
      let file;
      try {
        file = await s.files.upload(
          auth,
          { filename: part.filename, stream: part.file, truncated: () => part.file.truncated },
          limit,
        );
      } catch (err) {
        // Refused before the body was read to its end: close the connection rather than read (and discard) the rest.
        if (!part.file.readableEnded) void reply.header('connection', 'close');
        // The parser failed on the file's part (no closing boundary, a broken header): the body's fault, not ours.
        if (part.file.errored) throw malformedForm(err);
        throw err;
      }
      return reply.status(201).send({ file: toFileInfo(file) });
    });
  });

  app.get('/api/v1/files/:id', async (req, reply) => {
    const auth = await requireAuth(s, req);
    const { id } = parse(IdParams, req.params);
    const { variant } = parse(FileDownloadQuery, req.query);
    const content = s.files.content(await s.files.requireReadable(auth, id), variant);
    // Per user: shared caches must not keep it; a browser revalidates (ETag) since access may end.
    return sendFile(s.files, req, reply, content, 'private, no-cache', variant);
  });

  app.get('/api/v1/files/:id/info', async (req) => {
    const auth = await requireAuth(s, req);
    const { id } = parse(IdParams, req.params);
    return { file: await s.files.info(auth, id) };
  });

  app.get('/api/v1/files/:id/link', async (req) => {
    const auth = await requireAuth(s, req);
    const { id } = parse(IdParams, req.params);
    const { variant } = parse(FileLinkQuery, req.query);
    const link = await s.files.link(auth, id, variant);
    return {
      url: `${link.path}?${new URLSearchParams(link.query).toString()}`,
      expiresAt: new Date(link.expiresAt).toISOString(),
    };
  });

  app.get('/api/v1/files/:id/content', async (req, reply) => {
    const { id } = parse(IdParams, req.params);
    const q = parse(SignedFileQuery, req.query);
    const content = await s.files.openSigned(id, q.variant, q.expires, q.sig);
    // The link is the credential: a browser may keep the bytes until it expires, no shared cache may.
    const maxAge = Math.max(0, Math.floor((q.expires - Date.now()) / 1000));
    return sendFile(s.files, req, reply, content, `private, max-age=${maxAge}`, q.variant);
  });
}
