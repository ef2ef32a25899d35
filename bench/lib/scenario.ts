import type { Markdown } from './markdown';
import type { World } from './world';

/** One scenario of the benchmark: how it loads the world, and its section of the report. */
export interface Scenario {
  /** Its name in `--only=`. */
  name: string;
  run(w: World): Promise<void>;
  /** Writes its section (only called when it ran). */
  report(md: Markdown): void;
  /** Undoes what an interrupted run may have left (called on every exit). */
  cleanUp?(): Promise<void>;
}
