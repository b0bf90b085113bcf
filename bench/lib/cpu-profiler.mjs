// Loaded into a service with NODE_OPTIONS="--import <this file>" when BENCH_PROFILE=1: records a V8
// CPU profile and writes it to $BENCH_PROFILE_DIR/<service>-<pid>-<n>.cpuprofile when the process is
// told to stop (open it in Chrome DevTools > Performance, or speedscope). SIGUSR2 ends the current
// profile (written as segment n) and starts the next, so a benchmark can cut out one row's window
// (`profileSegment` in common.mjs).
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  const name = basename(dirname(dirname(process.argv[1] ?? 'node'))) || 'node';
  let segment = 0;
  let written = false;
  const save = (then) =>
    session.post('Profiler.stop', (error, result) => {
      if (!error && result?.profile) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(
          join(dir, `${name}-${process.pid}-${segment}.cpuprofile`),
          JSON.stringify(result.profile),
        );
      }
      segment++;
      then?.();
    });
  process.on('SIGUSR2', () => save(() => session.post('Profiler.start')));
  const write = () => {
    if (written) return;
    written = true;
    save();
  };
  process.prependListener('SIGTERM', write);
  process.on('exit', write);
}
