/**
 * Moderation views, loaded the first time one opens (see `useView` in Dialogs.tsx): deleting and reporting a
 * message, acting on a member (role, mute, kick, ban), a room's settings with its join requests, bans and audit
 * log, and the reports queue. The server checks every action; these views only offer what the user may do.
 */
import { useEffect, useState } from 'preact/hooks';
import type { JoinRequest, ReportAction, RoomBanInfo } from '../../../src/client/api.js';
import type { MemberRole, Report } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { tm } from '../i18n/mod.js';
import { errorText } from '../state/errors.js';
import { durationText, formatFull, formatTime, spacedAfterWord, untilText } from '../state/format.js';
import { can, grantable, isMuted, outranks } from '../state/permissions.js';
import { inertText } from './Inert.js';
import { Avatar } from './Avatar.js';
import { AvatarEdit } from './AvatarEdit.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';
import { RoomIntegrations } from './Integrations.js';
import { ErrorLine, Modal } from './kit.js';
import { AUDIT_PAGE, AuditList, DurationSelect, Tabs, useAction, useNames, useRoomName } from './ModShared.js';

/** The text of a message in a room's loaded view, for context in a dialog. */
function useExcerpt(roomId: string, seq: number): { senderId: string; body: string } | undefined {
  return useApp((s) => s.views[roomId]?.messages.find((m) => m.seq === seq));
}

function Quote({ text }: { text: string }) {
  // Plain text on purpose: a report is evidence, shown exactly as written (bidi controls visible, not acting).
  return (
    <blockquote class="mod-quote" dir="auto">
      {inertText(text)}
    </blockquote>
  );
}

export function DeleteMessageDialog({ roomId, seq, onClose }: { roomId: string; seq: number; onClose: () => void }) {
  const chat = useChat();
  const msg = useExcerpt(roomId, seq);
  const meId = useApp((s) => s.me?.id);
  const name = useNames([msg?.senderId]);
  const { busy, run, Note } = useAction();
  return (
    <Modal title={tm('mod.deleteTitle')} onClose={onClose}>
      <p>
        {msg && msg.senderId !== meId ? tm('mod.deleteBodyOther', { name: name(msg.senderId) }) : tm('mod.deleteBody')}
      </p>
      {msg && <Quote text={msg.body} />}
      <Note />
      <div class="dialog-foot">
        <button type="button" class="button" onClick={onClose}>
          {t('common.cancel')}
        </button>
        <button
          type="button"
          class="button danger"
          disabled={busy}
          onClick={() => void run(() => chat.api.deleteMessage(roomId, seq)).then((ok) => ok && onClose())}
        >
          <Icon name="trash" size={16} />
          {tm('mod.deleteSubmit')}
        </button>
      </div>
    </Modal>
  );
}

const REPORT_REASONS = ['spam', 'harassment', 'hate', 'other'] as const;

