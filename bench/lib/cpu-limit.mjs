// CPU limits for benchmark processes, as a container's CPU limit (Kubernetes `resources.limits.cpu`,
// docker `--cpus`): the process in a cgroup of its own with a CFS quota. cgroup v2 (the unified
// hierarchy with the cpu controller) or v1 (the cpu hierarchy), whichever this machine has
// writable; `cpuLimitSupport()` says which, or why neither.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PERIOD_US = 100_000;
/** Groups made and not yet removed: removed at exit too (a run that failed midway). */
const live = new Set();
process.on('exit', () => {
  for (const limit of live) limit.release();
});
/** cpuLimitSupport() as the first limitCpu found it (probed once per run). */
let probed;
const V2_ROOT = '/sys/fs/cgroup';
const V1_ROOT = '/sys/fs/cgroup/cpu';

/** `{ kind: 'v2' | 'v1', root }`, or `{ kind: null, why }` when no cpu controller is writable here. */
export function cpuLimitSupport() {
  try {
    const controllers = join(V2_ROOT, 'cgroup.controllers');
    if (existsSync(controllers) && readFileSync(controllers, 'utf8').split(/\s+/).includes('cpu'))
      return probe({ kind: 'v2', root: V2_ROOT });
    if (existsSync(join(V1_ROOT, 'cpu.cfs_quota_us'))) return probe({ kind: 'v1', root: V1_ROOT });
    return { kind: null, why: 'no cgroup cpu controller (v2 or v1) mounted' };
  } catch (error) {
    return { kind: null, why: `cgroup cpu controller not usable: ${error.message}` };
  }
}

/** Creates and removes a test group: the controller is there and this process may write it. */
function probe(support) {
  const dir = join(support.root, `tenantry-bench-probe-${process.pid}`);
  mkdirSync(dir);
  try {
    if (support.kind === 'v2') {
      const subtree = readFileSync(join(support.root, 'cgroup.subtree_control'), 'utf8');
      if (!subtree.split(/\s+/).includes('cpu'))
        writeFileSync(join(support.root, 'cgroup.subtree_control'), '+cpu');
    }
  } finally {
    rmdirSync(dir);
  }
  return support;
}

/**
 * Limits `pid` (every thread of it) to `cores` CPUs' worth of time per 100 ms period, in a
 * cgroup named after `name`. Returns `release()`: the process goes back to the root group (if it
 * still runs) and the group is removed. Throws when the machine has no usable controller.
 */
export function limitCpu(pid, cores, name) {
  const support = (probed ??= cpuLimitSupport());
  if (!support.kind) throw new Error(support.why);
  const dir = join(support.root, `tenantry-bench-${name}-${pid}`);
  mkdirSync(dir, { recursive: true });
  const quota = Math.max(1_000, Math.round(cores * PERIOD_US));
  if (support.kind === 'v2') writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
  else {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
  }
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  const limit = {
    dir,
    release() {
      live.delete(limit);
      try {
        if (existsSync(`/proc/${pid}`))
          writeFileSync(join(support.root, 'cgroup.procs'), String(pid));
      } catch {
        // gone meanwhile
      }
      try {
        rmdirSync(dir);
      } catch {
        // still has a task (a process that would not leave): left for the next boot
      }
    },
  };
  live.add(limit);
  return limit;
}
