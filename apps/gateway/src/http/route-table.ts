import { Injectable } from '@nestjs/common';

/** A Fastify route path as a pattern: `:name` is one segment, `*` the rest; no trailing slash (as Fastify). */
function patternOf(url: string): RegExp {
  const parts = url.split('/').map((part) => {
    if (part.startsWith(':')) return '[^/]+';
    if (part === '*') return '.*';
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('/')}$`);
}

/**
 * The gateway's routes, recorded as Fastify registers them, so that a known path
 * asked with the wrong method is a 405 with `Allow` rather than a 404, and so that the
 * start-up check sees every route, including those not made by a Nest controller.
 */
@Injectable()
export class RouteTable {
  private readonly routes: { pattern: RegExp; method: string; url: string }[] = [];

  add(method: string, url: string): void {
    this.routes.push({ pattern: patternOf(url), method: method.toUpperCase(), url });
  }

  /** Every route as registered (the start-up check compares them with the declared ones). */
  entries(): { method: string; url: string }[] {
    return this.routes.map(({ method, url }) => ({ method, url }));
  }

  /** The methods some route answers on this path (HEAD wherever GET), sorted; empty for an unknown path. */
  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) methods.add(route.method);
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }
}
