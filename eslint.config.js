import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.tools/**', 'infra/images/.cache/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    // A domain declares the ports it needs (domain/ports.ts); adapters and frameworks stay outside.
    files: ['services/*/src/domain/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/data-access/**', '**/entry-points/**'], message: 'Declare a port in the domain.' },
            {
              group: ['express', 'mongoose', 'ioredis', 'kafkajs', 'mongodb'],
              message: 'No framework or driver in a domain.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/test/**', 'tests/**', 'bench/**', 'scripts/**', '**/cli/**'],
    rules: { 'no-console': 'off' },
  },
  prettier,
);
