// Checks that PostgreSQL, Redis and NATS (with JetStream) answer, and says how to start whichever does not.
import { Socket } from 'node:net';

function canConnect(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

function hostPort(url, defaultPort) {
  const u = new URL(url.split(',')[0]);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
}

export async function checkInfrastructure(env = process.env) {
  const natsUrl = env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const pgUrl =
    env.DB_BOOTSTRAP_URL ||
    `postgres://postgres@${env.DB_HOST ?? '127.0.0.1'}:${env.DB_PORT ?? 5432}/postgres`;
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const checks = [
    {
      name: 'PostgreSQL',
      ...hostPort(pgUrl, 5432),
      how: "start it, e.g. 'pg_ctlcluster 15 main start' (Debian) or 'docker compose up -d postgres'; if it runs elsewhere set DB_BOOTSTRAP_URL (a superuser URL, used to create databases) and DB_HOST/DB_PORT (where the services connect)",
    },
    {
      name: 'Redis',
      ...hostPort(redisUrl, 6379),
      how: "start it, e.g. 'redis-server --daemonize yes' or 'docker compose up -d redis'; set REDIS_URL if it runs elsewhere",
    },
    {
      name: 'NATS',
      ...hostPort(natsUrl, 4222),
      how: "start it with JetStream, e.g. 'nats-server -js -sd /var/lib/nats-server &' or 'docker compose up -d nats'; set NATS_URL if it runs elsewhere",
    },
  ];
  const problems = [];
  for (const check of checks) {
    if (!(await canConnect(check.host, check.port))) {
      problems.push(`${check.name} is not reachable at ${check.host}:${check.port}: ${check.how}`);
    }
  }
  if (!problems.some((p) => p.startsWith('NATS'))) {
    const { connect } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: natsUrl, timeout: 3000 });
    try {
      await nc.request('$JS.API.INFO', '', { timeout: 2000 });
    } catch {
      problems.push(
        `NATS at ${natsUrl} runs without JetStream: restart it with '-js' (and a store dir, '-sd <dir>')`,
      );
    } finally {
      await nc.close();
    }
  }
  return problems;
}
