/**
 * Multipart uploads with progress and cancel. Browsers get XMLHttpRequest, the one API that reports upload
 * progress everywhere (fetch streams need HTTP/2 and duplex support); runtimes without it (Node) get fetch, which
 * reports only the end.
 */
import type { FileInfo } from '../protocol/model.js';

export type { FileInfo };

/** A short-lived URL that works without any header (for `<img>`, `<audio>`, downloads), and when it stops working. */
export interface FileLink {
  url: string;
  expiresAt: string;
}

/** Bytes sent so far out of `total` (the whole request, so a little more than the file). */
export type UploadProgress = (sent: number, total: number) => void;

export interface UploadOptions {
  /** Called as bytes go out (browsers); at least once at the end. */
  onProgress?: UploadProgress;
  /** Aborting it cancels the upload; the promise then rejects with code `aborted`. */
  signal?: AbortSignal;
  /** The multipart field (default `file`). */
  field?: string;
}

export interface UploadRequest {
  url: string;
  token: string | undefined;
  method: 'POST' | 'PUT';
  blob: Blob;
  name: string;
}

/** The server's answer, whatever its status: the caller reads it like any other. */
export interface RawAnswer {
  status: number;
  text: string;
}

/** Why an upload got no answer: cancelled through the signal, or the network failed. */
export class UploadFailure extends Error {
  constructor(
    readonly reason: 'aborted' | 'network',
    message: string,
  ) {
    super(message);
    this.name = 'UploadFailure';
  }
}

const aborted = () => new UploadFailure('aborted', 'The upload was cancelled.');

/** Sends `blob` as the one file of a multipart form and returns the JSON answer. */
export function uploadMultipart(req: UploadRequest, opts: UploadOptions = {}): Promise<RawAnswer> {
  const form = new FormData();
  form.append(opts.field ?? 'file', req.blob, req.name);
  if (opts.signal?.aborted) return Promise.reject(aborted());
  if (typeof XMLHttpRequest === 'function') return viaXhr(req, form, opts);
  return viaFetch(req, form, opts);
}

function viaXhr(req: UploadRequest, form: FormData, opts: UploadOptions): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const done = () => opts.signal?.removeEventListener('abort', onAbort);
    xhr.open(req.method, req.url);
    // The token rides in a header, never in the URL.
    if (req.token) xhr.setRequestHeader('authorization', `Bearer ${req.token}`);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) opts.onProgress?.(e.loaded, e.total);
    });
    xhr.addEventListener('load', () => {
      done();
      opts.onProgress?.(req.blob.size, req.blob.size);
      resolve({ status: xhr.status, text: xhr.responseText });
    });
    xhr.addEventListener('error', () => {
      done();
      reject(new UploadFailure('network', 'The upload failed: network error.'));
    });
    xhr.addEventListener('abort', () => {
      done();
      reject(aborted());
    });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    xhr.send(form);
  });
}

async function viaFetch(req: UploadRequest, form: FormData, opts: UploadOptions): Promise<RawAnswer> {
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.token ? { authorization: `Bearer ${req.token}` } : {},
      body: form,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (opts.signal?.aborted) throw aborted();
    throw new UploadFailure('network', (err as Error).message);
  }
  const text = await res.text();
  opts.onProgress?.(req.blob.size, req.blob.size);
  return { status: res.status, text };
}
