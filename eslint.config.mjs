import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.stack/**', 'coverage/**', '*.config.js', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify plugins and handlers are async by contract even when they do not await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node builtins, no I/O clients.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Workflows are deterministic: no Node builtins.' },
            {
              group: [
                'fs',
                'fs/*',
                'path',
                'os',
                'crypto',
                'http',
                'https',
                'net',
                'dns',
                'child_process',
                'worker_threads',
                'stream',
                'zlib',
                'events',
                'timers',
                'util',
              ],
              message: 'Workflows are deterministic: no Node builtins.',
            },
            {
              group: [
                'kafkajs',
                'pg',
                '@mikro-orm/*',
                'undici',
                'fastify',
                'pino',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                '**/activities/**',
                '**/api/**',
                '**/db/**',
                '**/kafka/**',
              ],
              message: 'Workflows do no I/O: call an activity instead.',
            },
          ],
        },
      ],
    },
  },
  {
    // Size rule (issue 14): a file holds one thing, a function fits on a screen.
    files: ['src/**/*.ts', 'fakes/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  prettier,
);
