import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Packages that do I/O or need Nest: never in contracts (browsers and the SDK load them). */
const IO_PACKAGES = [
  'typeorm',
  'pg',
  '@nestjs/typeorm',
  'ioredis',
  'bullmq',
  '@nats-io/*',
  '@nestjs/*',
];

/**
 * The library layers, bottom up. Each layer may use the ones listed for it and nothing
 * else of ours; the test harness is for specs, tools' tests and benchmarks only.
 */
const LAYERS = {
  'layer:contracts': [],
  'layer:messaging': ['layer:contracts'],
  'layer:runtime': ['layer:contracts', 'layer:messaging'],
  'layer:persistence': ['layer:contracts', 'layer:messaging', 'layer:runtime'],
  'layer:launcher': ['layer:contracts'],
  'layer:policy-engine': ['layer:contracts'],
  'layer:audit-ledger': ['layer:contracts'],
  'layer:policy-client': [
    'layer:contracts',
    'layer:messaging',
    'layer:runtime',
    'layer:policy-engine',
  ],
  'layer:testing': [
    'layer:contracts',
    'layer:messaging',
    'layer:runtime',
    'layer:persistence',
    'layer:launcher',
  ],
};
const SERVICE_LIBS = [
  'layer:contracts',
  'layer:messaging',
  'layer:runtime',
  'layer:persistence',
  'layer:policy-engine',
  'layer:policy-client',
  'layer:audit-ledger',
];

const NOT_THE_TEST_HARNESS = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        {
          name: '@tenantry/testing',
          message:
            'the test harness is for specs, tools/ tests and bench/ only; production code (and npm start) must not depend on it',
        },
      ],
    },
  ],
};

export default [
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'tmp/**',
      'coverage/**',
      '.nx/**',
      'bench/results/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          // The harness builds on the libraries, and their specs use the harness: a cycle
          // through spec files only (specs are never built or shipped).
          ignoredCircularDependencies: [
            'contracts',
            'messaging',
            'runtime',
            'persistence',
            'launcher',
          ].map((lib) => [lib, 'testing']),
          depConstraints: [
            // A library's specs may use the test harness; its production files may not (below).
            ...Object.entries(LAYERS).map(([sourceTag, allowed]) => ({
              sourceTag,
              onlyDependOnLibsWithTags: [...allowed, 'layer:testing'],
            })),
            // Contracts are pure: no Nest, no drivers.
            { sourceTag: 'layer:contracts', bannedExternalImports: IO_PACKAGES },
            // Services use the service libraries (and, from their specs, the test harness); never another app.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: [...SERVICE_LIBS, 'layer:testing'] },
            // The gateway owns no data.
            {
              sourceTag: 'scope:gateway',
              notDependOnLibsWithTags: ['layer:persistence'],
              bannedExternalImports: ['typeorm', 'pg', '@nestjs/typeorm'],
            },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: [...SERVICE_LIBS, 'layer:testing'] },
            {
              sourceTag: 'type:tools',
              onlyDependOnLibsWithTags: ['layer:contracts', 'layer:launcher', 'layer:testing'],
            },
          ],
        },
      ],
    },
  },
  {
    // Production code of apps and libraries: not the test harness (Nx tags are per project, specs share it).
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'libs/testing/**'],
    rules: NOT_THE_TEST_HARNESS,
  },
  {
    files: ['tools/start.mjs', 'tools/infra.mjs'],
    rules: NOT_THE_TEST_HARNESS,
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
];
