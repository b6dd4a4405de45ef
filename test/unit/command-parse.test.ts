import { describe, expect, it } from 'vitest';
import { ArgsError, parseCommandText, parseDuration, splitArgs, tokenizeArgs } from '../../src/protocol/commands.js';

/** The one parser of composer text shared by the server, the web client and the CLI (issue 16). */
describe('slash command parsing', () => {
  it('tells messages, escaped text, commands and invalid names apart', () => {
    expect(parseCommandText('hello /me')).toEqual({ kind: 'message', body: 'hello /me' });
    expect(parseCommandText('//me waves')).toEqual({ kind: 'message', body: '/me waves' });
    expect(parseCommandText('//')).toEqual({ kind: 'message', body: '/' });
    expect(parseCommandText('/ME  waves  a lot ')).toEqual({ kind: 'command', name: 'me', args: 'waves  a lot' });
    expect(parseCommandText('/help')).toEqual({ kind: 'command', name: 'help', args: '' });
    expect(parseCommandText('/topic\nline two')).toEqual({ kind: 'command', name: 'topic', args: 'line two' });
    expect(parseCommandText('/deploy-prod_2 x')).toEqual({ kind: 'command', name: 'deploy-prod_2', args: 'x' });
    for (const bad of ['/', '/ me', '/1x', '/é', '/a.b', `/${'a'.repeat(33)}`]) {
      expect(parseCommandText(bad).kind, bad).toBe('invalid');
    }
    expect(parseCommandText(`/${'a'.repeat(32)}`).kind).toBe('command');
  });

  it('splits arguments on whitespace with quotes grouping and escapes', () => {
    expect(tokenizeArgs(' a  "b c" \'d "e"\' "" "x\\"y" ').map((t) => [t.value, t.quoted])).toEqual([
      ['a', false],
      ['b c', true],
      ['d "e"', true],
      ['', true],
      ['x"y', true],
    ]);
    expect(() => tokenizeArgs('@bob "open')).toThrow(ArgsError);
    expect(tokenizeArgs('')).toEqual([]);
  });

  it('takes the rest after the first words as written, or a single quoted word unquoted', () => {
    expect(splitArgs('@bob 10m  too  loud ', 2)).toMatchObject({ rest: 'too  loud', restQuoted: false });
    expect(splitArgs('@bob 10m "too loud"', 2)).toMatchObject({ rest: 'too loud', restQuoted: true });
    expect(splitArgs('@bob "a" "b"', 1)).toMatchObject({ rest: '"a" "b"', restQuoted: false });
    expect(splitArgs('""', 0)).toMatchObject({ rest: '', restQuoted: true });
    expect(splitArgs('@bob', 2).words.map((w) => w.value)).toEqual(['@bob']);
  });

  it('reads durations as seconds or with a unit', () => {
    expect(['90', '30s', '10m', '2H', '7d', '1w'].map(parseDuration)).toEqual([90, 30, 600, 7200, 604_800, 604_800]);
    for (const bad of ['', 'm', '1.5h', '-1', '10y', 'soon', '1234567890']) expect(parseDuration(bad), bad).toBeNull();
  });
});
