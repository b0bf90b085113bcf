/**
 * The generators, run for real: into a scratch copy of the repository (never this one)
 * they add a service and two tenant-scoped features, one to the new service and one to
 * identity; the copy must then build, type-check, format, lint and pass the generated
 * unit specs and the deployment checks, and the new service must start and migrate its
 * database with row-level security on. Integration tier: it is slow (a build of the
 * whole workspace), and it uses the machine's PostgreSQL and NATS at the end.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  cleanupNamespace,
  dropDatabase,
  freePort,
  LOCAL_INFRA,
  testNamespace,
  waitFor,
} from '@tenantry/testing';
import pg from 'pg';
import { parse } from 'yaml';

const REPO = path.resolve(import.meta.dirname, '../..');
const MINUTE = 60_000;

/** What the test generates. */
const SERVICE = { name: 'notifications', port: 3199 };
const FEATURES = [
  {
    service: 'notifications',
    Service: 'Notifications',
    name: 'widget',
    Name: 'Widget',
    plural: 'widgets',
    Plural: 'Widgets',
  },
  {
    service: 'identity',
    Service: 'Identity',
    name: 'team',
    Name: 'Team',
    plural: 'teams',
    Plural: 'Teams',
  },
];

let scratch = '';

/** The repository's files as git sees them (tracked, and new files not ignored), without node_modules. */
function copyRepository(to: string): void {
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 },
  )
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const from = path.join(REPO, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    copyFileSync(from, path.join(to, file));
  }
}

/**
 * node_modules as links to the real one's entries, except the workspace packages
 * (@tenantry/*), which link to the scratch copy's own libs and tools, as npm links them.
 */
function linkNodeModules(to: string): void {
  const real = path.join(REPO, 'node_modules');
  mkdirSync(path.join(to, 'node_modules/@tenantry'), { recursive: true });
  for (const entry of readdirSync(real)) {
    if (entry !== '@tenantry')
      symlinkSync(path.join(real, entry), path.join(to, 'node_modules', entry));
  }
  for (const entry of readdirSync(path.join(real, '@tenantry'))) {
    const link = path.join(real, '@tenantry', entry);
    const target = path.resolve(path.dirname(link), readlinkSync(link));
    const own = path.join(to, path.relative(REPO, target));
    if (!own.startsWith(to)) throw new Error(`@tenantry/${entry} is not a workspace package`);
    symlinkSync(own, path.join(to, 'node_modules/@tenantry', entry));
  }
}

/** The environment of every step: Node and the tools of the scratch copy, no Nx or jest variables of this run. */
function stepEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(NX_|JEST_)|^TEST_TIER$/.test(key)),
  );
  return {
    ...env,
    PATH: [path.join(scratch, 'node_modules/.bin'), path.dirname(process.execPath), env.PATH].join(
      path.delimiter,
    ),
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_SKIP_NX_CACHE: 'true',
    FORCE_COLOR: '0',
    ...extra,
  };
}

