// The Node.js flags the balancer runs with wherever it runs: the image's CMD (Dockerfile, which
// a test keeps equal to this list), `npm start` and the bench.
//
// --max-old-space-size=1024 keeps the old generation from growing to four times its live size
// between full collections. V8 allows that factor only when the heap limit is 2 GiB or more, as
// Node's default is on a machine with a few GiB of memory; at 1 GiB it allows about 1.6x. At 1000
// connections the balancer's live heap is about 17 MiB: with the default, the old generation
// reached 49 MiB before a full collection and the resident memory 139-167 MiB; with 1 GiB it
// stays near 30 MiB and the resident memory near 118 MiB, at the same garbage-collection time
// per request. 1 GiB is far above what the balancer holds (a few KiB per open connection).
// Under a smaller container memory limit (the Helm chart's 256 Mi), that limit is the one that
// counts: the process is stopped at it before V8's heap limit is reached.
export const BALANCER_NODE_FLAGS: readonly string[] = ['--max-old-space-size=1024'];
