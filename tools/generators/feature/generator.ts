/**
 * `npx nx g @tenantry/tools:feature --service <service> --name <name> [--plural <plural>] [--tenant-scoped]`
 *
 * Nx finds the plugin through the npm workspace link node_modules/@tenantry/tools
 * (tools/package.json "generators") and loads this file with Node's own TypeScript
 * type stripping, as an ES module: relative imports name their `.ts` file, and only
 * erasable syntax is allowed (tools/generators/tsconfig.json checks both).
 */
import { formatFiles, generateFiles, joinPathFragments, type Tree } from '@nx/devkit';
import path from 'node:path';
import { checkKebabName, nameForms, pluralOf, type NameForms } from '../utils/names.ts';
import { addImport, appendToArray, exportedNames } from '../utils/source.ts';
import { appModulePath, backendServices } from '../utils/workspace.ts';

export interface FeatureOptions {
  service: string;
  name: string;
  plural?: string;
  tenantScoped?: boolean;
}

const FILES = path.join(import.meta.dirname, 'files');
const CONTRACTS_INDEX = 'libs/contracts/src/index.ts';
const GATEWAY_APP_MODULE = 'apps/gateway/src/app.module.ts';

/**
 * Names in scope in the generated code that the feature's own names would clash with
 * (`const user = …` beside `service` and `rows` in the spec, the imports of the service).
 */
const GENERATED_LOCALS = [
  'manager',
  'service',
  'rows',
  'setup',
  'double',
  'expect',
  'inject',
  'injectable',
  'r',
];
const KEYWORDS = `await break case catch class const continue debugger default delete do else enum
  export extends false finally for function if implements import in instanceof interface let new
  null package private protected public return static super switch this throw true try typeof var
  void while with yield`.split(/\s+/);
/** A feature with one of these names would not compile. */
const RESERVED = new Set([...GENERATED_LOCALS, ...KEYWORDS]);

interface Feature {
  service: NameForms;
  feature: NameForms;
  features: NameForms;
  tenantScoped: boolean;
  /** apps/<service>/src/<plural> */
  folder: string;
  contractFile: string;
  gatewayFolder: string;
  gatewayModuleFile: string;
  migrationsFolder: string;
}

