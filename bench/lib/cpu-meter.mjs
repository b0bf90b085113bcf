// CPU accounting for benchmarks: per-process CPU (utime + stime from /proc) over a window,
// for named pids, nats-server (found by its port), all PostgreSQL processes together, the
// whole machine, and what else ran.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * CPU use over a window, in % of one core (100 = one core busy), from /proc: the named processes,
 * nats-server (the one listening on the NATS URL's port), every `postgres` process summed, what
 * else ran on the machine (`other`), and the whole machine (`machine`, out of nproc x 100).
 */
export function cpuMeter(base, natsUrl) {
  const natsPort = new URL(natsUrl).port || '4222';
  const statOf = (pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { comm, ticks: Number(fields[11]) + Number(fields[12]) }; // utime + stime, 100/s
    } catch {
      return null;
    }
  };
  const allPids = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const natsPid = allPids().find((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return (
        /nats-server$/.test(argv[0]) &&
        argv.some((a, i) => a === natsPort && ['-p', '--port'].includes(argv[i - 1]))
      );
    } catch {
      return false;
    }
  });
  const everyProcess = () => {
    const out = new Map();
    for (const pid of allPids()) {
      const st = statOf(pid);
      if (st) out.set(pid, st);
    }
    return out;
  };
  const machine = () => {
    const n = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { total: n.reduce((a, b) => a + b, 0), idle: n[3] + n[4] };
  };
  const cores = cpus().length;
  return {
    start(extra = {}) {
      const pids = { ...base, ...(natsPid ? { nats: natsPid } : {}), ...extra };
      const t0 = process.hrtime.bigint();
      const before = Object.fromEntries(
        Object.entries(pids).map(([k, p]) => [k, statOf(p)?.ticks ?? null]),
      );
      const all0 = everyProcess();
      const m0 = machine();
      const sample = () => {
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const pct = (ticks) => Math.round((ticks / 100 / seconds) * 100);
        const out = {};
        // unrounded CPU seconds of each named process (clock ticks, 10 ms resolution)
        const cpuSeconds = {};
        let known = 0;
        for (const [k, p] of Object.entries(pids)) {
          const t = statOf(p)?.ticks ?? null;
          if (t === null || before[k] === null) continue;
          out[k] = pct(t - before[k]);
          cpuSeconds[k] = (t - before[k]) / 100;
          known += t - before[k];
        }
        // every other process, by command name: postgres backends, and whatever else ran
        const byComm = new Map();
        const named = new Set(Object.values(pids).map(String));
        for (const [pid, st] of everyProcess()) {
          if (named.has(pid)) continue;
          const delta = st.ticks - (all0.get(pid)?.ticks ?? 0);
          if (delta > 0) byComm.set(st.comm, (byComm.get(st.comm) ?? 0) + delta);
        }
        const pgTicks = byComm.get('postgres') ?? 0;
        byComm.delete('postgres');
        out.postgres = pct(pgTicks);
        cpuSeconds.postgres = pgTicks / 100;
        known += pgTicks;
        const others = [...byComm].sort((a, b) => b[1] - a[1]).filter(([, t]) => pct(t) >= 2);
        const m1 = machine();
        const busyShare = 1 - (m1.idle - m0.idle) / (m1.total - m0.total || 1);
        out.machine = Math.round(busyShare * cores * 100);
        // CPU outside the processes above: other programs on this shared machine, and processes
        // that came and went within the window; `otherTop` names the biggest of the former
        out.other = Math.max(0, out.machine - pct(known));
        if (others.length)
          out.otherTop = Object.fromEntries(others.slice(0, 3).map(([c, t]) => [c, pct(t)]));
        return { seconds, percent: out, cpuSeconds };
      };
      // stop(): CPU% since start(); sample(): the same, the window's length and each named
      // process's CPU seconds; the meter goes on
      return { stop: () => sample().percent, sample };
    },
  };
}

/** CPU milliseconds each process spent per successful operation, from a row's cpuPercent and rate. */
export function cpuMsPerOp(cpuPercent, perSec) {
  return Object.fromEntries(
    Object.entries(cpuPercent)
      .filter(([k, v]) => !['machine', 'other', 'otherTop'].includes(k) && v > 0)
      .map(([k, v]) => [k, +((v / 100 / perSec) * 1000).toFixed(3)]),
  );
}

/** CPU milliseconds each process spent per operation, from unrounded CPU seconds (`sample().cpuSeconds`). */
export function cpuMsPerOpFromSeconds(cpuSeconds, ops) {
  return Object.fromEntries(
    Object.entries(cpuSeconds).map(([k, v]) => [k, +((v * 1000) / ops).toFixed(3)]),
  );
}
