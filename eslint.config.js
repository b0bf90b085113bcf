import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const IO_PACKAGES = [
  'typeorm',
  'pg',
  '@nestjs/typeorm',
  'ioredis',
  'bullmq',
  '@nats-io/*',
  '@nestjs/*',
];

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
          depConstraints: [
            // Apps use libraries only: an app never imports another app.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
            // Libraries never import apps.
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            // Contracts are pure: no other lib, no Nest, no drivers (browsers and the SDK load them).
            {
              sourceTag: 'purity:pure',
              onlyDependOnLibsWithTags: ['purity:pure'],
              bannedExternalImports: IO_PACKAGES,
            },
            // The gateway owns no data.
            {
              sourceTag: 'scope:gateway',
              notDependOnLibsWithTags: ['data:persistence'],
              bannedExternalImports: ['typeorm', 'pg', '@nestjs/typeorm'],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
];
