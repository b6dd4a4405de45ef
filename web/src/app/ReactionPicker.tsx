import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getLocale, t, type MsgKey } from '../i18n/index.js';
import { loadCatalog, searchCatalog, type Catalog, type CatalogEmoji } from '../state/emoji-catalog.js';

const WIDTH = 352;
const HEIGHT = 420;
const GROUPS: readonly MsgKey[] = [
  'picker.group0',
  'picker.group1',
  'picker.group2',
  'picker.group3',
  'picker.group4',
  'picker.group5',
  'picker.group6',
  'picker.group7',
  'picker.group8',
  'picker.group9',
];

/** Where the popover goes: above the button that opened it if there is room, else below; inside the window. */
function place(anchor: DOMRect): { left: number; top: number } {
  const w = Math.min(WIDTH, window.innerWidth - 16);
  const h = Math.min(HEIGHT, window.innerHeight - 16);
  const left = Math.max(8, Math.min(anchor.right - w, window.innerWidth - w - 8));
  const above = anchor.top - h - 6;
  const top = above >= 8 ? above : Math.max(8, Math.min(anchor.bottom + 6, window.innerHeight - h - 8));
  return { left, top };
}

function Cell({ e, onPick }: { e: CatalogEmoji; onPick: (emoji: string) => void }) {
  const name = getLocale() === 'zh-CN' ? e.labelZh : e.label;
  return (
    <button type="button" class="emoji-cell" title={name} aria-label={name} onClick={() => onPick(e.emoji)}>
      {e.emoji}
    </button>
  );
}

/**
 * The reaction picker: the whole emoji set by category, recently used first, with search in English and Chinese
 * (names, keywords, shortcodes). Esc closes; Enter picks the first result. A popover by the button that opened it; a
 * sheet at the bottom on phones.
 */
export function ReactionPicker({
  anchor,
  recent,
  onPick,
  onClose,
}: {
  anchor: DOMRect;
  /** Recently used emojis, newest first. */
  recent: readonly string[];
  onPick: (emoji: string) => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [failed, setFailed] = useState(false);
  const [query, setQuery] = useState('');
  const [pos, setPos] = useState(() => place(anchor));

  useEffect(() => {
    let alive = true;
    loadCatalog().then(
      (c) => alive && setCatalog(c),
      () => alive && setFailed(true),
    );
    input.current?.focus();
    const onDoc = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    const onResize = () => setPos(place(anchor));
    document.addEventListener('mousedown', onDoc);
    window.addEventListener('resize', onResize);
    return () => {
      alive = false;
      document.removeEventListener('mousedown', onDoc);
      window.removeEventListener('resize', onResize);
    };
  }, []);
  useLayoutEffect(() => setPos(place(anchor)), [anchor]);

  const results = useMemo(() => (catalog && query.trim() ? searchCatalog(catalog, query) : null), [catalog, query]);
  const sections = useMemo(() => {
    if (!catalog) return [];
    const out: { title: string; emojis: CatalogEmoji[] }[] = [];
    const recentEmojis = recent.map((e) => catalog.byEmoji.get(e)).filter((e): e is CatalogEmoji => !!e);
    if (recentEmojis.length) out.push({ title: t('picker.recent'), emojis: recentEmojis });
    const byGroup = new Map<number, CatalogEmoji[]>();
    for (const e of catalog.emojis) {
      let list = byGroup.get(e.group);
      if (!list) byGroup.set(e.group, (list = []));
      list.push(e);
    }
    for (const [group, emojis] of [...byGroup].sort((a, b) => a[0] - b[0])) {
      out.push({ title: t(GROUPS[group] ?? 'picker.group8'), emojis });
    }
    return out;
  }, [catalog, recent]);

  const first = results ? results[0] : sections[0]?.emojis[0];
  return (
    <div
      class="reaction-picker"
      ref={ref}
      role="dialog"
      aria-label={t('picker.label')}
      style={{ left: `${pos.left}px`, top: `${pos.top}px` }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <input
        ref={input}
        type="search"
        class="picker-search"
        placeholder={t('picker.search')}
        aria-label={t('picker.search')}
        value={query}
        onInput={(e) => setQuery(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            if (first) onPick(first.emoji);
          }
        }}
      />
      <div class="picker-body">
        {failed ? (
          <p class="picker-note" role="alert">
            {t('picker.failed')}
          </p>
        ) : !catalog ? (
          <p class="picker-note" role="status">
            <span class="spinner" aria-hidden="true" /> {t('picker.loading')}
          </p>
        ) : results ? (
          results.length ? (
            <div class="picker-grid" role="group" aria-label={t('picker.results')}>
              {results.map((e) => (
                <Cell key={e.emoji} e={e} onPick={onPick} />
              ))}
            </div>
          ) : (
            <p class="picker-note">{t('picker.none')}</p>
          )
        ) : (
          sections.map((s) => (
            <section key={s.title} class="picker-section" aria-label={s.title}>
              <h3 class="picker-heading">{s.title}</h3>
              <div class="picker-grid">
                {s.emojis.map((e) => (
                  <Cell key={e.emoji} e={e} onPick={onPick} />
                ))}
              </div>
            </section>
          ))
        )}
      </div>
    </div>
  );
}
