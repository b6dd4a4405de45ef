import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { selectedTargets } from './test/mutation/targets.mjs';

/**
 * The vitest config of `npm run mutation` (stryker.config.mjs): only the fast suites that judge the mutated code
 * (test/mutation/targets.mjs), embedded backend only. Stryker's vitest runner runs them in one worker thread.
 */
const include = [...new Set(selectedTargets().flatMap((t) => t.tests))];

/**
 * Files run in the order the targets list them, fastest first: Stryker stops a mutant's run at its first failing
 * test, so a unit test that kills it in milliseconds should run before an end-to-end suite that takes seconds.
 */
class TargetOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => include.indexOf(relative(process.cwd(), f.moduleId));
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    sequence: { sequencer: TargetOrder },
  },
});
