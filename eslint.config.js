// Lint exists here mainly to keep the runtime portable: code that ships to routers runs
// on QuickJS, which has no Node built-ins. Only core/src/platform/node may use them.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...new Set(builtinModules.flatMap((m) => [m, `node:${m}`, `${m}/*`, `node:${m}/*`]))];

// What runs on the router. The SDK's test host and lab (sdk/src/testing, sdk/src/lab) are
// Node-only test tooling and may use Node; its plugin API (sdk/src/index.ts) may not.
const runtimeFiles = ['core/src/**/*.ts', 'plugins/*/src/**/*.ts', 'examples/plugins/*/src/**/*.ts', 'sdk/src/index.ts'];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.cache/**', '**/generated/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-debugger': 'error',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: runtimeFiles,
    ignores: ['core/src/platform/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.filter((m) => !m.endsWith('/*')).map((name) => ({
            name,
            message: 'Runtime code must run on QuickJS: reach the OS through the Platform (core/src/platform).',
          })),
          patterns: [{ group: ['node:*'], message: 'Runtime code must not import Node built-ins.' }],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', 'require', '__dirname', '__filename', 'global', 'setImmediate', 'TextEncoder', 'TextDecoder'].map(
          (name) => ({ name, message: `${name} does not exist on QuickJS; use the Platform or core/src/util.` }),
        ),
        ...['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval'].map((name) => ({
          name,
          message: `${name}: use the injected Clock so tests can run time fast and qjs uses os timers.`,
        })),
      ],
    },
  },
);
