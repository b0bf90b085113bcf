import { Injectable } from '@nestjs/common';

/**
 * The gateway's routes, recorded as Fastify registers them, so that a known path
 * asked with the wrong method is a 405 with `Allow` rather than a 404.
 */
@Injectable()
export class RouteTable {
  private readonly routes: { pattern: RegExp; method: string }[] = [];

  add(method: string, url: string): void {
    const pattern = new RegExp(
      `^${url
        .split('/')
        .map((part) =>
          part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/')}/?$`,
    );
    this.routes.push({ pattern, method: method.toUpperCase() });
  }

  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) methods.add(route.method);
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }
}
