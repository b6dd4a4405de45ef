/**
 * The tab's icon with the unread count on it, like the title's "(3)": red when something unread mentions you (or
 * is a direct message), grey otherwise; the plain icon when all is read. Drawn on a canvas from the app's own
 * favicon.svg, so no extra assets. The drawing is handed over as a `blob:` URL: the page's CSP allows `img-src 'self'
 * blob:` and not `data:` (a blob URL can only be made by this page's own script).
 */
const BASE = '/favicon.svg';
const SIZE = 64;
let image: Promise<HTMLImageElement> | null = null;
let drawn = '';
let current: string | null = null;

function baseImage(): Promise<HTMLImageElement> {
  image ??= new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = BASE;
  });
  return image;
}

function link(): HTMLLinkElement {
  let el = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!el) {
    el = document.createElement('link');
    el.rel = 'icon';
    document.head.append(el);
  }
  return el;
}

/** Sets the favicon for `count` unread (0: the plain icon), emphasised when `mention`. */
export async function setFaviconBadge(count: number, mention: boolean): Promise<void> {
  const key = count > 0 ? `${count}:${mention}` : '';
  if (key === drawn) return;
  drawn = key;
  const el = link();
  el.dataset.badge = key ? String(count) : '';
  el.dataset.mention = key && mention ? 'true' : '';
  if (!key) {
    el.type = 'image/svg+xml';
    el.href = BASE;
    release();
    return;
  }
  try {
    const img = await baseImage();
    if (drawn !== key) return; // a newer count came while the image loaded
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = SIZE;
    const g = canvas.getContext('2d');
    if (!g) return;
    g.drawImage(img, 0, 0, SIZE, SIZE);
    const text = count > 99 ? '99+' : String(count);
    const r = text.length > 2 ? 22 : 19;
    const cx = SIZE - r;
    const cy = SIZE - r;
    g.beginPath();
    g.arc(cx, cy, r, 0, Math.PI * 2);
    g.fillStyle = mention ? '#dc2626' : '#6b7280';
    g.fill();
    g.lineWidth = 3;
    g.strokeStyle = '#ffffff';
    g.stroke();
    g.fillStyle = '#ffffff';
    g.font = `bold ${text.length > 2 ? 20 : 26}px system-ui, sans-serif`;
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(text, cx, cy + 1);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob || drawn !== key) return;
    const url = URL.createObjectURL(blob);
    el.type = 'image/png';
    el.href = url;
    release();
    current = url;
  } catch {
    /* no canvas or no image: the title still counts */
  }
}

/** Frees the previous drawing once the link no longer points at it. */
function release(): void {
  if (current) URL.revokeObjectURL(current);
  current = null;
}
