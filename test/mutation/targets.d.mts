/** Types of targets.mjs (plain JS so that stryker.config.mjs can load it without a TypeScript loader). */
export interface MethodSlice {
  file: string;
  methods: string[];
}
export interface Target {
  why: string;
  mutate: (string | MethodSlice)[];
  tests: string[];
}
export declare const TARGETS: Record<string, Target>;
export declare function selectedTargets(env?: Record<string, string | undefined>): (Target & { name: string })[];
export declare function mutatePatterns(targets: Target[]): Promise<string[]>;
