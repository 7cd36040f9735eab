// The status line of a running benchmark, on stderr so stdout keeps only the
// report. A terminal gets one line rewritten in place; a pipe or a log file
// gets a line every few seconds (and at each phase change) instead of escape codes.
import type { BenchPhase, BenchProgress } from './runner.js';

/** How often a non-terminal stream gets a line. */
export const PROGRESS_LINE_INTERVAL_SEC = 5;

export interface ProgressSink {
  update(progress: BenchProgress): void;
  /** Ends the status line (a terminal's cursor goes to a fresh line). */
  done(): void;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

/** One line of text for a progress report, without newline. */
export function formatProgress(progress: BenchProgress): string {
  const where =
    progress.total !== undefined
      ? `${progress.done ?? 0}/${progress.total} ops`
      : progress.totalSec !== undefined
        ? `${fixed(progress.elapsedSec, 0)}/${fixed(progress.totalSec, 0)} s`
        : `${fixed(progress.elapsedSec, 0)} s`;
  const last = progress.last;
  const rate = last ? `${fixed(last.opsPerSec, 0)} ops/s, p50 ${fixed(last.p50Ms, 2)} ms, p99 ${fixed(last.p99Ms, 2)} ms` : 'no full second yet';
  return `${progress.phase.padEnd(7)} ${where}: ${rate}, errors ${progress.errors}, generator CPU ${fixed(progress.cpuPctOfOneCore, 0)}%`;
}

export function createProgress(opts: { stream: ProgressStream; quiet?: boolean }): ProgressSink {
  if (opts.quiet) return { update: () => undefined, done: () => undefined };
  const stream = opts.stream;
  if (stream.isTTY) {
    let shown = false;
    return {
      update: (progress) => {
        stream.write(`\r\x1b[2K${formatProgress(progress)}`);
        shown = true;
      },
      done: () => {
        if (shown) stream.write('\n');
        shown = false;
      },
    };
  }
  let lastPhase: BenchPhase | undefined;
  let lastLineSec = -Infinity;
  return {
    update: (progress) => {
      if (progress.phase === lastPhase && progress.elapsedSec - lastLineSec < PROGRESS_LINE_INTERVAL_SEC) return;
      lastPhase = progress.phase;
      lastLineSec = progress.elapsedSec;
      stream.write(`${formatProgress(progress)}\n`);
    },
    done: () => undefined,
  };
}
