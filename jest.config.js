/** Tests run TypeScript through ts-jest in transpile-only mode; `npm run typecheck` does the type checking. */
export default {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": [
      "ts-jest",
      {
        tsconfig: {
          module: "commonjs",
          moduleResolution: "node",
          esModuleInterop: true,
          target: "ES2022",
          isolatedModules: true,
        },
      },
    ],
  },
  testTimeout: 30000,
  // Every test file gets its own worker-free module registry; 2 workers fit the 2-core CI machine.
  maxWorkers: 2,
};
