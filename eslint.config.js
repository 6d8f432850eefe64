// Lint rules: the recommended sets, plus bans on the sources of nondeterminism docs/design.md forbids.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', '.build/**', 'node_modules/**', 'test/fixtures/**', 'docs/reference/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'Output must not depend on randomness (docs/design.md rule 1).' },
        { property: 'localeCompare', message: 'Sort bytewise with compareNames (docs/design.md rule 2).' },
      ],
      'no-restricted-syntax': ['error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Never read the clock for output (docs/design.md rule 1).' },
      ],
    },
  },
);
