import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Tests run against sources: workspace imports resolve to src/, so no build is needed first.
const alias = [
  {
    find: /^@tapedeck\/(types|sse|recorder|replayer|otel)$/,
    replacement: `${root}packages/$1/src/index.ts`,
  },
  {
    find: /^@tapedeck\/(types|sse|recorder|replayer|otel)\/([a-z-]+)$/,
    replacement: `${root}packages/$1/src/$2.ts`,
  },
];

const project = (name: string, dir: string) => ({
  extends: true as const,
  test: { name, root: `${root}${dir}`, include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      project('types', 'packages/types'),
      project('sse', 'packages/sse'),
      project('recorder', 'packages/recorder'),
      project('replayer', 'packages/replayer'),
      project('otel', 'packages/otel'),
      {
        ...project('cli', 'apps/cli'),
        test: {
          ...project('cli', 'apps/cli').test,
          // The cli tests run the built CLI as a subprocess; this builds it and its dependencies.
          globalSetup: ['test/global-setup.ts'],
        },
      },
      { extends: true, test: { name: 'integration', root, include: ['test/**/*.test.ts'] } },
    ],
    testTimeout: 20_000,
    // The JSON report feeds .ci/run's summary line.
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
