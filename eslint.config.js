import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The pages' scripts (GET /ui, simulate --html): plain browser JS, inlined one after another
    // into one <script> (src/ui/page.ts), so each file's top-level functions are the next one's
    // globals, declared with a `/* global … */` comment where used.
    files: ['src/ui/assets/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        document: 'readonly',
        window: 'readonly',
        location: 'readonly',
        EventSource: 'readonly',
        URLSearchParams: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { vars: 'local', argsIgnorePattern: '^_' }],
    },
  },
  {
    // The engine is pure: no HTTP, validation or metrics code (docs/architecture.md#engine).
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['hono', '@hono/*', 'zod', 'prom-client', '../api/*', '../metrics/*', '../protocol/*'] },
      ],
    },
  },
);