function run(command: string, args: string[], extra?: Record<string, string>) {
  const result = spawnSync(command, args, {
    cwd: scratch,
    env: stepEnv(extra),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 10 * MINUTE,
  });
  return {
    step: [command, ...args].join(' '),
    status: result.status,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`,
  };
}

/** Runs a step in the scratch copy; a failure shows the step and the end of its output. */
function expectSuccess(command: string, args: string[], extra?: Record<string, string>): string {
  const { step, status, output } = run(command, args, extra);
  expect({ step, status, output: status === 0 ? '' : output.slice(-6000) }).toEqual({
    step,
    status: 0,
    output: '',
  });
  return output;
}

function generate(...args: string[]): string {
  return expectSuccess('npx', ['nx', 'g', ...args, '--no-interactive']);
}

function read(file: string): string {
  return readFileSync(path.join(scratch, file), 'utf8');
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'tenantry-generators-'));
  copyRepository(scratch);
  linkNodeModules(scratch);
  generate('@tenantry/tools:service', '--name', SERVICE.name, '--port', String(SERVICE.port));
  for (const feature of FEATURES) {
    generate(
      '@tenantry/tools:feature',
      '--service',
      feature.service,
      '--name',
      feature.name,
      '--tenant-scoped',
    );
  }
}, 5 * MINUTE);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('nx g @tenantry/tools:service', () => {
  it('writes a backend service with a database and no features, like apps/identity', () => {
    const { name } = SERVICE;
    expect(JSON.parse(read(`apps/${name}/project.json`))).toMatchObject({
      name,
      tags: ['type:app', `scope:${name}`],
    });
    expect(JSON.parse(read(`apps/${name}/tsconfig.json`))).toEqual(
      JSON.parse(read('apps/identity/tsconfig.json')),
    );
    expect(read(`apps/${name}/jest.config.js`)).toContain(`jestConfig('apps/${name}')`);
    expect(read(`apps/${name}/src/main.ts`)).toBe(read('apps/identity/src/main.ts'));
    expect(read(`apps/${name}/src/app.module.ts`)).toMatch(
      new RegExp(`backendService\\(\\{\\s+name: '${name}',\\s+streams: \\['AUDIT', 'EVENTS'\\],`),
    );
  });

  it('registers it where the platform lists its services', () => {
    const { name, port } = SERVICE;
    expect(read('libs/contracts/src/common/services.ts')).toContain(`  ${name}: ${port},\n`);
    expect(JSON.parse(read('tsconfig.build.json')).references).toContainEqual({
      path: `apps/${name}`,
    });
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { build?: { target?: string; args?: Record<string, string> } }>;
    };
    expect(compose.services[name]?.build).toMatchObject({
      target: 'service',
      args: { SERVICE: name, HTTP_PORT: String(port) },
    });
    expect(existsSync(path.join(scratch, `deploy/k8s/${name}.yaml`))).toBe(true);
    expect(parse(read('deploy/k8s/kustomization.yaml')).resources).toContain(`${name}.yaml`);
    expect(read('deploy/k8s/secret.yaml')).toContain(`name: tenantry-${name}-db`);
    expect(read('README.md')).toContain(`${name} ${port}.`);
  });

  it('refuses a service that exists, naming the option', () => {
    const { status, output } = run('npx', [
      ...['nx', 'g', '@tenantry/tools:service', '--name', 'identity'],
      ...['--dry-run', '--no-interactive'],
    ]);
    expect(status).not.toBe(0);
    expect(output).toContain('--name "identity" is taken');
  });
});

describe('nx g @tenantry/tools:feature --tenant-scoped', () => {
  it.each(FEATURES)(
    '$service/$name: writes the feature folder, its contract, migration and gateway controller',
    ({ service, name, plural }) => {
      for (const role of [
        'entity',
        'repository',
        'service',
        'service.spec',
        'nats-controller',
        'errors',
        'module',
      ]) {
        expect([
          role,
          existsSync(path.join(scratch, `apps/${service}/src/${plural}/${name}.${role}.ts`)),
        ]).toEqual([role, true]);
      }
      expect(read(`libs/contracts/src/${service}/${name}.contract.ts`)).toContain(
        `'${service}.${plural}.create'`,
      );
      const controller = read(`apps/gateway/src/${service}/${name}.controller.ts`);
      expect(controller).toContain(`@Controller('v1/tenants/:tenantId/${plural}')`);
      // Each route's permission, decided by the caller's tenant's policy.
      expect(controller.match(/@Permission\('[^']*'\)/g)).toEqual([
        `@Permission('${plural}:write')`,
        `@Permission('${plural}:read')`,
        `@Permission('${plural}:read')`,
      ]);
      expect(controller).not.toContain('@Allow');
      const migrations = readdirSync(path.join(scratch, `apps/${service}/src/database/migrations`));
      const migration = migrations.find((f) => f.endsWith(`-create-${plural}.ts`));
      expect(migration).toBeDefined();
      expect(read(`apps/${service}/src/database/migrations/${migration}`)).toContain(
        `await enableTenantRls(runner, '${plural}');`,
      );
    },
  );

  it.each(FEATURES)(
    '$service/$name: registers them in the contracts, the service and the gateway',
    ({ service, Service, name, Name, plural, Plural }) => {
      expect(read('libs/contracts/src/index.ts')).toMatch(
        new RegExp(`${Name}Rpc,[^}]*\\} from './${service}/${name}\\.contract\\.js';`),
      );
      const index = read(`apps/${service}/src/database/migrations/index.ts`);
      expect(index).toMatch(new RegExp(`Create${Plural}\\d{13},?\\s*\\];`)); // appended: last in the list
      expect(read(`apps/${service}/src/app.module.ts`)).toMatch(
        new RegExp(
          `import \\{ ${Name}Module \\} from './${plural}/${name}\\.module\\.js';[\\s\\S]*features: \\[[^\\]]*\\b${Name}Module,?\\s*\\]`,
        ),
      );
      expect(read(`apps/gateway/src/${service}/${service}-api.module.ts`)).toMatch(
        new RegExp(`controllers: \\[[^\\]]*\\b${Name}Controller\\b`),
      );
      expect(read('apps/gateway/src/app.module.ts')).toMatch(
        new RegExp(`features: \\[[^\\]]*\\b${Service}ApiModule\\b`),
      );
    },
  );

  it('refuses an unknown service, a bad name and an existing feature, naming the option', () => {
    for (const [args, message] of [
      [['--service', 'nope', '--name', 'thing'], '--service must be an existing backend service'],
      [['--service', 'identity', '--name', 'Users'], '--name must be a kebab-case name'],
      [['--service', 'identity', '--name', 'user'], 'apps/identity/src/users already exists'],
    ] as const) {
      const { status, output } = run('npx', [
        ...['nx', 'g', '@tenantry/tools:feature', ...args],
        ...['--dry-run', '--no-interactive'],
      ]);
      expect([args.join(' '), status === 0, output.includes(message)]).toEqual([
        args.join(' '),
        false,
        true,
      ]);
    }
  });
});

describe('the generated workspace', () => {
  it(
    'builds (tsc -b tsconfig.build.json)',
    () => {
      expectSuccess('npx', ['tsc', '-b', 'tsconfig.build.json']);
    },
    10 * MINUTE,
  );

  it(
    'type-checks with its specs (tsc -p tsconfig.check.json)',
    () => {
      expectSuccess('npx', ['tsc', '-p', 'tsconfig.check.json']);
    },
    5 * MINUTE,
  );

  it(
    'is formatted (prettier --check .)',
    () => {
      expectSuccess('npx', ['prettier', '--check', '--log-level', 'warn', '.']);
    },
    5 * MINUTE,
  );

  it(
    'lints: ESLint with the module boundaries and layers, on every project it changed',
    () => {
      expectSuccess('npx', [
        'eslint',
        ...['apps/notifications', 'apps/identity', 'apps/gateway', 'libs/contracts'],
      ]);
    },
    5 * MINUTE,
  );

  it(
    'passes the generated unit specs and the deployment checks, which now include the new service',
    () => {
      const output = expectSuccess(
        process.execPath,
        [
          ...['--experimental-vm-modules', '--no-warnings=ExperimentalWarning'],
          ...['node_modules/jest/bin/jest.js', '-c', 'jest.config.js', '--ci'],
          ...FEATURES.map((f) => `apps/${f.service}/src/${f.plural}/`),
          'apps/e2e/test/deploy-manifests.spec.ts',
        ],
        { TEST_TIER: 'unit' },
      );
      for (const f of FEATURES)
        expect(output).toMatch(new RegExp(`PASS .*${f.plural}/${f.name}\\.service\\.spec\\.ts`));
      expect(output).toMatch(/PASS .*deploy-manifests\.spec\.ts/);
    },
    5 * MINUTE,
  );
});

describe('the generated service, started from the scratch build', () => {
  const namespace = testNamespace('gen');
  const database = `tenantry_${namespace}_${SERVICE.name}`;
  let service: ChildProcess | undefined;
  let nc: NatsConnection | undefined;
  let log = '';

  afterAll(async () => {
    await nc?.close();
    if (service && service.exitCode === null) {
      const exited = new Promise((resolve) => service!.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    await cleanupNamespace(namespace);
    // cleanupNamespace knows this repository's services; the scratch copy has one more.
    await dropDatabase(LOCAL_INFRA.bootstrapUrl, database, [
      `${database}_app`,
      `${database}_owner`,
    ]);
  }, MINUTE);

  it(
    'migrates its database: widgets exists with row-level security enabled and forced',
    async () => {
      const port = await freePort();
      service = spawn(process.execPath, [`apps/${SERVICE.name}/dist/main.js`], {
        cwd: scratch,
        env: stepEnv({
          TENANTRY_NAMESPACE: namespace,
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: String(port),
          LOG_LEVEL: 'warn',
          NATS_URL: LOCAL_INFRA.natsUrl,
          DB_BOOTSTRAP_URL: LOCAL_INFRA.bootstrapUrl,
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      service.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
      service.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
      await waitFor(
        `${SERVICE.name} to be ready`,
        async () => {
          if (service!.exitCode !== null)
            throw new Error(`it exited (${service!.exitCode}): ${log}`);
          return (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok || undefined;
        },
        { timeoutMs: MINUTE },
      );

      const url = new URL(LOCAL_INFRA.bootstrapUrl);
      url.pathname = `/${database}`;
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        const { rows } = await client.query(
          `SELECT c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
           FROM pg_class c WHERE c.relname = 'widgets' AND c.relkind = 'r'`,
        );
        expect(rows).toEqual([{ enabled: true, forced: true, policies: 1 }]);
      } finally {
        await client.end();
      }
    },
    2 * MINUTE,
  );

  it(
    "answers its feature's requests over NATS, each tenant seeing only its own widgets",
    async () => {
      expect(service?.exitCode).toBeNull();
      nc = await connect({ servers: LOCAL_INFRA.natsUrl });
      const ask = async (verb: string, body: object) =>
        (
          await nc!.request(
            `${namespace}.rpc.${SERVICE.name}.widgets.${verb}`,
            JSON.stringify(body),
            {
              timeout: 5_000,
            },
          )
        ).json<{
          ok: boolean;
          data?: { id: string; items?: unknown[] };
          error?: { code: string };
        }>();
      const [tenant, other] = [
        '0193a0f0-0000-7000-8000-00000000000a',
        '0193a0f0-0000-7000-8000-00000000000b',
      ];

      const created = await ask('create', { tenantId: tenant, name: 'First' });
      expect(created).toMatchObject({ ok: true, data: { tenantId: tenant, name: 'First' } });
      expect(await ask('create', { tenantId: tenant, name: 'First' })).toMatchObject({
        ok: false,
        error: { code: 'CONFLICT', reason: 'WIDGET_NAME_TAKEN' },
      });
      expect(await ask('list', { tenantId: tenant })).toMatchObject({
        ok: true,
        data: { items: [{ id: created.data!.id }], nextCursor: null },
      });
      expect(await ask('list', { tenantId: other })).toMatchObject({
        ok: true,
        data: { items: [] },
      });
      expect(await ask('get', { tenantId: other, id: created.data!.id })).toMatchObject({
        ok: false,
        error: { code: 'NOT_FOUND' },
      });
    },
    MINUTE,
  );
});
