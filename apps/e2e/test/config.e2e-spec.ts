import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@tenantry/testing';

function runService(service: string, env: Record<string, string>) {
  return spawnSync(process.execPath, [join(REPO_ROOT, 'apps', service, 'dist', 'main.js')], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('configuration errors stop a service with one line naming the variable', () => {
  it('a bad value: exit code 78 and one line on stderr', () => {
    const result = runService('audit', { DB_PORT: 'abc' });
    expect(result.status).toBe(78);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      'audit: invalid configuration: DB_PORT must be a PostgreSQL port number from 1 to 65535 (got "abc")',
    );
  });

  it('several bad values are all named in that one line', () => {
    const result = runService('gateway', { HTTP_PORT: '99999', NATS_URL: 'localhost:4222' });
    expect(result.status).toBe(78);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(
      'HTTP_PORT must be a HTTP port number from 1 to 65535 (got "99999")',
    );
    expect(result.stderr).toContain(
      'NATS_URL must be a nats:// or tls:// URL (got "localhost:4222")',
    );
  });
});

describe('npm start with infrastructure missing', () => {
  it('names what is not reachable, how to start it, and exits non-zero without starting anything', () => {
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'tools', 'start.mjs')], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NATS_URL: 'nats://127.0.0.1:1',
        REDIS_URL: 'redis://127.0.0.1:1',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'NATS is not reachable at 127.0.0.1:1: start it with JetStream',
    );
    expect(result.stderr).toContain('Redis is not reachable at 127.0.0.1:1');
    expect(result.stderr).not.toContain('PostgreSQL is not reachable');
    expect(result.stdout).not.toContain('Building');
  });
});