export function ReportDialog({ roomId, seq, onClose }: { roomId: string; seq: number; onClose: () => void }) {
  const chat = useChat();
  const msg = useExcerpt(roomId, seq);
  const name = useNames([msg?.senderId]);
  const [kind, setKind] = useState<(typeof REPORT_REASONS)[number]>('spam');
  const [details, setDetails] = useState('');
  const [sent, setSent] = useState(false);
  const { busy, run, Note } = useAction();
  const reason = [tm(`report.reason.${kind}`), details.trim()].filter(Boolean).join(': ');
  return (
    <Modal title={tm('report.title')} onClose={onClose}>
      {sent ? (
        <>
          <p class="form-success" role="status">
            <Icon name="check" size={16} /> {tm('report.sent')}
          </p>
          <div class="dialog-foot">
            <button type="button" class="button primary" onClick={onClose}>
              {t('common.close')}
            </button>
          </div>
        </>
      ) : (
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => chat.api.report({ roomId, seq, reason: reason.slice(0, 500) })).then(
              (ok) => ok && setSent(true),
            );
          }}
        >
          {msg && (
            <div>
              <span class="muted">{tm('report.about', { name: name(msg.senderId) })}</span>
              <Quote text={msg.body} />
            </div>
          )}
          <fieldset class="choice-group">
            <legend>{tm('report.why')}</legend>
            {REPORT_REASONS.map((r) => (
              <label key={r} class={`choice compact${kind === r ? ' selected' : ''}`}>
                <input type="radio" name="reason" checked={kind === r} onChange={() => setKind(r)} />
                <span>{tm(`report.reason.${r}`)}</span>
              </label>
            ))}
          </fieldset>
          <label class="field">
            <span>
              {tm('report.details')}
              <span class="muted">{spacedAfterWord(t('common.optional'))}</span>
            </span>
            <textarea rows={3} maxLength={400} value={details} onInput={(e) => setDetails(e.currentTarget.value)} />
          </label>
          <Note />
          <div class="dialog-foot">
            <button type="button" class="button" onClick={onClose}>
              {t('common.cancel')}
            </button>
            <button type="submit" class="button primary" disabled={busy}>
              <Icon name="flag" size={16} />
              {tm('report.submit')}
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}

