import { CliError } from './errors.js';

/**
 * Reads a line from the terminal without echoing it. Raw mode gives us every key: Enter ends, Backspace and
 * Ctrl-U edit, Ctrl-C / Ctrl-D (on an empty line) cancel, escape sequences (arrow keys) are ignored.
 */
export function readHidden(prompt: string, input = process.stdin, output = process.stderr): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(prompt);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.resume();
    let value = '';
    const finish = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && value === '')) {
          return finish(new CliError('cancelled', 'cancelled'));
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch === '\u0015') value = '';
        else if (ch === '\u001b')
          return; // the rest of the chunk is the escape sequence
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

export interface PasswordSource {
  flag: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Ask twice (new passwords), so a typo does not lock the user out. */
  confirm: boolean;
}

/** The password from --password, else $CHAT_PASSWORD, else a hidden prompt if stdin is a terminal. */
export async function obtainPassword({ flag, env, confirm }: PasswordSource): Promise<string> {
  if (flag !== undefined) return flag;
  if (env.CHAT_PASSWORD) return env.CHAT_PASSWORD;
  if (!process.stdin.isTTY) {
    throw new CliError(
      'no_password',
      'no password given and stdin is not a terminal: pass --password or set CHAT_PASSWORD',
    );
  }
  const password = await readHidden('Password: ');
  if (confirm && (await readHidden('Repeat password: ')) !== password) {
    throw new CliError('password_mismatch', 'the passwords do not match');
  }
  return password;
}
