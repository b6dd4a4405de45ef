#!/usr/bin/env node
// The `chat` command (package.json "bin", so `npx chat ...` in this checkout): runs the compiled CLI
// (`npm run build` compiles src/ to dist/). A checkout not built yet runs the TypeScript sources through tsx,
// a dev dependency, instead of failing with a module-not-found stack trace.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('error: the CLI is not built: run `npm run build` first (not_built)\n');
    process.exit(1);
  }
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
