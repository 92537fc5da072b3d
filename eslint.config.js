// ESLint flat config: typescript-eslint's recommended type-checked rules, no import cycles
// (eslint-plugin-import-x) and, for renderer/, the React hooks rules (eslint-plugin-react-hooks).
// Formatting is Prettier's job, not a lint rule.
// Tests read JSON bodies of the API as `any` on purpose (they assert on what came back), so
// the no-unsafe-* family is off for test files only.
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['node_modules/**', '.tmp/**', 'dist/**', 'renderer/dist/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs', 'vitest.config.ts'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // The renderer's React code: the Rules of Hooks and the React Compiler's checks.
  { ...reactHooks.configs.flat.recommended, files: ['renderer/**/*.ts', 'renderer/**/*.tsx'] },
  {
    files: ['**/*.test.ts', '**/*.test.tsx', '**/test/**/*.ts', 'test/**/*.ts', '**/*.fixture.ts', '**/test-*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
