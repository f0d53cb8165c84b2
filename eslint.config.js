// ESLint for the TypeScript side (src-core, electron, renderer with its Svelte components, tests,
// scripts, training's TypeScript checks, bench scripts). Formatting is Prettier's (.prettierrc.json);
// `npm run lint` runs both, and ruff (scripts/lint-python.mjs) for training/'s Python.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/dist/', 'out/', '.tmp/', 'training/.work/', 'models/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks what is there on purpose (a rest pattern dropping fields, a handler's unused argument).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Lines under 140 characters; Prettier wraps code, this catches long strings and comments.
      'max-len': ['error', { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true }],
      // Errors are rethrown in the app's own words on purpose; a `cause` would change what crosses the
      // engine and IPC boundaries.
      'preserve-caught-error': 'off',
    },
  },
  {
    // Tests speak the raw protocol and read JSON fixtures: `any` is the honest type there.
    files: ['tests/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['renderer/**/*.{ts,svelte}', 'bench/gpu/**/*.{js,mjs}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
);
