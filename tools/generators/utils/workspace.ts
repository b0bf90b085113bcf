import type { Tree } from '@nx/devkit';
import { objectEntries } from './source.ts';

/** The one list of services and their default HTTP ports. */
export const SERVICES_FILE = 'libs/contracts/src/common/services.ts';
export const SERVICE_PORTS = 'SERVICE_PORTS';

/** The services table, in order: name → default HTTP port. */
export function servicePorts(tree: Tree): Map<string, number> {
  return new Map(objectEntries(tree, SERVICES_FILE, SERVICE_PORTS).map(([k, v]) => [k, Number(v)]));
}

export function appModulePath(service: string): string {
  return `apps/${service}/src/app.module.ts`;
}

/** Services that own a database and answer over NATS: their app.module.ts is a `backendService(...)`. */
export function backendServices(tree: Tree): string[] {
  return [...servicePorts(tree).keys()].filter((service) =>
    (tree.read(appModulePath(service), 'utf-8') ?? '').includes('backendService('),
  );
}