export function MemberDialog({ roomId, userId, onClose }: { roomId: string; userId: string; onClose: () => void }) {
  const chat = useChat();
  const me = useApp((s) => s.me);
  const room = useApp((s) => s.rooms[roomId]);
  const member = useApp((s) => s.members[roomId]?.find((m) => m.user.id === userId));
  const [role, setRole] = useState<MemberRole>(member?.role ?? 'member');
  const [muteFor, setMuteFor] = useState<number | undefined>(3600);
  const [banFor, setBanFor] = useState<number | undefined>(86_400);
  const [reason, setReason] = useState('');
  const { busy, run, Note } = useAction();
  if (!room || !member) {
    return (
      <Modal title={tm('mod.memberTitle')} onClose={onClose}>
        <p class="empty-hint">{tm('mod.notMember')}</p>
      </Modal>
    );
  }
  const name = member.user.displayName || member.user.username;
  const roles =
    can('setRole', room.kind, room.myRole, me) && outranks(room.myRole, me, member.role)
      ? grantable(room.myRole, me)
      : [];
  const muted = isMuted(member);
  const why = reason.trim() ? { reason: reason.trim() } : {};
  const sanction = (sec: number | undefined) => ({ ...(sec !== undefined ? { durationSec: sec } : {}), ...why });
  return (
    <Modal title={tm('mod.memberTitle')} onClose={onClose}>
      <div class="mod-member">
        <Avatar id={member.user.id} name={name} size={40} url={member.user.avatarUrl ?? null} />
        <span class="mod-row-text">
          <strong>{name}</strong>
          <span class="muted">
            @{member.user.username} · {t(`roles.${member.role}`)}
          </span>
          {muted && member.mutedUntil && (
            <span class="member-muted">
              <Icon name="mute" size={12} /> {tm('mod.mutedUntil', { until: untilText(member.mutedUntil) })}
            </span>
          )}
        </span>
      </div>
      <div class="form">
        {roles.length > 0 && (
          <div class="inline-form">
            <label class="field grow">
              <span>{tm('mod.role')}</span>
              <select value={role} onChange={(e) => setRole(e.currentTarget.value as MemberRole)}>
                {roles.map((r) => (
                  <option key={r} value={r}>
                    {t(`roles.${r}`)}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              class="button"
              disabled={busy || role === member.role}
              onClick={() => void run(() => chat.api.setRole(roomId, userId, role), tm('mod.roleChanged'))}
            >
              {tm('mod.setRole')}
            </button>
          </div>
        )}
        <label class="field">
          <span>
            {tm('mod.reason')}
            <span class="muted">{spacedAfterWord(t('common.optional'))}</span>
          </span>
          <input value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        {muted ? (
          <div class="inline-form">
            <span class="grow muted">{tm('mod.isMuted')}</span>
            <button
              type="button"
              class="button"
              disabled={busy}
              onClick={() => void run(() => chat.api.unmute(roomId, userId), tm('mod.unmuted', { name }))}
            >
              {tm('mod.unmute')}
            </button>
          </div>
        ) : (
          <div class="inline-form">
            <label class="field grow">
              <span>{tm('mod.muteFor')}</span>
              <DurationSelect value={muteFor} onChange={setMuteFor} label={tm('mod.muteFor')} />
            </label>
            <button
              type="button"
              class="button"
              disabled={busy}
              onClick={() =>
                void run(() => chat.api.mute(roomId, userId, sanction(muteFor)), tm('mod.mutedDone', { name }))
              }
            >
              <Icon name="mute" size={16} />
              {tm('mod.mute')}
            </button>
          </div>
        )}
        <div class="inline-form">
          <label class="field grow">
            <span>{tm('mod.banFor')}</span>
            <DurationSelect value={banFor} onChange={setBanFor} label={tm('mod.banFor')} />
          </label>
          <button
            type="button"
            class="button danger"
            disabled={busy}
            onClick={() =>
              void run(() => chat.api.ban(roomId, userId, sanction(banFor))).then((ok) => {
                if (!ok) return;
                chat.ui.toast(tm('mod.bannedDone', { name }), 'success');
                onClose();
              })
            }
          >
            <Icon name="ban" size={16} />
            {tm('mod.ban')}
          </button>
        </div>
        <Note />
        <div class="dialog-foot">
          <button
            type="button"
            class="button danger-outline"
            disabled={busy}
            onClick={() =>
              void run(() => chat.api.kick(roomId, userId, reason.trim() || undefined)).then((ok) => {
                if (!ok) return;
                chat.ui.toast(tm('mod.kickedDone', { name }), 'success');
                onClose();
              })
            }
          >
            {tm('mod.kick')}
          </button>
          <button type="button" class="button" onClick={onClose}>
            {t('common.close')}
          </button>
        </div>
      </div>
    </Modal>
  );
}

const SLOW_MODES = [0, 5, 10, 30, 60, 120, 300, 600, 900, 3600, 21_600];

type SettingsTab = 'settings' | 'requests' | 'bans' | 'audit' | 'integrations';

export function RoomSettingsDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const chat = useChat();
  const me = useApp((s) => s.me);
  const room = useApp((s) => s.rooms[roomId]);
  const admin = room ? can('update', room.kind, room.myRole, me) : false;
  const tabs: { id: SettingsTab; text: string }[] = [
    ...(admin ? [{ id: 'settings' as const, text: tm('roomSettings.tab.settings') }] : []),
    { id: 'requests', text: tm('roomSettings.tab.requests') },
    { id: 'bans', text: tm('roomSettings.tab.bans') },
    ...(room && can('viewAudit', room.kind, room.myRole, me)
      ? [{ id: 'audit' as const, text: tm('roomSettings.tab.audit') }]
      : []),
    ...(admin ? [{ id: 'integrations' as const, text: tm('roomSettings.tab.integrations') }] : []),
  ];
  const [tab, setTab] = useState<SettingsTab>(tabs[0]?.id ?? 'requests');
  if (!room) return null;
  return (
    <Modal title={tm('roomSettings.title', { room: room.name })} onClose={onClose} wide>
      <Tabs tabs={tabs} active={tab} onPick={setTab} label={tm('roomSettings.title', { room: room.name })} />
      {tab === 'settings' && (
        <AvatarEdit
          id={room.id}
          name={room.name}
          url={room.avatarUrl}
          onSet={(file) => chat.rooms.setAvatar(roomId, file)}
        />
      )}
      {tab === 'settings' && <SettingsForm roomId={roomId} />}
      {tab === 'requests' && <JoinRequests roomId={roomId} />}
      {tab === 'bans' && <Bans roomId={roomId} />}
      {tab === 'audit' && (
        <AuditList
          load={(before) => chat.api.roomAudit(roomId, { limit: AUDIT_PAGE, ...(before ? { before } : {}) })}
        />
      )}
      {tab === 'integrations' && <RoomIntegrations roomId={roomId} />}
    </Modal>
  );
}

function SettingsForm({ roomId }: { roomId: string }) {
  const chat = useChat();
  const room = useApp((s) => s.rooms[roomId]);
  const [name, setName] = useState(room?.name ?? '');
  const [topic, setTopic] = useState(room?.topic ?? '');
  const [readOnly, setReadOnly] = useState(room?.settings?.readOnly ?? false);
  const [slow, setSlow] = useState(room?.settings?.slowModeSeconds ?? 0);
  const [approval, setApproval] = useState(room?.settings?.joinApproval ?? false);
  const [previews, setPreviews] = useState(room?.settings?.linkPreviews ?? true);
  const { busy, run, Note } = useAction();
  if (!room) return null;
  const cur = room.settings;
  const slowModes = SLOW_MODES.includes(cur?.slowModeSeconds ?? 0)
    ? SLOW_MODES
    : [...SLOW_MODES, cur?.slowModeSeconds ?? 0].sort((a, b) => a - b);
  return (
    <form
      class="form"
      onSubmit={(e) => {
        e.preventDefault();
        const settings = {
          ...(readOnly !== cur?.readOnly ? { readOnly } : {}),
          ...(slow !== cur?.slowModeSeconds ? { slowModeSeconds: slow } : {}),
          ...(approval !== cur?.joinApproval && room.kind === 'public' ? { joinApproval: approval } : {}),
          ...(previews !== (cur?.linkPreviews ?? true) ? { linkPreviews: previews } : {}),
        };
        const patch = {
          ...(name.trim() && name.trim() !== room.name ? { name: name.trim() } : {}),
          ...(topic !== room.topic ? { topic } : {}),
          ...(Object.keys(settings).length ? { settings } : {}),
        };
        if (!Object.keys(patch).length) return;
        void run(() => chat.api.updateRoom(roomId, patch), t('settings.saved'));
      }}
    >
      <label class="field">
        <span>{t('create.name')}</span>
        <input value={name} maxLength={80} required onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>{t('create.topic')}</span>
        <input value={topic} maxLength={500} onInput={(e) => setTopic(e.currentTarget.value)} />
      </label>
      <label class="check">
        <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.currentTarget.checked)} />
        <span>
          <strong>{tm('roomSettings.readOnly')}</strong>
          <span class="muted">{tm('roomSettings.readOnlyHint')}</span>
        </span>
      </label>
      <label class="field">
        <span>{tm('roomSettings.slowMode')}</span>
        <select value={String(slow)} onChange={(e) => setSlow(Number(e.currentTarget.value))}>
          {slowModes.map((s) => (
            <option key={s} value={String(s)}>
              {s === 0 ? tm('roomSettings.slowOff') : durationText(s)}
            </option>
          ))}
        </select>
        <small class="muted">{tm('roomSettings.slowModeHint')}</small>
      </label>
      {room.kind === 'public' && (
        <label class="check">
          <input type="checkbox" checked={approval} onChange={(e) => setApproval(e.currentTarget.checked)} />
          <span>
            <strong>{tm('roomSettings.approval')}</strong>
            <span class="muted">{tm('roomSettings.approvalHint')}</span>
          </span>
        </label>
      )}
      <label class="check">
        <input type="checkbox" checked={previews} onChange={(e) => setPreviews(e.currentTarget.checked)} />
        <span>
          <strong>{tm('roomSettings.linkPreviews')}</strong>
          <span class="muted">{tm('roomSettings.linkPreviewsHint')}</span>
        </span>
      </label>
      <Note />
      <div class="dialog-foot">
        <button type="submit" class="button primary" disabled={busy}>
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}

function JoinRequests({ roomId }: { roomId: string }) {
  const chat = useChat();
  const [list, setList] = useState<JoinRequest[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { busy, run, Note } = useAction();
  useEffect(() => {
    chat.api.joinRequests(roomId).then(setList, (e: unknown) => setError(errorText(e)));
  }, [roomId]);
  const answer = (r: JoinRequest, approve: boolean) =>
    void run(
      () => (approve ? chat.api.approveJoin(roomId, r.user.id) : chat.api.rejectJoin(roomId, r.user.id)),
      tm(approve ? 'requests.approved' : 'requests.rejected', { name: r.user.displayName || r.user.username }),
    ).then((ok) => ok && setList((l) => (l ?? []).filter((x) => x.user.id !== r.user.id)));
  return (
    <div>
      <ErrorLine error={error} />
      <Note />
      {list && !list.length && <p class="empty-hint">{tm('requests.none')}</p>}
      <ul class="mod-list">
        {list?.map((r) => {
          const name = r.user.displayName || r.user.username;
          return (
            <li key={r.user.id} class="mod-row">
              <Avatar id={r.user.id} name={name} size={32} url={r.user.avatarUrl ?? null} />
              <span class="mod-row-text">
                <strong>{name}</strong>
                <span class="mod-row-meta">
                  @{r.user.username} · {formatFull(r.createdAt)}
                </span>
              </span>
              <button
                type="button"
                class="button primary small"
                disabled={busy}
                aria-label={tm('requests.approveName', { name })}
                onClick={() => answer(r, true)}
              >
                {tm('requests.approve')}
              </button>
              <button
                type="button"
                class="button small"
                disabled={busy}
                aria-label={tm('requests.rejectName', { name })}
                onClick={() => answer(r, false)}
              >
                {tm('requests.reject')}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Bans({ roomId }: { roomId: string }) {
  const chat = useChat();
  const [list, setList] = useState<RoomBanInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { busy, run, Note } = useAction();
  useEffect(() => {
    chat.api.bans(roomId).then(setList, (e: unknown) => setError(errorText(e)));
  }, [roomId]);
  return (
    <div>
      <ErrorLine error={error} />
      <Note />
      {list && !list.length && <p class="empty-hint">{tm('bans.none')}</p>}
      <ul class="mod-list">
        {list?.map((b) => {
          const name = b.user.displayName || b.user.username;
          return (
            <li key={b.user.id} class="mod-row">
              <Avatar id={b.user.id} name={name} size={32} url={b.user.avatarUrl ?? null} />
              <span class="mod-row-text">
                <strong>{name}</strong>
                <span class="mod-row-meta">
                  {untilText(b.until)}
                  {b.reason ? ` · ${b.reason}` : ''}
                </span>
              </span>
              <button
                type="button"
                class="button small"
                disabled={busy}
                aria-label={tm('bans.unbanName', { name })}
                onClick={() =>
                  void run(() => chat.api.unban(roomId, b.user.id), tm('bans.unbanned', { name })).then(
                    (ok) => ok && setList((l) => (l ?? []).filter((x) => x.user.id !== b.user.id)),
                  )
                }
              >
                {tm('bans.unban')}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

const REPORT_PAGE = 50;

/** The moderation queue: reports about the rooms you moderate (every report, for server admins). */
export function ReportsDialog({ onClose }: { onClose: () => void }) {
  const chat = useChat();
  const [status, setStatus] = useState<'open' | 'resolved'>('open');
  const [reports, setReports] = useState<Report[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const load = (before?: string) =>
    chat.api.reports({ status, limit: REPORT_PAGE, ...(before ? { before } : {}) }).then(
      (r) => {
        chat.people.knowUsers(r.users);
        setReports((cur) => [...(before ? (cur ?? []) : []), ...r.reports]);
        setMore(r.reports.length === REPORT_PAGE);
        setError(null);
      },
      (e: unknown) => setError(errorText(e)),
    );
  useEffect(() => {
    setReports(null);
    void load();
  }, [status]);
  return (
    <Modal title={tm('reports.title')} onClose={onClose} wide>
      <Tabs
        tabs={[
          { id: 'open', text: tm('reports.open') },
          { id: 'resolved', text: tm('reports.resolved') },
        ]}
        active={status}
        onPick={setStatus}
        label={tm('reports.title')}
      />
      <ErrorLine error={error} />
      {reports === null && !error && (
        <div class="loading-row">
          <span class="spinner" aria-hidden="true" />
        </div>
      )}
      {reports && !reports.length && (
        <p class="empty-hint">{tm(status === 'open' ? 'reports.none' : 'reports.noneResolved')}</p>
      )}
      <ul class="mod-list reports">
        {reports?.map((r) => (
          <ReportCard
            key={r.id}
            report={r}
            onResolved={(done) => setReports((cur) => (cur ?? []).map((x) => (x.id === done.id ? done : x)))}
          />
        ))}
      </ul>
      {more && reports && (
        <button type="button" class="button small" onClick={() => void load(reports[reports.length - 1]?.id)}>
          {tm('common.loadMore')}
        </button>
      )}
    </Modal>
  );
}

function ReportCard({ report: r, onResolved }: { report: Report; onResolved: (r: Report) => void }) {
  const chat = useChat();
  const room = useRoomName(r.roomId);
  const name = useNames([r.reporterId, r.targetUserId, r.resolvedBy]);
  const [duration, setDuration] = useState<number | undefined>(86_400);
  const { busy, run, Note } = useAction();
  const resolve = (action: ReportAction, withDuration = false) =>
    void run(async () => {
      const done = await chat.api.resolveReport(r.id, action, withDuration ? duration : undefined);
      onResolved(done);
    });
  return (
    <li class={`report-card status-${r.status}`} data-report={r.id}>
      <div class="report-head">
        <Icon name="flag" size={14} />
        <span class="grow">
          {tm('reports.line', { reporter: name(r.reporterId), target: name(r.targetUserId) })}
          {room && <span class="muted"> · #{room}</span>}
        </span>
        <time class="muted" dateTime={r.createdAt} title={formatFull(r.createdAt)}>
          {formatTime(r.createdAt)}
        </time>
      </div>
      <p class="report-reason">{r.reason}</p>
      {r.excerpt !== null ? <Quote text={r.excerpt} /> : <p class="muted">{tm('reports.userReport')}</p>}
      {r.status === 'open' ? (
        <div class="report-actions">
          <button type="button" class="button small" disabled={busy} onClick={() => resolve('dismiss')}>
            {tm('reports.dismiss')}
          </button>
          {r.seq !== null && (
            <button type="button" class="button small danger-outline" disabled={busy} onClick={() => resolve('delete')}>
              <Icon name="trash" size={14} />
              {tm('reports.delete')}
            </button>
          )}
          <DurationSelect value={duration} onChange={setDuration} label={tm('reports.duration')} />
          {r.roomId !== null && (
            <button type="button" class="button small" disabled={busy} onClick={() => resolve('mute', true)}>
              <Icon name="mute" size={14} />
              {tm('reports.mute')}
            </button>
          )}
          <button type="button" class="button small danger" disabled={busy} onClick={() => resolve('ban', true)}>
            <Icon name="ban" size={14} />
            {tm('reports.ban')}
          </button>
        </div>
      ) : (
        <p class="report-resolution">
          <Icon name="check" size={14} />{' '}
          {tm('reports.resolvedBy', {
            action: tm(`reports.resolution.${r.resolution ?? 'dismissed'}`),
            name: name(r.resolvedBy),
          })}
        </p>
      )}
      <Note />
    </li>
  );
}
