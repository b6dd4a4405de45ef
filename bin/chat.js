#!/usr/bin/env node
// The `chat` command: runs the compiled CLI (npm run build compiles src/ to dist/).
import '../dist/cli/main.js';
