// Loaded into a service with NODE_OPTIONS="--import <this file>" when BENCH_PROFILE=1: records a V8
// CPU profile for the process's whole life and writes it to $BENCH_PROFILE_DIR/<service>-<pid>.cpuprofile
// when the process is told to stop (open it in Chrome DevTools > Performance, or speedscope).
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  const name = basename(dirname(dirname(process.argv[1] ?? 'node'))) || 'node';
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (error, result) => {
      if (error || !result?.profile) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.prependListener('SIGTERM', write);
  process.on('exit', write);
}
