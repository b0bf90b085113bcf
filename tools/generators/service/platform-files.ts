import { logger, type Tree } from '@nx/devkit';

/**
 * The files outside apps/<name> that list every service and cannot derive the list:
 * docker-compose.yml (one block per service), the Kubernetes Secret and kustomization
 * (kustomize cannot loop or glob) and the README. Each edit appends in the file's own
 * style; the deployment checks (apps/e2e/test/deploy-manifests.spec.ts) then hold the
 * new service to the same rules as the others.
 */

export const COMPOSE_FILE = 'docker-compose.yml';
export const SECRET_FILE = 'deploy/k8s/secret.yaml';
export const KUSTOMIZATION_FILE = 'deploy/k8s/kustomization.yaml';
export const README_FILE = 'README.md';

function read(tree: Tree, file: string): string {
  const text = tree.read(file, 'utf-8');
  if (text === null) throw new Error(`${file} does not exist`);
  return text;
}

/** A service block in docker-compose.yml, built from deploy/Dockerfile's service target. */
export function addComposeService(tree: Tree, name: string, port: number): void {
  const text = read(tree, COMPOSE_FILE);
  const volumes = /^volumes:/m.exec(text);
  if (!volumes)
    throw new Error(`${COMPOSE_FILE}: expected a top-level "volumes:" after the services`);
  const block = `  ${name}:
    <<: *app
    image: tenantry/${name}:latest
    build:
      <<: *build
      args:
        SERVICE: ${name}
        HTTP_PORT: '${port}'
    environment:
      <<: [*app-env, *db-env]
      HTTP_PORT: '${port}'
    depends_on:
      postgres:
        condition: service_healthy
      nats:
        condition: service_healthy
    healthcheck:
      <<: *app-healthcheck
      test:
        - CMD
        - node
        - -e
        - "fetch('http://127.0.0.1:${port}/health/ready', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

`;
  tree.write(COMPOSE_FILE, text.slice(0, volumes.index) + block + text.slice(volumes.index));
}

/** The service's own database Secret (example values), after the others in secret.yaml. */
export function addDatabaseSecret(tree: Tree, name: string): void {
  const text = read(tree, SECRET_FILE).replace(/\n*$/, '\n');
  tree.write(
    SECRET_FILE,
    `${text}---
apiVersion: v1
kind: Secret
metadata:
  name: tenantry-${name}-db
  namespace: tenantry
  labels:
    app.kubernetes.io/name: ${name}
    app.kubernetes.io/part-of: tenantry
type: Opaque
stringData:
  DB_OWNER_PASSWORD: REPLACE_ME_${name}_owner_password
  DB_APP_PASSWORD: REPLACE_ME_${name}_app_password
`,
  );
}

/** `- <name>.yaml` after the last entry of the kustomization's resources. */
export function addKustomizationResource(tree: Tree, name: string): void {
  const text = read(tree, KUSTOMIZATION_FILE);
  const resources = /^resources:\n((?:[ \t]+- .*\n)+)/m.exec(text);
  if (!resources) throw new Error(`${KUSTOMIZATION_FILE}: expected a "resources:" list`);
  const at = resources.index + resources[0].length;
  const indent = /^([ \t]+)- /.exec(resources[1]!)![1];
  tree.write(KUSTOMIZATION_FILE, `${text.slice(0, at)}${indent}- ${name}.yaml\n${text.slice(at)}`);
}

/** Wraps a Markdown list item at 78 columns, continuation lines indented under its text. */
function wrapListItem(item: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of item.split(' ')) {
    if (line && `${line} ${word}`.length > 78) {
      lines.push(line);
      line = `  ${word}`;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line].join('\n');
}

/**
 * The README's lists of services: the default ports, the services with a database and
 * the project table. Prose is not parsed: a list that is not found is left alone, with
 * a warning naming it.
 */
export function addToReadme(tree: Tree, name: string, port: number): void {
  if (!tree.exists(README_FILE)) return;
  let text = read(tree, README_FILE);
  const missed: string[] = [];

  const ports = /^- `HTTP_PORT` defaults: ([^.]*)\./m.exec(text);
  if (ports) {
    const entries = ports[1]!.split(/,\s*/).map((entry) => entry.replace(/\s+/g, ' ').trim());
    const item = `- \`HTTP_PORT\` defaults: ${[...entries, `${name} ${port}`].join(', ')}.`;
    text =
      text.slice(0, ports.index) + wrapListItem(item) + text.slice(ports.index + ports[0].length);
  } else missed.push('the `HTTP_PORT` defaults');

  const databases = /^Services with a database \(([^)]*)\):/m.exec(text);
  if (databases) {
    const at = databases.index + databases[0].length - 2;
    text = `${text.slice(0, at)}, ${name}${text.slice(at)}`;
  } else missed.push('"Services with a database (...)"');

  const e2eRow = /^\| `apps\/e2e` \|/m.exec(text);
  if (e2eRow) {
    const row = `| \`apps/${name}\` | ${name} service: database, streams, health; no features yet |\n`;
    text = text.slice(0, e2eRow.index) + row + text.slice(e2eRow.index);
  } else missed.push('the project table (a row before `apps/e2e`)');

  tree.write(README_FILE, text);
  for (const what of missed) logger.warn(`${README_FILE}: ${what} not found; add ${name} by hand`);
}
