// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

/** Dependencies point one way (STYLE.md §1): nodes → engine; server → engine, nodes; nothing imports server or editor. */
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] })

export default tseslint.config(
  // .tmp/ is the gitignored scratch folder.
  { ignores: ['node_modules/', 'dist/', 'data/', 'coverage/', 'bench/.data/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // A destination's run is an async generator that consumes its inputs and yields nothing.
      'require-yield': 'off',
    },
  },
  {
    files: ['engine/**/*.ts'],
    rules: {
      ...restrict([
        {
          group: ['**/nodes/**', '**/server/**', '**/editor/**'],
          message: 'engine/ is the framework-free core: it imports nothing from nodes/, server/ or editor/.',
        },
        {
          group: [
            'react',
            'react-dom',
            'hono',
            'hono/*',
            '@hono/*',
            'drizzle-orm',
            'drizzle-orm/*',
            'better-sqlite3',
          ],
          message: 'engine/ has no React, no Hono, no database.',
        },
      ]),
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  {
    files: ['nodes/**/*.ts'],
    rules: {
      ...restrict([{ group: ['**/server/**', '**/editor/**'], message: 'nodes/ build on engine/ only.' }]),
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  {
    files: ['server/**/*.ts'],
    rules: restrict([
      { group: ['**/editor/**'], message: 'server/ never imports the editor; share types through engine/.' },
    ]),
  },
  {
    files: ['editor/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: restrict([
      {
        group: ['**/server/**', '**/nodes/**'],
        message: 'The editor talks to the server over HTTP/WebSocket only; it shares types with engine/.',
      },
    ]),
  },
)
