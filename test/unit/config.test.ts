import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  contentFilterFrom,
  faqEntriesFrom,
  flagOf,
  loadConfig,
  SETTINGS,
} from '../../src/server/config.js';

describe('configuration', () => {
  it('uses defaults, then env vars, then CLI flags (flags win)', () => {
    expect(loadConfig([], {}).port).toBe(3000);
    expect(loadConfig([], { PORT: '4000' }).port).toBe(4000);
    expect(loadConfig(['--port', '5000'], { PORT: '4000' }).port).toBe(5000);
    expect(loadConfig(['--first-user-is-admin', 'false'], {}).firstUserIsAdmin).toBe(false);
    expect(loadConfig([], { MAX_FRAME_BYTES: '2048' }).maxFrameBytes).toBe(2048);
  });

  it('names the setting in one line when a value is bad', () => {
    expect(() => loadConfig([], { PORT: 'abc' })).toThrow(ConfigError);
    expect(() => loadConfig([], { PORT: 'abc' })).toThrow(/^Invalid setting PORT \(--port\) = "abc"/);
    expect(() => loadConfig(['--heartbeat-ms', '5'], {})).toThrow(/HEARTBEAT_MS \(--heartbeat-ms\)/);
    expect(() => loadConfig(['--no-such-flag', '1'], {})).toThrow(/Invalid command line/);
    expect(() => loadConfig([], { LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('a bad setting stops the server with exit code 2 and a single line', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/server/main.ts', '--port', '99999'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^relaychat: Invalid setting PORT \(--port\)/)]);
  });

  it('abuse-control settings: defaults, the lockout ordering check, and the filter file', () => {
    const d = loadConfig([], {});
    expect([d.floodRepeats, d.floodWindowMs, d.maxMentions, d.reportsPerHour]).toEqual([3, 30000, 10, 20]);
    expect([d.loginLockoutFailures, d.loginLockoutBaseMs, d.loginLockoutMaxMs]).toEqual([5, 30000, 900000]);
    expect(contentFilterFrom(d).size).toBe(0);
    expect(() => loadConfig([], { LOGIN_LOCKOUT_BASE_MS: '60000', LOGIN_LOCKOUT_MAX_MS: '1000' })).toThrow(
      /^Invalid setting LOGIN_LOCKOUT_MAX_MS .*must be at least LOGIN_LOCKOUT_BASE_MS/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'relaychat-config-'));
    try {
      const file = join(dir, 'words.txt');
      writeFileSync(file, '# words\nblock: evil\nmask: darn\n');
      const c = loadConfig(['--filter-file', file], { FILTER_BLOCK: 'bad, worse', FILTER_FLAG: 'spam' });
      expect(contentFilterFrom(c).check('bad evil darn spam')).toEqual({
        blocked: ['bad', 'evil'],
        text: 'bad evil **** spam',
        flagged: ['spam'],
      });
      writeFileSync(file, 'block: ok\nforbid: x\n');
      expect(() => loadConfig(['--filter-file', file], {})).toThrow(/^Invalid setting FILTER_FILE .*line 2:/);
      expect(() => loadConfig(['--filter-file', join(dir, 'missing.txt')], {})).toThrow(
        /^Invalid setting FILTER_FILE .*ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the assistant FAQ file: Markdown or YAML by its name; a broken one stops the start naming the setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaychat-config-'));
    try {
      const yml = join(dir, 'faq.yml');
      writeFileSync(yml, '- question: Open on Sunday?\n  answer: No.\n');
      expect(faqEntriesFrom(loadConfig(['--assistant-faq-file', yml], {}))).toEqual([
        { question: 'Open on Sunday?', alternatives: [], answer: 'No.' },
      ]);
      writeFileSync(yml, '- question: Open on Sunday?\n');
      expect(() => loadConfig(['--assistant-faq-file', yml], {})).toThrow(
        /^Invalid setting ASSISTANT_FAQ_FILE .*entry 1: the question "Open on Sunday\?" has no answer/,
      );
      const md = join(dir, 'faq.md');
      writeFileSync(md, '# Title only\n');
      expect(() => loadConfig(['--assistant-faq-file', md], {})).toThrow(
        /^Invalid setting ASSISTANT_FAQ_FILE .*no questions/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the README documents every setting with its env var and flag', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const [key, s] of Object.entries(SETTINGS)) {
      expect(readme, key).toContain(`\`${s.env}\``);
      expect(readme, key).toContain(`\`${flagOf(key)}\``);
    }
  });
});
