/**
 * `npx nx g @tenantry/tools:service --name <name> [--port <port>] [--streams AUDIT,EVENTS]`
 *
 * Loaded like the feature generator (see there). Writes apps/<name> and adds the
 * service to every list the platform cannot derive from the services table.
 */
import {
  formatFiles,
  generateFiles,
  getProjects,
  joinPathFragments,
  updateJson,
  type Tree,
} from '@nx/devkit';
import path from 'node:path';
import { checkKebabName } from '../utils/names.ts';
import { appendToObject, objectEntries } from '../utils/source.ts';
import { SERVICE_PORTS, SERVICES_FILE, servicePorts } from '../utils/workspace.ts';
import {
  addComposeService,
  addDatabaseSecret,
  addKustomizationResource,
  addToReadme,
} from './platform-files.ts';

export interface ServiceOptions {
  name: string;
  port?: number;
  streams?: string;
}

const FILES = path.join(import.meta.dirname, 'files');
const STREAMS_FILE = 'libs/contracts/src/common/streams.ts';
const BUILD_TSCONFIG = 'tsconfig.build.json';

function normalize(tree: Tree, options: ServiceOptions) {
  const name = checkKebabName('name', options.name, '"notifications"');
  const ports = servicePorts(tree);
  const projects = getProjects(tree);
  if (ports.has(name) || projects.has(name) || tree.exists(`apps/${name}`)) {
    throw new Error(
      `--name "${name}" is taken: ${ports.has(name) ? `${SERVICES_FILE} lists that service` : projects.has(name) ? 'a project has that name' : `apps/${name} exists`}; choose another name`,
    );
  }

  const backendPorts = [...ports].filter(([service]) => service !== 'gateway').map(([, p]) => p);
  const port = options.port ?? Math.max(...backendPorts) + 1;
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new Error(`--port must be an integer from 1024 to 65535; got ${options.port}`);
  }
  const owner = [...ports].find(([, p]) => p === port)?.[0];
  if (owner) throw new Error(`--port ${port} is ${owner}'s; choose a port no service uses`);

  const known = objectEntries(tree, STREAMS_FILE, 'Streams').map(([key]) => key);
  const streams = (options.streams ?? 'AUDIT,EVENTS')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = streams.filter((s) => !known.includes(s));
  if (unknown.length) {
    throw new Error(
      `--streams must be a comma-separated list of ${known.join(', ')}; got ${unknown.join(', ')}`,
    );
  }
  return { name, port, streams };
}

export default async function serviceGenerator(tree: Tree, options: ServiceOptions) {
  const { name, port, streams } = normalize(tree, options);
  const variables = { name, port, streams };

  // The service itself: project, build and test configuration, its definition.
  generateFiles(tree, joinPathFragments(FILES, 'app'), `apps/${name}`, variables);

  // The one list of services (names, backend services and ports derive from it).
  appendToObject(tree, SERVICES_FILE, SERVICE_PORTS, name, String(port));

  // `npm run build` (tsc -b) compiles only what it references.
  updateJson(tree, BUILD_TSCONFIG, (json: { references?: { path: string }[] }) => ({
    ...json,
    references: [...(json.references ?? []), { path: `apps/${name}` }],
  }));

  // Deployment: compose, Kubernetes; deploy/Dockerfile builds any service as it is.
  addComposeService(tree, name, port);
  generateFiles(tree, joinPathFragments(FILES, 'k8s'), 'deploy/k8s', variables);
  addKustomizationResource(tree, name);
  addDatabaseSecret(tree, name);

  addToReadme(tree, name, port);

  await formatFiles(tree);
}