/** Sorted as the hand-written imports are: values, then types, each case-insensitively. */
function importList(values: string[], types: string[]): string[] {
  const sort = (names: string[]) =>
    [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  return [...sort(values), ...sort(types).map((t) => `type ${t}`)];
}

function normalize(tree: Tree, options: FeatureOptions): Feature {
  const services = backendServices(tree);
  if (!services.includes(options.service)) {
    throw new Error(
      `--service must be an existing backend service (apps/<service> with a backendService(...) app module): ` +
        `one of ${services.join(', ')}; got ${JSON.stringify(options.service)}. ` +
        'Add a new one first with `npx nx g @tenantry/tools:service --name <name>`.',
    );
  }
  const name = checkKebabName('name', options.name, '"user" or "api-key" (singular)');
  if (RESERVED.has(name)) {
    throw new Error(
      `--name "${name}" would clash with a JavaScript keyword or a name the generated code uses; choose another`,
    );
  }
  const plural = checkKebabName('plural', options.plural ?? pluralOf(name), '"users"');
  if (plural === name) throw new Error(`--plural must differ from --name (both are "${name}")`);

  const service = nameForms(options.service);
  const feature = nameForms(name);
  const features = nameForms(plural);
  const result: Feature = {
    service,
    feature,
    features,
    tenantScoped: options.tenantScoped ?? false,
    folder: `apps/${service.kebab}/src/${features.kebab}`,
    contractFile: `libs/contracts/src/${service.kebab}/${feature.kebab}.contract.ts`,
    gatewayFolder: `apps/gateway/src/${service.kebab}`,
    gatewayModuleFile: `apps/gateway/src/${service.kebab}/${service.kebab}-api.module.ts`,
    migrationsFolder: `apps/${service.kebab}/src/database/migrations`,
  };

  for (const [file, what] of [
    [result.folder, 'feature folder'],
    [result.contractFile, 'contract'],
    [`${result.gatewayFolder}/${feature.kebab}.controller.ts`, 'gateway controller'],
  ] as const) {
    if (tree.exists(file)) {
      throw new Error(
        `--name "${name}": the ${what} ${file} already exists; choose another feature name (or --plural)`,
      );
    }
  }
  const exported = exportedNames(tree, CONTRACTS_INDEX);
  const { values, types } = contractExports(result);
  const taken = [...values, ...types].filter((n) => exported.has(n));
  if (taken.length) {
    throw new Error(
      `--name "${name}": ${CONTRACTS_INDEX} already exports ${taken.join(', ')}; choose another feature name`,
    );
  }
  if (!tree.exists(`${result.migrationsFolder}/index.ts`)) {
    throw new Error(`--service "${service.kebab}" has no ${result.migrationsFolder}/index.ts`);
  }
  return result;
}

function contractExports({ feature, features }: Feature) {
  const c = feature.className;
  return {
    values: [
      `Create${c}RequestSchema`,
      `Get${c}RequestSchema`,
      `List${features.className}RequestSchema`,
      `${c}PageSchema`,
      `${c}Rpc`,
      `${c}Schema`,
    ],
    types: [`Create${c}Request`, c, `${c}Page`],
  };
}

/** A TypeORM migration name ends in a 13-digit timestamp; this one sorts after every existing migration. */
function nextMigrationTimestamp(tree: Tree, folder: string): number {
  const existing = tree
    .children(folder)
    .map((file) => /^(\d{13})-/.exec(file)?.[1])
    .filter((t): t is string => t !== undefined)
    .map(Number);
  return Math.max(Date.now(), ...existing.map((t) => t + 1));
}

export default async function featureGenerator(tree: Tree, options: FeatureOptions) {
  const f = normalize(tree, options);
  const { feature, features, service, tenantScoped } = f;
  const c = feature.className;
  const timestamp = nextMigrationTimestamp(tree, f.migrationsFolder);
  const migrationClass = `Create${features.className}${timestamp}`;
  const exports = contractExports(f);
  const variables = {
    service,
    feature,
    features,
    tenantScoped,
    migrationClass,
    featuresTitle: features.words[0]!.toUpperCase() + features.words.slice(1),
    aFeature: `${/^[aeio]/.test(feature.words) ? 'an' : 'a'} ${feature.words}`,
    alias: feature.kebab[0]!,
    route: tenantScoped ? `v1/tenants/:tenantId/${features.kebab}` : `v1/${features.kebab}`,
    // The permission each route takes (`<plural>:read` / `<plural>:write`), in the caller's
    // tenant's policy (tenant-scoped features: by default the tenant's admins, operators and API
    // keys with the scope), or in the platform's (platform features: operators and platform keys).
    access: (verb: 'read' | 'write') =>
      tenantScoped
        ? `'${features.kebab}:${verb}'`
        : `'${features.kebab}:${verb}', { platform: true }`,
    serviceContractImports: importList(
      ['Cursor', 'UuidSchema'],
      [`Create${c}Request`, 'PageQuery', c, `${c}Page`],
    ),
    gatewayContractImports: tenantScoped
      ? importList(
          [
            `Create${c}RequestSchema`,
            `Get${c}RequestSchema`,
            'PageQuerySchema',
            `${c}PageSchema`,
            `${c}Rpc`,
            `${c}Schema`,
            'strictObject',
            'UuidSchema',
          ],
          ['PageQuery', 'RpcPayload'],
        )
      : importList(
          [
            `Create${c}RequestSchema`,
            `Get${c}RequestSchema`,
            `List${features.className}RequestSchema`,
            `${c}PageSchema`,
            `${c}Rpc`,
            `${c}Schema`,
          ],
          [`Create${c}Request`, 'RpcPayload'],
        ),
    // File-name placeholders: __name__, __plural__, __serviceName__, __timestamp__.
    name: feature.kebab,
    plural: features.kebab,
    serviceName: service.kebab,
    timestamp: String(timestamp),
  };

  // The feature folder, its contract and migration, its gateway controller.
  generateFiles(tree, joinPathFragments(FILES, 'app'), f.folder, variables);
  generateFiles(
    tree,
    joinPathFragments(FILES, 'contract'),
    path.dirname(f.contractFile),
    variables,
  );
  generateFiles(tree, joinPathFragments(FILES, 'migration'), f.migrationsFolder, variables);
  generateFiles(tree, joinPathFragments(FILES, 'gateway'), f.gatewayFolder, variables);

  // Contracts: the feature's named exports.
  const list = [...exports.values.sort(), ...exports.types.sort().map((t) => `type ${t}`)];
  tree.write(
    CONTRACTS_INDEX,
    `${tree.read(CONTRACTS_INDEX, 'utf-8')}export {\n  ${list.join(',\n  ')},\n} from './${service.kebab}/${feature.kebab}.contract.js';\n`,
  );

  // The service: its migration, in order, and its feature module.
  const migrationsIndex = `${f.migrationsFolder}/index.ts`;
  addImport(tree, migrationsIndex, [migrationClass], `./${timestamp}-create-${features.kebab}.js`);
  appendToArray(tree, migrationsIndex, 'migrations', migrationClass);
  // An empty service's list says it has no tables yet; from now on it has.
  tree.write(
    migrationsIndex,
    tree.read(migrationsIndex, 'utf-8')!.replace(/^\/\*\* No tables yet[^\n]*\*\/\n/m, ''),
  );
  const appModule = appModulePath(service.kebab);
  addImport(tree, appModule, [`${c}Module`], `./${features.kebab}/${feature.kebab}.module.js`);
  appendToArray(tree, appModule, 'features', `${c}Module`);

  // The gateway: the controller in the service's API module (created with its first feature).
  if (tree.exists(f.gatewayModuleFile)) {
    const file = f.gatewayModuleFile;
    addImport(tree, file, [`${c}Controller`], `./${feature.kebab}.controller.js`);
    appendToArray(tree, file, 'controllers', `${c}Controller`);
    if (!tree.read(file, 'utf-8')!.includes('IdempotencyModule')) {
      addImport(tree, file, ['IdempotencyModule'], '../idempotency/idempotency.module.js');
      const text = tree.read(file, 'utf-8')!;
      tree.write(
        file,
        /\bimports:\s*\[/.test(text)
          ? text.replace(/\bimports:\s*\[/, 'imports: [IdempotencyModule, ')
          : text.replace('@Module({', '@Module({ imports: [IdempotencyModule], '),
      );
    }
  } else {
    generateFiles(tree, joinPathFragments(FILES, 'gateway-module'), f.gatewayFolder, variables);
    addImport(
      tree,
      GATEWAY_APP_MODULE,
      [`${service.className}ApiModule`],
      `./${service.kebab}/${service.kebab}-api.module.js`,
    );
    appendToArray(tree, GATEWAY_APP_MODULE, 'features', `${service.className}ApiModule`);
  }

  await formatFiles(tree);
}
