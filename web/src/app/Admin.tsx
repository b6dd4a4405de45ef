/**
 * Server administration, loaded the first time it opens (server admins only; the server checks): the user
 * directory with deactivate / reactivate, sign-out everywhere, admin rights and server bans, the audit log, and
 * the operations dashboard.
 */
import { ResetLinkButton } from './Keep.js';
import { useState } from 'preact/hooks';
import type { AdminUser } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { tm } from '../i18n/mod.js';
import { untilText } from '../state/format.js';
import { Avatar } from './Avatar.js';
import { useApp, useChat } from './context.js';
import { ErrorLine, Modal, SearchField, useSearch } from './kit.js';
import { AUDIT_PAGE, AuditList, DurationSelect, Tabs, useAction } from './ModShared.js';
import { ServerIntegrations } from './Integrations.js';
import { Operations } from './Operations.js';

const USERS_PAGE = 50;
/** The far-future end the server uses for "until lifted". */
const FOREVER_ISO = '9999-12-31T23:59:59.000Z';

export function AdminDialog({ onClose }: { onClose: () => void }) {
  const chat = useChat();
  const [tab, setTab] = useState<'users' | 'audit' | 'operations' | 'integrations'>('users');
  return (
    <Modal title={tm('admin.title')} onClose={onClose} wide>
      <Tabs
        tabs={[
          { id: 'users', text: tm('admin.users') },
          { id: 'audit', text: tm('admin.audit') },
          { id: 'operations', text: tm('admin.operations') },
          { id: 'integrations', text: tm('admin.integrations') },
        ]}
        active={tab}
        onPick={setTab}
        label={tm('admin.title')}
      />
      {tab === 'users' && <Users />}
      {tab === 'audit' && (
        <AuditList load={(before) => chat.api.audit({ limit: AUDIT_PAGE, ...(before ? { before } : {}) })} />
      )}
      {tab === 'operations' && <Operations />}
      {tab === 'integrations' && <ServerIntegrations />}
    </Modal>
  );
}

function Users() {
  const chat = useChat();
  const page = (q: string, cursor?: string) =>
    chat.api.adminUsers({ q, limit: USERS_PAGE, ...(cursor ? { cursor } : {}) });
  const search = useSearch((q) => page(q));
  const { result, error, setResult } = search;
  const users = result?.users;
  const cursor = result?.nextCursor;
  const loadMore = (after: string) =>
    search.more(page(search.query, after), (cur, got) => ({ ...got, users: [...(cur?.users ?? []), ...got.users] }));
  const update = (u: AdminUser) =>
    setResult((cur) => cur && { ...cur, users: cur.users.map((x) => (x.id === u.id ? u : x)) });
  return (
    <div>
      <SearchField search={search} label={tm('admin.search')} />
      <ErrorLine error={error} />
      {users && !users.length && <p class="empty-hint">{t('people.none')}</p>}
      <ul class="mod-list">
        {users?.map((u) => (
          <UserRow key={u.id} user={u} onChange={update} />
        ))}
      </ul>
      {cursor && (
        <button type="button" class="button small" onClick={() => loadMore(cursor)}>
          {tm('common.loadMore')}
        </button>
      )}
    </div>
  );
}

function UserRow({ user: u, onChange }: { user: AdminUser; onChange: (u: AdminUser) => void }) {
  const chat = useChat();
  const meId = useApp((s) => s.me?.id);
  const [banFor, setBanFor] = useState<number | undefined>(86_400);
  const { busy, note, run, Note } = useAction();
  const name = u.displayName || u.username;
  const self = u.id === meId;
  const banned = u.bannedUntil !== null && Date.parse(u.bannedUntil) > Date.now();
  const act = (p: () => Promise<unknown>, next: Partial<AdminUser>, ok: string) =>
    void run(p, ok).then((done) => done && onChange({ ...u, ...next }));
  return (
    <li class="mod-row admin-user" data-user={u.username}>
      <Avatar id={u.id} name={name} size={32} url={u.avatarUrl ?? null} />
      <span class="mod-row-text">
        <span>
          <strong>{name}</strong> <span class="muted">@{u.username}</span>
          {u.role === 'admin' && <span class="badge">{t('people.admin')}</span>}
          {u.deactivated && <span class="badge badge-danger">{tm('admin.deactivated')}</span>}
          {banned && u.bannedUntil && (
            <span class="badge badge-danger" title={untilText(u.bannedUntil)}>
              {tm('admin.banned')}
            </span>
          )}
        </span>
        {banned && u.bannedUntil && <span class="mod-row-meta">{untilText(u.bannedUntil)}</span>}
      </span>
      {!self && (
        <span class="admin-actions">
          <button
            type="button"
            class="button small"
            disabled={busy}
            onClick={() =>
              act(
                () => chat.api.setServerRole(u.id, u.role === 'admin' ? 'user' : 'admin'),
                { role: u.role === 'admin' ? 'user' : 'admin' },
                tm(u.role === 'admin' ? 'admin.demoted' : 'admin.promoted', { name }),
              )
            }
          >
            {u.role === 'admin' ? tm('admin.demote') : tm('admin.promote')}
          </button>
          <button
            type="button"
            class="button small"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                const n = await chat.api.forceLogout(u.id);
                chat.ui.toast(tm('admin.loggedOut', { name, count: n }), 'success');
              })
            }
          >
            {tm('admin.logout')}
          </button>
          <ResetLinkButton userId={u.id} name={name} />
          {u.deactivated ? (
            <button
              type="button"
              class="button small"
              disabled={busy}
              onClick={() =>
                act(() => chat.api.reactivateUser(u.id), { deactivated: false }, tm('admin.reactivated', { name }))
              }
            >
              {tm('admin.reactivate')}
            </button>
          ) : (
            <button
              type="button"
              class="button small danger-outline"
              disabled={busy}
              onClick={() =>
                act(() => chat.api.deactivateUser(u.id), { deactivated: true }, tm('admin.deactivatedDone', { name }))
              }
            >
              {tm('admin.deactivate')}
            </button>
          )}
          {banned ? (
            <button
              type="button"
              class="button small"
              disabled={busy}
              onClick={() =>
                act(() => chat.api.serverUnban(u.id), { bannedUntil: null }, tm('admin.unbanned', { name }))
              }
            >
              {tm('admin.unban')}
            </button>
          ) : (
            <>
              <DurationSelect value={banFor} onChange={setBanFor} label={tm('admin.banFor', { name })} />
              <button
                type="button"
                class="button small danger"
                disabled={busy}
                onClick={() =>
                  act(
                    () => chat.api.serverBan(u.id, banFor !== undefined ? { durationSec: banFor } : {}),
                    {
                      bannedUntil:
                        banFor !== undefined ? new Date(Date.now() + banFor * 1000).toISOString() : FOREVER_ISO,
                    },
                    tm('admin.bannedDone', { name }),
                  )
                }
              >
                {tm('admin.ban')}
              </button>
            </>
          )}
        </span>
      )}
      {note && (
        <div class="mod-row-note">
          <Note />
        </div>
      )}
    </li>
  );
}
