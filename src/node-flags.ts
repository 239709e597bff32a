/**
 * The flags of Node.js the exporter is started with: by the image's
 * ENTRYPOINT, `npm start`, `npm run demo` and the benchmark (tests hold them
 * to this list). Started otherwise (`npx`, the `mistral-admin-exporter`
 * bin), `NODE_OPTIONS` can give them.
 *
 * `--max-semi-space-size=4`: V8's young generation at most 4 MiB a half
 * rather than 16. A refresh of a large organization builds some 100 000
 * series that live until they are rendered, and each scavenge copies what is
 * alive in the young generation with the event loop stopped: a smaller one
 * copies less at a time. Measured at 12 600 members (bench/refresh-phases.ts
 * under --trace-gc-nvp): the longest pause 28 ms instead of 50, the same
 * total time in the collector; and 20 MiB less resident at rest.
 */
export const NODE_FLAGS = ['--max-semi-space-size=4'] as const;
