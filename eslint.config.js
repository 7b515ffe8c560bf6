// @ts-check
/**
 * Lint guards the architecture (docs/adr/0001-project-foundation.md):
 * - a component (src/<component>/) uses another only through its public index.ts, never its
 *   internals; shared types and helpers live in src/api and src/shared;
 * - library code never imports the CLI;
 * - no floating promises; no console outside the CLI, scripts, tests and benchmarks.
 */
import path from 'node:path';
import tseslint from 'typescript-eslint';

const root = path.dirname(new URL(import.meta.url).pathname);
const shared = new Set(['api', 'shared']);

/** @param {string} file */
function componentOf(file) {
  const relative = path.relative(path.join(root, 'src'), file);
  if (relative.startsWith('..')) return undefined;
  return relative.split(path.sep)[0];
}

/** @type {import('eslint').Rule.RuleModule} */
const componentBoundaries = {
  meta: { type: 'problem', schema: [], messages: { crossing: '{{reason}}' } },
  create(context) {
    const importer = componentOf(context.filename);
    /** @param {any} node */
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.') || importer === undefined) return;
      const target = path.resolve(path.dirname(context.filename), source);
      const imported = componentOf(target);
      if (imported === undefined || imported === importer || shared.has(imported)) return;
      let reason;
      if (imported === 'cli') reason = `src/${importer} must not import the CLI`;
      else if (target !== path.join(root, 'src', imported, 'index.ts'))
        reason = `src/${importer} may use src/${imported} only through src/${imported}/index.ts, not its internals`;
      if (reason) context.report({ node: node.source, messageId: 'crossing', data: { reason } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'deploy/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
    plugins: { landlord: { rules: { 'component-boundaries': componentBoundaries } } },
    rules: {
      'landlord/component-boundaries': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      complexity: ['error', 15],
    },
  },
  {
    files: ['src/cli/**', 'scripts/**', 'test/**', 'bench/**', '**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.test.ts', 'test/**'],
    rules: {
      // node:test's describe/it return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
