// Prints the functions with the most self time in a .cpuprofile (from BENCH_PROFILE=1), and the
// share of self time per package. Usage: node bench/lib/profile-summary.mjs <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/lib/profile-summary.mjs <file.cpuprofile> [top=25]\n');
  process.exit(1);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
}
const idleIds = new Set(
  profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id),
);
const all = [...self.values()].reduce((a, b) => a + b, 0);
for (const id of idleIds) self.delete(id);
// percentages are of the busy (non-idle) time
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fnTime = new Map();
const pkgTime = new Map();
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id).callFrame;
  const where = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '');
  const key = `${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`;
  fnTime.set(key, (fnTime.get(key) ?? 0) + us);
  const pkg = !url
    ? functionName.startsWith('(')
      ? functionName
      : '(native)'
    : url.includes('node_modules/')
      ? url
          .split('node_modules/')
          .pop()
          .split('/')
          .slice(0, url.split('node_modules/').pop().startsWith('@') ? 2 : 1)
          .join('/')
      : url.startsWith('node:')
        ? 'node:*'
        : url
            .replace(/^file:\/\//, '')
            .replace(/^.*?\/(apps|libs)\//, '$1/')
            .split('/')
            .slice(0, 2)
            .join('/');
  pkgTime.set(pkg, (pkgTime.get(pkg) ?? 0) + us);
}
const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
console.log(
  `${file}: ${(all / 1e6).toFixed(2)} s sampled, ${(total / 1e6).toFixed(2)} s busy\n\n` +
    'share of busy time by package:',
);
for (const [k, v] of [...pkgTime].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${pct(v)}  ${k}`);
console.log('\nshare of busy time by function (self):');
for (const [k, v] of [...fnTime].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${pct(v)}  ${k}`);
