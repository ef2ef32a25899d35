import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings of the API process, set before any of its modules load (server.ts imports this
 * first). NODE_OPTIONS accepts only a few V8 flags, and these hold for every way the gateway is
 * started (the image, scripts/dev.sh, the benchmarks, the tests).
 *
 * `--no-allocation-site-pretenuring`: V8 watches how many objects of each allocation site survive
 * a young-generation collection and, above a threshold, allocates that site's objects straight in
 * the old generation. Under the direct load some processes took that decision for sites whose
 * objects live about one collection (a request in flight), and settled for good in a mode that
 * promoted about 0.8 MB per young collection instead of 0.08–0.2 MB: the old objects kept their
 * young children alive, and full collections ran two to three times as often. Which processes did
 * was chance (7 of 31 traced); none of 16 did without pretenuring (docs/adr/0012).
 *
 * `--no-maglev`: when load starts, every function on the request path reaches V8's Maglev threshold
 * within a few milliseconds, and Maglev queues a compile job for each without a limit (V8's
 * zone trace: 206 jobs holding 26.7 MB at once); that burst set the process's peak RSS and left
 * glibc's heap 5–15 MB larger for good. TurboFan, which compiles the same hot functions, holds at
 * most 8 jobs. Once warm the CPU per request is the same (docs/adr/0015).
 *
 * `--expose-gc`: installs V8's gc() in contexts made from now on (not in this one, so no module
 * sees a global `gc`); src/lib/freed-memory.ts takes it from a context of its own to run one
 * memory-reducing collection after a Kafka outage's backlog of access events (docs/adr/0016).
 */
setFlagsFromString('--no-allocation-site-pretenuring --no-maglev --expose-gc');
