import type { Logger } from '@nestjs/common';

/**
 * Runs `work` now and then every `intervalMs` (a failed pass is logged, throttled, and the
 * next one comes as usual) until `stop()`, which waits for a pass in progress.
 */
export class Periodic {
  private stopped = true;
  private loop?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private wake?: () => void;
  private failures = 0;
  /** Passes completed; for tests and logs. */
  passes = 0;

  constructor(
    private readonly what: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Runs a pass soon instead of at the end of the interval. */
  kick(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.work();
        this.failures = 0;
        this.passes++;
      } catch (error) {
        this.failures++;
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.logger.warn(
            `${this.what} failed (${this.failures} time(s) in a row): ${(error as Error).message}`,
          );
        }
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.intervalMs);
      });
      clearTimeout(this.timer);
      this.wake = undefined;
    }
  }
}
